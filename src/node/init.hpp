// The protocol between netlab and a node's init (netlab-init, src/node/init/),
// which netlab execs in the node's new namespaces:
//
//   netlab-init NODE RELEASE_FD READY_FD NETNS_FD
//
// On RELEASE_FD (a stream socket) the init first reads the spec (a 4-byte
// length in host order, then encode_spec's message), then blocks for one byte
// that says it is in its cgroup and may go; end of file instead means netlab
// gave up. It sets the node up and writes one ReadyMessage on READY_FD.
// NETNS_FD is the network namespace to join; a contained node's init later
// joins the user namespace that owns it (ioctl NS_GET_USERNS).
#pragma once

#include <cstdint>

namespace netlab::node::detail {

/// What the child writes on the status pipe, once.
struct ReadyMessage {
  int32_t status = 0;         // 0 ready, 1 setup failed
  int32_t errnum = 0;         // errno of the failed step
  int32_t exec_failures = 0;  // exec commands that exited non-zero
  char step[200] = {};        // what failed, e.g. "mounting overlay on /run/netlab/x/root"
};

inline constexpr const char* kInitProgram = "netlab-init";

}  // namespace netlab::node::detail
