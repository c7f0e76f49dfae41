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

/// A node's init from its first step: keeps only the three descriptors, reads
/// its spec from netlab, sets the node up and becomes its PID 1 (init.cpp).
[[noreturn]] void run_init(int release_fd, int ready_fd, int netns_fd, const char* node);

/// The zygote: forks one init per request on `sock` until netlab closes it (zygote.cpp).
int zygote_main(int sock);

inline void check(int rc, const std::string& step) {
  if (rc < 0) fail(step);
}

}  // namespace netlab::node::detail
