// The protocol between netlab and a node's init (netlab-init, src/node/init/).
// For a batch of node starts netlab execs one netlab-init, the zygote:
//
//   netlab-init --zygote SOCKET_FD
//
// SOCKET_FD is a seqpacket socket. For each node netlab sends one
// ZygoteRequest with three descriptors (SCM_RIGHTS): RELEASE_FD, READY_FD,
// NETNS_FD. The zygote clones a child into new PID, mount, UTS and IPC
// namespaces with CLONE_PARENT (netlab's child, not the zygote's) and answers
// with a ZygoteReply and, when the clone worked, the child's pidfd. The zygote
// exits when netlab closes the socket. The child is the node's init:
//
// On RELEASE_FD (a stream socket) the init first reads the spec (a 4-byte
// length in host order, then encode_spec's message), then blocks for one byte
// that says it is in its cgroup and may go; end of file instead means netlab
// gave up. It sets the node up and writes one ReadyMessage on READY_FD.
// NETNS_FD is the network namespace to join; a contained node's init later
// joins the user namespace that owns it (ioctl NS_GET_USERNS).
//
// Control, for the rest of the node's life: before pivot_root the init, still
// host root in the host's view of the file system, binds a listening stream
// socket at <node_dir>/control (mode 0600; the node directory is root's and
// outside the node's root, so only the host's root can reach it, never the
// node). netlab connects and sends one request, framed as the spec (a 4-byte
// length, then encode_spec's message): restart the node's program with that
// spec's exec, cmd, env, user, workdir and hostname. The init stops the
// running cmd's process group (SIGTERM, then SIGKILL after kStopGraceMs), runs
// the exec commands again if they or what they run with changed, starts the
// new cmd and answers with one ReadyMessage. PID 1, the node's namespaces,
// mounts and every other process stay.
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

/// One node start asked of the zygote (with its three descriptors).
struct ZygoteRequest {
  char node[64] = {};  // the node's name, for an error before its spec is read
};

/// The zygote's answer: the child's pid (in netlab's PID namespace) or -1 and errno.
struct ZygoteReply {
  int32_t pid = -1;
  int32_t errnum = 0;
};

inline constexpr const char* kInitProgram = "netlab-init";
/// The init's control socket, in the node directory.
inline constexpr const char* kControlSocket = "control";
/// How long a stopped cmd's process group has after SIGTERM before SIGKILL.
inline constexpr int kStopGraceMs = 5000;

}  // namespace netlab::node::detail
