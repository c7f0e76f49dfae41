// What a node runs, supervised by its init for the node's life: the `exec`
// commands, `cmd` (in a process group of its own), the reaping of orphans,
// and restarts of the program asked for on the control socket (node/init.hpp).
#pragma once

#include <sys/types.h>

#include <string>

#include "node/spec.hpp"

namespace netlab::node::detail {

struct Program {
  NodeSpec spec;         // what runs now (exec, cmd, env, user, workdir, hostname)
  int status_fd = -1;    // <node_dir>/status: how `cmd` ended
  int control_fd = -1;   // listening control socket
  int signal_fd = -1;    // SIGCHLD, SIGTERM, SIGINT
  pid_t cmd = -1;        // the cmd's pid, which is also its process group; -1: none
  bool cmd_reaped = true;
};

/// Binds and listens on <node_dir>/control (host root only), replacing a socket
/// a previous init left. Call before pivot_root. Fails the start on error.
int open_control(const std::string& node_dir);

/// The environment exec and cmd get: a clean base, HOSTNAME, then spec.env.
void set_env(const NodeSpec& spec);

/// Blocks SIGCHLD, SIGTERM and SIGINT and opens the signalfd that takes them.
void block_signals(Program& p);

/// Runs the exec commands in order, each to its end; returns how many failed.
int run_exec_commands(const Program& p);

/// Starts `cmd` (if the spec has one) in a process group of its own; returns
/// once it was exec'd (or failed to be).
void start_cmd(Program& p);

/// The init loop: reaps children (recording how `cmd` ended), serves restart
/// requests, and on SIGTERM/SIGINT kills the PID namespace and exits.
[[noreturn]] void supervise(Program& p);

}  // namespace netlab::node::detail
