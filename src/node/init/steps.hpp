// Shared by the parts of netlab-init: every step that fails reports its errno
// and name on the status pipe, then the init exits.
#pragma once

#include <cstddef>
#include <string>

namespace netlab::node::detail {

/// Reports `step` with the current errno on the status pipe and exits 127.
[[noreturn]] void fail(const std::string& step);

/// Reads exactly `size` bytes; false at end of file or on an error.
bool read_all(int fd, void* buf, size_t size);

inline void check(int rc, const std::string& step) {
  if (rc < 0) fail(step);
}

}  // namespace netlab::node::detail
