// Shared by the parts of netlab-init: every step that fails reports its errno
// and name on the status pipe, then the init exits.
#pragma once

#include <string>

namespace netlab::node::detail {

/// Reports `step` with the current errno on the status pipe and exits 127.
[[noreturn]] void fail(const std::string& step);

inline void check(int rc, const std::string& step) {
  if (rc < 0) fail(step);
}

}  // namespace netlab::node::detail
