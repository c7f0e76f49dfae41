// Entering a running node (`netlab exec`, `netlab shell`): join its cgroup and
// every namespace of its init, fork so the command is inside its PID
// namespace, and exec there. The caller must be single-threaded (joining a
// mount namespace needs it).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "node/cgroup.hpp"

namespace netlab::node {

struct EnterSpec {
  pid_t init_pid = 0;
  uint64_t start_time = 0;  // identity check against /proc/PID/stat
  std::string cgroup;       // relative cgroup path
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // added to a clean base environment
  std::optional<std::pair<uint32_t, uint32_t>> user;
  std::string workdir;  // "" = /; one that is missing in the node leaves the command in /
  bool sys_admin = false;
  bool interactive = false;  // `netlab shell`: always a pty (see node/terminal.hpp)
};

/// Runs argv inside the node in a session of its own and returns its exit code
/// (128 + signal when killed). Pipes and files on stdin/stdout/stderr pass
/// through; terminals never do: the program gets a pty of the node's devpts
/// instead, relayed to the caller's terminal (always, when `interactive`). Throws Error(ESRCH) when the node is
/// not running (or its pid now belongs to another process).
int exec_in_node(const EnterSpec& spec, Cgroups& cgroups);

}  // namespace netlab::node
