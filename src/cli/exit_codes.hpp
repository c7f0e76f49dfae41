// Exit codes of every verb (documented in `netlab --help`, netlab(1) and docs/errors.md).
#pragma once

namespace netlab::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUserError = 1;    // bad file, bad option, unknown lab/node
inline constexpr int kExitSystemError = 2;  // the kernel or the system refused
inline constexpr int kExitPartial = 3;      // destroy could not remove everything (listed)
inline constexpr int kExitChecksFailed = 4; // netlab test: at least one check failed
inline constexpr int kExitSigint = 130;     // interrupted by SIGINT (128 + 2)
inline constexpr int kExitSigterm = 143;    // interrupted by SIGTERM (128 + 15)

/// The exit codes as the top-level usage and the man page list them.
inline const char* exit_codes_text() {
  return "0 ok, 1 user error (bad file, bad option, unknown lab),\n"
         "            2 system error (the kernel refused), 3 destroy left objects behind,\n"
         "            4 netlab test: a check failed, 130/143 interrupted (SIGINT/SIGTERM)";
}

}  // namespace netlab::cli
