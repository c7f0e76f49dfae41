// What became of a node's `cmd` and what the node wrote: the node's init
// records how `cmd` ended in <node-dir>/status ("exited 3", "killed 9"), and
// `exec` and `cmd` write to <node-dir>/log. Read by inspect, ls, deploy
// (a warning when a `cmd` ended during deploy) and `netlab logs`.
#pragma once

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lab/plan.hpp"

namespace netlab::lab {

struct CmdStatus {
  enum class State { kNone, kRunning, kExited, kKilled, kStopped };
  State state = State::kNone;  // kNone: no `cmd`; kStopped: the node itself is gone
  int code = 0;                // exit code (kExited) or signal number (kKilled)
  bool ended() const { return state == State::kExited || state == State::kKilled; }
  /// "running", "exited 3", "killed by SIGKILL", "none", "stopped".
  std::string str() const;
  /// {"state": "running"|"exited"|"killed"|"stopped", "exit_code": N|null, "signal": N|null, "signal_name": ...}
  /// or null when the node has no cmd.
  nlohmann::json to_json() const;
};

/// Parses what the init wrote ("exited N" / "killed N"); an empty or unreadable
/// text means `cmd` has not ended. `has_cmd` false gives kNone; `node_running`
/// false (the init is gone) gives kStopped unless an end was recorded.
CmdStatus parse_cmd_status(const std::string& text, bool has_cmd, bool node_running);

/// Reads <node-dir>/status for `node` of `lab`.
CmdStatus read_cmd_status(const HostFacts& facts, const std::string& lab, const std::string& node, bool has_cmd,
                          bool node_running);

/// A lab's `cmd`s at a glance (for ls): {"running": N, "ended": [{"node": "r1", "state": "exited",
/// "exit_code": 1, ...}]}. Nodes without a cmd are not counted.
nlohmann::json cmd_summary(const HostFacts& facts, const std::string& lab);

/// <node-dir>/log.
std::string node_log_path(const HostFacts& facts, const std::string& lab, const std::string& node);

/// The last `lines` lines of `text` (all of it when shorter).
std::string last_lines(const std::string& text, size_t lines);

/// Nodes of a just-deployed lab whose `cmd` already failed (a non-zero exit or a
/// signal; exit 0 is a start script's normal end), each as a warning
/// naming the node and how it ended, followed by the last lines of its log.
std::vector<std::string> ended_command_warnings(const HostFacts& facts, const std::string& lab, size_t lines = 10);

/// Writes the node's log to `out` (all of it, or the last `tail` lines when
/// tail > 0). With `follow`, keeps writing what is appended (inotify) until
/// the lab's state for that node is gone (destroy), `stop` becomes true, or
/// `out` returns false. Throws LabConflict(ENOENT) for an unknown lab or node.
void show_log(const HostFacts& facts, const std::string& lab, const std::string& node, size_t tail, bool follow,
              const std::function<bool(const std::string&)>& out, const std::atomic<bool>* stop = nullptr);

}  // namespace netlab::lab
