// Each check runs in a forked child: it may join a node's namespaces (setns
// acts on the whole process for mount and PID namespaces), start a listener in
// another node, and time out, without touching the parent. The child reports
// one JSON line on a pipe.
#include "lab/checks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fmt/format.h>
#include <thread>

#include "cluster/placement.hpp"
#include "lab/check_probes.hpp"

#include "lab/state.hpp"
#include "util/error.hpp"
#include "util/fd.hpp"

namespace netlab::lab {

namespace {

using json = nlohmann::json;
using namespace detail;  // the probes (check_probes.cpp)

const char* kind_name(topo::CheckKind k) {
  switch (k) {
    case topo::CheckKind::kPing: return "ping";
    case topo::CheckKind::kConnect: return "connect";
    case topo::CheckKind::kCommand: return "command";
    case topo::CheckKind::kRoute: return "route";
  }
  return "?";
}

std::string expected_text(const topo::Check& c) {
  if (c.kind == topo::CheckKind::kRoute) {
    std::string s;
    if (c.expect_via) s += "via " + c.expect_via->str();
    if (c.expect_dev) s += (s.empty() ? "" : " ") + std::string("dev ") + *c.expect_dev;
    return s.empty() ? "a route" : s;
  }
  std::string s = c.expect_success ? "success" : "failure";
  if (c.kind == topo::CheckKind::kCommand) s = fmt::format("exit {}", c.expect_exit.value_or(0));
  if (c.expect_source) s += ", source " + c.expect_source->str();
  if (c.expect_output) s += ", output ~ /" + *c.expect_output + "/";
  if (c.expect_json) s += ", json " + (c.expect_json->size() > 40 ? c.expect_json->substr(0, 37) + "..." : *c.expect_json);
  if (c.within) s += ", within " + c.within->str();
  return s;
}

Outcome attempt(const topo::Lab& lab, const HostFacts& facts, const LabState& state, const topo::Check& c) {
  Outcome o;
  try {
    switch (c.kind) {
      case topo::CheckKind::kPing: o = ping_check(state, lab, c); break;
      case topo::CheckKind::kConnect: o = connect_check(facts, lab, c); break;
      case topo::CheckKind::kCommand: o = command_check(state, lab, c); break;
      case topo::CheckKind::kRoute: o = route_check(facts, lab, c); break;
    }
  } catch (const Error& e) {
    o = {false, std::string("error: ") + e.what()};
  }
  return o;
}

// ping and connect may expect failure; command and route state their own expectation.
bool passed(const topo::Check& c, const Outcome& o) {
  if ((c.kind == topo::CheckKind::kPing || c.kind == topo::CheckKind::kConnect) && !c.expect_success)
    return !o.ok && o.got.rfind("error:", 0) != 0;
  return o.ok;
}

// One check, retried every half second while it fails and `within` has time left.
// The last attempt's outcome is the result.
json evaluate(const topo::Lab& lab, const HostFacts& facts, const LabState& state, const topo::Check& c) {
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  auto deadline = t0 + std::chrono::nanoseconds(c.within ? c.within->ns : 0);
  constexpr auto kRetryEvery = std::chrono::milliseconds(500);
  Outcome o;
  bool ok = false;
  int attempts = 0;
  while (true) {
    auto started = clock::now();
    ++attempts;
    o = attempt(lab, facts, state, c);
    ok = passed(c, o);
    if (ok || clock::now() >= deadline) break;
    auto next = std::min(started + kRetryEvery, deadline);
    std::this_thread::sleep_until(next);
  }
  double secs = std::chrono::duration<double>(clock::now() - t0).count();
  if (attempts > 1) o.got += fmt::format(" (attempt {})", attempts);
  return {{"name", c.name},   {"kind", kind_name(c.kind)}, {"node", c.from}, {"expected", expected_text(c)},
          {"got", o.got},     {"passed", ok},              {"seconds", secs}, {"attempts", attempts},
          {"group", c.group}, {"skipped", false}};
}

CheckResult from_json(const json& j) {
  return {j["name"], j["kind"], j["node"], j["expected"], j["got"], j["passed"], j["seconds"],
          j["attempts"], j["group"], j["skipped"], j.value("host", "")};
}

// Runs the checks at `indices` (one group), at most `jobs` at once.
void run_group(const topo::Lab& lab, const HostFacts& facts, const LabState& state, const std::vector<size_t>& indices,
               int jobs, std::vector<CheckResult>& results) {
  struct Running {
    pid_t pid;
    Fd out;
    size_t index;
    std::string text;
  };
  std::vector<Running> running;
  // Two connect checks listening on the same address and port cannot run at once.
  auto listen_key = [&](size_t i) -> std::string {
    const auto& c = lab.checks[i];
    if (c.kind != topo::CheckKind::kConnect || !c.listen) return "";
    try {
      return fmt::format("{}/{}/{}", resolve_target(lab, c.to), c.proto, c.port);
    } catch (const Error&) {
      return "";
    }
  };
  std::vector<bool> started(indices.size(), false);
  size_t remaining = indices.size();
  jobs = std::max(1, jobs);
  while (remaining > 0 || !running.empty()) {
    while (remaining > 0 && static_cast<int>(running.size()) < jobs) {
      size_t pick = indices.size();
      for (size_t k = 0; k < indices.size() && pick == indices.size(); ++k) {
        if (started[k]) continue;
        std::string key = listen_key(indices[k]);
        bool busy = false;
        for (const auto& r : running) busy |= !key.empty() && listen_key(r.index) == key;
        if (!busy) pick = k;
      }
      if (pick == indices.size()) break;  // everything left waits for a listener's port
      started[pick] = true;
      --remaining;
      size_t next = indices[pick];
      int p[2];
      if (::pipe2(p, O_CLOEXEC) < 0) throw_errno("pipe for a check");
      pid_t pid = ::fork();
      if (pid < 0) throw_errno("fork for a check");
      if (pid == 0) {
        ::close(p[0]);
        std::string line = evaluate(lab, facts, state, lab.checks[next]).dump() + "\n";
        (void)!::write(p[1], line.data(), line.size());
        ::_exit(0);
      }
      ::close(p[1]);
      running.push_back({pid, Fd(p[0]), next, ""});
    }
    std::vector<pollfd> fds;
    for (auto& r : running) fds.push_back({r.out.get(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) throw_errno("waiting for checks");
    for (size_t i = running.size(); i-- > 0;) {
      if (!fds[i].revents) continue;
      char buf[4096];
      ssize_t n = ::read(running[i].out.get(), buf, sizeof buf);
      if (n > 0) {
        running[i].text.append(buf, static_cast<size_t>(n));
        continue;
      }
      ::waitpid(running[i].pid, nullptr, 0);
      const auto& c = lab.checks[running[i].index];
      auto j = json::parse(running[i].text, nullptr, false);
      results[running[i].index] =
          j.is_discarded()
              ? CheckResult{c.name, kind_name(c.kind), c.from, expected_text(c), "the check crashed", false, 0, 1, c.group, false, ""}
              : from_json(j);
      running.erase(running.begin() + static_cast<long>(i));
    }
  }
}

}  // namespace

std::vector<CheckResult> run_checks(const topo::Lab& lab, const HostFacts& facts, int jobs) {
  LabState state = read_lab_state(facts, lab.name);
  std::vector<CheckResult> results(lab.checks.size());
  std::vector<std::string> order;  // groups by first appearance
  for (const auto& c : lab.checks)
    if (std::find(order.begin(), order.end(), c.group) == order.end()) order.push_back(c.group);
  std::string failed_group;
  bool failed = false;
  for (const auto& g : order) {
    std::vector<size_t> indices;
    for (size_t i = 0; i < lab.checks.size(); ++i)
      if (lab.checks[i].group == g) indices.push_back(i);
    if (failed) {
      for (size_t i : indices) {
        const auto& c = lab.checks[i];
        results[i] = {c.name, kind_name(c.kind), c.from, expected_text(c),
                      failed_group.empty() ? std::string("skipped: an earlier check failed")
                                           : fmt::format("skipped: group {} failed", failed_group),
                      false, 0, 0, c.group, true, ""};
      }
      continue;
    }
    run_group(lab, facts, state, indices, jobs, results);
    for (size_t i : indices)
      if (!results[i].passed && !failed) {
        failed = true;
        failed_group = g;
      }
  }
  return results;
}

std::vector<HostCheck> checks_of_host(const topo::Lab& lab, int host, int group_index,
                                      std::vector<CheckResult>* refused) {
  cluster::Placement p = cluster::place(lab);
  std::vector<std::string> order;
  for (const auto& c : lab.checks)
    if (std::find(order.begin(), order.end(), c.group) == order.end()) order.push_back(c.group);
  std::vector<HostCheck> out;
  for (size_t i = 0; i < lab.checks.size(); ++i) {
    const auto& c = lab.checks[i];
    if (group_index >= 0 && (group_index >= static_cast<int>(order.size()) || c.group != order[group_index])) continue;
    if (c.from_index < 0 || p.node_host[c.from_index] != host) continue;
    HostCheck hc{i, c, -1};
    if (c.kind == topo::CheckKind::kConnect && c.listen) {
      int t = lab.find_node(c.to);
      if (t < 0) t = owner_of(lab, c.to);
      if (t >= 0 && p.node_host[t] != host) {
        if (!refused) {
          // Its listener runs on the target's host; here, the connection only.
          hc.check.listen = false;
          hc.listener_host = p.node_host[t];
        } else {
          refused->push_back({c.name, kind_name(c.kind), c.from, expected_text(c),
                              fmt::format("not run: its listener would be on {}, which runs on host {}; run "
                                          "`netlab test FILE` (every host over ssh) or set listen = false",
                                          lab.nodes[t].name, lab.hosts[p.node_host[t]].name),
                              false, 0, 0, c.group, false, lab.hosts[host].name});
          continue;
        }
      }
    }
    out.push_back(std::move(hc));
  }
  return out;
}

CheckResult complete_with_listener(const topo::Check& c, CheckResult connect_only, const std::string& listener) {
  // connect_only.got is connect_outcome's text without a listener:
  // "connected" or "no connection (why)".
  bool connected = connect_only.got.rfind("connected", 0) == 0;
  std::string detail;
  if (size_t open = connect_only.got.find(" ("); !connected && open != std::string::npos)
    detail = connect_only.got.substr(open + 2, connect_only.got.rfind(')') - open - 2);  // "why (ENAME)" nests
  Outcome o = connect_outcome(c, connected, detail, listener);
  connect_only.got = o.got;
  connect_only.passed = passed(c, o);
  return connect_only;
}

void serve_listener(const HostFacts& facts, const topo::Lab& lab, const topo::Check& c, int ready_fd, int stop_fd) {
  std::string addr = resolve_target(lab, c.to);
  int owner = owner_of(lab, addr);
  if (owner < 0) throw Error(EINVAL, "no node owns {} to listen on (set listen = false)", addr);
  int type = c.proto == "udp" ? SOCK_DGRAM : SOCK_STREAM;
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("forking the listener of check {}", c.name);
  if (pid == 0) {
    // Until the connection, or until the one waiting for the answer goes
    // (stop_fd), at most a minute.
    std::string line = listen_once(facts, lab.name, lab.nodes[owner].name, type, c.port, 60'000, ready_fd, stop_fd);
    (void)!::write(ready_fd, line.data(), line.size());
    ::_exit(0);
  }
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

CheckResult run_check(const topo::Lab& lab, const HostFacts& facts, const topo::Check& check) {
  topo::Lab one = lab;
  one.checks = {check};
  return run_checks(one, facts, 1).front();
}

CheckResult check_result_from_json(const json& j) { return from_json(j); }

}  // namespace netlab::lab
