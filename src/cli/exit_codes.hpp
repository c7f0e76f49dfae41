// Exit codes of every verb (documented in `netlab --help` and docs/errors.md).
#pragma once

namespace netlab::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUserError = 1;    // bad file, bad option, unknown lab/node
inline constexpr int kExitSystemError = 2;  // the kernel or the system refused
inline constexpr int kExitPartial = 3;      // destroy could not remove everything (listed)
inline constexpr int kExitChecksFailed = 4; // netlab test: at least one check failed

}  // namespace netlab::cli
