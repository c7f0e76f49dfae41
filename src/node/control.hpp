// Changing a running node in place: netlab's side of the init's control
// socket (node/init.hpp), which restarts the node's program while PID 1, the
// node's namespaces, mounts and other processes stay; and the host writing
// into the node's UTS and IPC namespaces (hostname, IPC sysctls).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "node/spec.hpp"

namespace netlab::node {

/// Sends `spec` (its exec, cmd, env, user, workdir and hostname count) to the
/// init of the node whose directory is spec.node_dir and waits, at most
/// `timeout_ms`, until the old cmd is stopped, the exec commands ran (when they
/// changed) and the new cmd was started. Returns how many exec commands
/// failed. Throws Error naming the node: ENOENT/ECONNREFUSED when its init
/// has no control socket (not running, or started by a netlab without one).
int restart_program(const NodeSpec& spec, int timeout_ms);

/// Runs `fn` on a thread of its own that joined the namespaces `nstypes`
/// (CLONE_NEWUTS, CLONE_NEWIPC) of the node's init `pid` — if that pid still
/// has `start_time`; Error(ESRCH) otherwise. Rethrows what fn throws.
void in_node_namespaces(pid_t pid, uint64_t start_time, int nstypes, const std::function<void()>& fn);

/// Sets the hostname of the node whose init is `pid` (its UTS namespace).
void set_node_hostname(pid_t pid, uint64_t start_time, const std::string& hostname);

}  // namespace netlab::node
