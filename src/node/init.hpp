// Internal to node/: the code the cloned child runs — set the node up, report
// to netlab over the status pipe, then stay as the node's PID 1.
#pragma once

#include <cstdint>

#include "node/spawn.hpp"

namespace netlab::node::detail {

/// What the child writes on the status pipe, once.
struct ReadyMessage {
  int32_t status = 0;         // 0 ready, 1 setup failed
  int32_t errnum = 0;         // errno of the failed step
  int32_t exec_failures = 0;  // exec commands that exited non-zero
  char step[200] = {};        // what failed, e.g. "mounting overlay on /run/netlab/x/root"
};

/// `netns_fd` is the node's network namespace (unused for a userns node, whose
/// namespace came with the clone).
[[noreturn]] void node_child(const NodeSpec& spec, int release_fd, int ready_fd, int netns_fd);

}  // namespace netlab::node::detail
