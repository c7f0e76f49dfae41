// Checks: the expectations a topology carries ([[checks]]), run against a
// deployed lab. Each check runs in a child process of its own (joining a
// node's namespaces is per process), up to `jobs` at once; every result says
// what was expected and what happened.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lab/plan.hpp"
#include "topology/model.hpp"

namespace netlab::lab {

struct CheckResult {
  std::string name;
  std::string kind;      // "ping", "connect", "command", "route"
  std::string node;      // where it ran (from)
  std::string expected;  // "success", "failure", "via 10.0.23.2 dev eth1", ...
  std::string got;
  bool passed = false;
  double seconds = 0;   // until it passed or gave up, retries included
  int attempts = 1;     // > 1 when `within` retried it
  std::string group;    // "" = the default group
  bool skipped = false; // not run: an earlier group failed (counts as not passed)
  std::string host;     // multi-host lab: the host the node runs on ("" = one machine)
};

/// One result as results_json writes it.
CheckResult check_result_from_json(const nlohmann::json& j);

/// Runs every check of `lab` (deployed under `facts`) with at most `jobs` in parallel,
/// group after group (groups in order of their first check in the file). When a
/// group has a failure, the checks of later groups are skipped (reported, not run).
std::vector<CheckResult> run_checks(const topo::Lab& lab, const HostFacts& facts, int jobs);

/// Multi-host lab: the checks whose `from` node runs on host `host` (index
/// into lab.hosts), of the `group_index`-th group only (groups in order of
/// first appearance; -1: every group), in file order — what `netlab test FILE
/// --host NAME` runs there. A connect check whose listener (the node owning
/// `to`) runs on another host: with `refused`, it comes back there as a
/// failed result saying why; without, it is returned with listen = false and
/// `listener_host` set (the listener runs there: serve_listener, and the
/// results are joined with complete_with_listener).
struct HostCheck {
  size_t index;            // in lab.checks
  topo::Check check;
  int listener_host = -1;  // where its listener runs, when not here
};
std::vector<HostCheck> checks_of_host(const topo::Lab& lab, int host, int group_index,
                                      std::vector<CheckResult>* refused);

/// The listener half of a connect check whose two nodes run on different
/// hosts (`netlab test FILE --host NAME --listen-for I`): listens where `to`
/// is, writes "ready\n" to ready_fd once listening, then "peer ADDR\n" for
/// the first connection or datagram, or "none\n" when stop_fd reaches EOF
/// first (at most a minute).
void serve_listener(const HostFacts& facts, const topo::Lab& lab, const topo::Check& c, int ready_fd, int stop_fd);

/// A connect check run with listen = false on its node's host, completed with
/// the line its listener wrote on the other host: as run_check would judge it.
CheckResult complete_with_listener(const topo::Check& c, CheckResult connect_only, const std::string& listener);

/// One check (the C++ API and tests use it directly).
CheckResult run_check(const topo::Lab& lab, const HostFacts& facts, const topo::Check& check);

struct LabState;
/// Runs argv inside `node` with its stdout captured in `out`; returns the exit code.
int exec_captured(const LabState& state, const topo::Lab& lab, const std::string& node,
                  const std::vector<std::string>& argv, std::string* out);

std::string render_results(const std::vector<CheckResult>& results);
nlohmann::json results_json(const std::vector<CheckResult>& results);
/// JUnit XML: one <testsuite> named after the lab, a <testcase> per check, <failure> when failed.
std::string results_junit(const std::string& lab, const std::vector<CheckResult>& results);

}  // namespace netlab::lab
