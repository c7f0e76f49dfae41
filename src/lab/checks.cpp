// Each check runs in a forked child: it may join a node's namespaces (setns
// acts on the whole process for mount and PID namespaces), start a listener in
// another node, and time out, without touching the parent. The child reports
// one JSON line on a pipe.
#include "lab/checks.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <regex>
#include <thread>

#include "lab/json_match.hpp"
#include "cluster/placement.hpp"
#include "topology/pattern.hpp"

#include "lab/state.hpp"
#include "netlink/dump.hpp"
#include "netlink/netns.hpp"
#include "node/cgroup.hpp"
#include "node/enter.hpp"
#include "util/error.hpp"
#include "util/fd.hpp"
#include "util/strings.hpp"

namespace netlab::lab {

namespace {

using json = nlohmann::json;

const char* kind_name(topo::CheckKind k) {
  switch (k) {
    case topo::CheckKind::kPing: return "ping";
    case topo::CheckKind::kConnect: return "connect";
    case topo::CheckKind::kCommand: return "command";
    case topo::CheckKind::kRoute: return "route";
  }
  return "?";
}

// A node name in `to` stands for that node's first address (IPv4 first).
std::string resolve_target(const topo::Lab& lab, const std::string& to) {
  int i = lab.find_node(to);
  if (i < 0) return to;
  for (bool v6 : {false, true})
    for (const auto& iface : lab.nodes[i].interfaces)
      for (const auto& a : iface.addresses)
        if (a.addr.is_v6() == v6) return a.addr.str();
  throw Error(EINVAL, "node {} has no address to aim at", to);
}

int owner_of(const topo::Lab& lab, const std::string& addr) {
  for (size_t n = 0; n < lab.nodes.size(); ++n)
    for (const auto& iface : lab.nodes[n].interfaces)
      for (const auto& a : iface.addresses)
        if (a.addr.str() == addr) return static_cast<int>(n);
  return -1;
}

void enter_netns(const HostFacts& facts, const std::string& lab, const std::string& node) {
  auto ns = nl::Netns::open(node_pin(facts, lab, node));
  if (::setns(ns.fd(), CLONE_NEWNET) < 0) throw_errno("joining the network namespace of {}", node);
}

// Runs argv in a node with stdout captured in `out`; returns the exit code.
int run_in(const LabState& state, const topo::Lab& lab, const std::string& node, std::vector<std::string> argv,
           std::string* out, std::string* err = nullptr) {
  const NodeState* ns = nullptr;
  for (const auto& n : state.nodes)
    if (n.name == node) ns = &n;
  if (!ns || !ns->running) throw Error(ESRCH, "node {} is not running", node);
  char path[] = "/tmp/netlab-check-XXXXXX";
  Fd capture(::mkstemp(path));
  ::unlink(path);
  char err_path[] = "/tmp/netlab-check-XXXXXX";
  Fd err_capture(err ? ::mkstemp(err_path) : -1);
  if (err) ::unlink(err_path);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(capture.get(), 1);
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(err_capture ? err_capture.get() : devnull, 2);
    try {
      node::EnterSpec spec;
      spec.init_pid = ns->pid;
      spec.start_time = ns->start_time;
      spec.cgroup = ns->cgroup;
      spec.argv = std::move(argv);
      int i = lab.find_node(node);
      if (i >= 0) spec.env = lab.nodes[i].env;
      auto cgroups = node::make_cgroups();
      ::_exit(node::exec_in_node(spec, *cgroups));
    } catch (...) {
      ::_exit(125);
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (out) {
    ::lseek(capture.get(), 0, SEEK_SET);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(capture.get(), buf, sizeof buf)) > 0) out->append(buf, static_cast<size_t>(n));
  }
  if (err && err_capture) {
    ::lseek(err_capture.get(), 0, SEEK_SET);
    char buf[4096];
    ssize_t n;
    while (err->size() < 4096 && (n = ::read(err_capture.get(), buf, sizeof buf)) > 0)
      err->append(buf, static_cast<size_t>(n));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int exec_captured(const LabState& state, const topo::Lab& lab, const std::string& node,
                  const std::vector<std::string>& argv, std::string* out) {
  return run_in(state, lab, node, argv, out);
}

namespace {

struct Outcome {
  bool ok = false;
  std::string got;
};

Outcome ping_check(const LabState& state, const topo::Lab& lab, const topo::Check& c) {
  std::string addr = resolve_target(lab, c.to);
  int wait = std::max(1, static_cast<int>(std::ceil(static_cast<double>(c.timeout.ns) / 1e9)));
  std::string out;
  int rc = run_in(state, lab, c.from, {"ping", "-q", "-c", std::to_string(c.count), "-W", std::to_string(wait), addr}, &out);
  std::smatch m;
  std::string received = std::regex_search(out, m, std::regex("(\\d+) packets received")) ? m[1].str() : "0";
  return {rc == 0, fmt::format("{}/{} replies from {}", received, c.count, addr)};
}

// In a process of its own: listens on `port` (any address, v4 and v6) in the
// node's netns, writes "ready\n" to ready_fd once listening, then waits up to
// wait_ms for one connection or datagram (or for stop_fd to become readable:
// EOF from whoever waits for the answer). Returns "peer ADDR\n", "none\n" or
// "error ...\n".
std::string listen_once(const HostFacts& facts, const std::string& lab, const std::string& node, int type,
                        uint16_t port, int wait_ms, int ready_fd, int stop_fd) {
  try {
    enter_netns(facts, lab, node);
    Fd s(::socket(AF_INET6, type | SOCK_CLOEXEC, 0));
    int one = 1, zero = 0;
    ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ::setsockopt(s.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    sockaddr_in6 any{};
    any.sin6_family = AF_INET6;
    any.sin6_port = htons(port);
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&any), sizeof any) < 0) throw_errno("bind");
    if (type == SOCK_STREAM && ::listen(s.get(), 4) < 0) throw_errno("listen");
    (void)!::write(ready_fd, "ready\n", 6);
    pollfd p[2] = {{s.get(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
    if (::poll(p, stop_fd >= 0 ? 2 : 1, wait_ms) < 1 || !(p[0].revents & POLLIN)) return "none\n";
    sockaddr_in6 from{};
    socklen_t len = sizeof from;
    char byte[64];
    if (type == SOCK_STREAM) {
      Fd conn(::accept(s.get(), reinterpret_cast<sockaddr*>(&from), &len));
    } else {
      ::recvfrom(s.get(), byte, sizeof byte, 0, reinterpret_cast<sockaddr*>(&from), &len);
    }
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET6, &from.sin6_addr, text, sizeof text);
    std::string t = text;
    if (t.rfind("::ffff:", 0) == 0) t = t.substr(7);
    return "peer " + t + "\n";
  } catch (const Error& e) {
    return std::string("error ") + e.what() + "\n";
  }
}

// What a connect check found: the connection (`connected`, else why in
// `detail`) and, when netlab listened, the listener's line ("peer ADDR", "none").
Outcome connect_outcome(const topo::Check& c, bool connected, const std::string& detail,
                        const std::optional<std::string>& listener) {
  std::string peer;
  if (listener) {
    if (listener->rfind("peer ", 0) == 0) peer = std::string(trim(listener->substr(5)));
    connected = connected && !peer.empty();
    if (!peer.empty() && c.proto == "udp") connected = true;
  }
  std::string got = connected ? "connected" : "no connection" + (detail.empty() ? "" : " (" + detail + ")");
  if (!peer.empty()) got += ", listener saw " + peer;
  if (listener && listener->rfind("error ", 0) == 0) got += ", listener: " + std::string(trim(listener->substr(6)));
  bool ok = connected;
  if (ok && c.expect_source) ok = peer == c.expect_source->str();
  return {ok, got};
}

// A listener in the target's netns (a grandchild), then a connection from the source's netns.
Outcome connect_check(const HostFacts& facts, const topo::Lab& lab, const topo::Check& c) {
  std::string addr = resolve_target(lab, c.to);
  topo::IpAddress ip = *topo::parse_address(addr);
  int family = ip.is_v4() ? AF_INET : AF_INET6;
  int type = c.proto == "udp" ? SOCK_DGRAM : SOCK_STREAM;
  int timeout_ms = static_cast<int>(c.timeout.ns / 1'000'000);
  sockaddr_storage sa{};
  socklen_t sa_len;
  if (family == AF_INET) {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&sa);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(c.port);
    std::memcpy(&s4->sin_addr, ip.bytes.data(), 4);
    sa_len = sizeof(sockaddr_in);
  } else {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&sa);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(c.port);
    std::memcpy(&s6->sin6_addr, ip.bytes.data(), 16);
    sa_len = sizeof(sockaddr_in6);
  }
  int report[2];
  Fd rd, wr;
  pid_t listener = -1;
  if (c.listen) {
    int owner = owner_of(lab, addr);
    if (owner < 0) throw Error(EINVAL, "no node owns {} to listen on (set listen = false)", addr);
    if (::pipe2(report, O_CLOEXEC) < 0) throw_errno("pipe");
    rd.reset(report[0]);
    wr.reset(report[1]);
    listener = ::fork();
    if (listener == 0) {
      std::string line = listen_once(facts, lab.name, lab.nodes[owner].name, type, c.port, timeout_ms + 500, wr.get(), -1);
      (void)!::write(wr.get(), line.data(), line.size());
      ::_exit(0);
    }
    wr.reset();
    char buf[256] = {};
    pollfd p{rd.get(), POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1 || ::read(rd.get(), buf, 6) != 6 || std::string(buf, 6) != "ready\n") {
      ::kill(listener, SIGKILL);
      ::waitpid(listener, nullptr, 0);
      throw Error(EIO, "the listener on {} port {} did not start", addr, c.port);
    }
  }
  enter_netns(facts, lab.name, c.from);
  Fd s(::socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  bool connected = false;
  std::string detail;
  int rc = ::connect(s.get(), reinterpret_cast<sockaddr*>(&sa), sa_len);
  if (type == SOCK_STREAM) {
    if (rc == 0 || errno == EINPROGRESS) {
      pollfd p{s.get(), POLLOUT, 0};
      int err = ETIMEDOUT;
      if (::poll(&p, 1, timeout_ms) == 1) {
        socklen_t len = sizeof err;
        ::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      }
      connected = err == 0;
      if (!connected) detail = describe_errno(err);
    } else {
      detail = describe_errno(errno);
    }
  } else {
    connected = rc == 0 && ::send(s.get(), "netlab\n", 7, 0) == 7;
    if (!connected) detail = describe_errno(errno);
  }
  std::optional<std::string> line;
  if (listener > 0) {
    line.emplace();
    char buf[256];
    ssize_t n;
    while ((n = ::read(rd.get(), buf, sizeof buf)) > 0) line->append(buf, static_cast<size_t>(n));
    ::waitpid(listener, nullptr, 0);
  }
  return connect_outcome(c, connected, detail, line);
}

Outcome command_check(const LabState& state, const topo::Lab& lab, const topo::Check& c) {
  std::string out, err;
  std::vector<std::string> argv = {"timeout", std::to_string(std::max<uint64_t>(1, c.timeout.ns / 1'000'000'000))};
  argv.insert(argv.end(), c.command->argv.begin(), c.command->argv.end());
  int rc = run_in(state, lab, c.from, argv, &out, &err);
  bool ok = rc == c.expect_exit.value_or(0);
  std::string got = fmt::format("exit {}", rc);
  if (c.expect_output) {
    // Searched without the final newline(s), as a shell's $(...) would give it:
    // `output = "^0$"` matches what `id -u` prints.
    std::string text = out;
    while (!text.empty() && text.back() == '\n') text.pop_back();
    bool matched = topo::OutputPattern(*c.expect_output).search(text);
    ok = ok && matched;
    std::string first = out.substr(0, out.find('\n'));
    got += matched ? ", output matched" : fmt::format(", output \"{}\" did not match", first.substr(0, 60));
  }
  if (c.expect_json) {
    auto doc = json::parse(out, nullptr, /*allow_exceptions=*/false);
    std::string why;
    if (doc.is_discarded()) {
      ok = false;
      got += fmt::format(", output is not JSON (\"{}\")", out.substr(0, out.find('\n')).substr(0, 40));
    } else if (!json_contains(doc, json::parse(*c.expect_json), &why)) {
      ok = false;
      got += ", json: " + why;
    } else {
      got += ", json matched";
    }
  }
  // A failed command says why in its own words: its stderr (first lines).
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  if (!ok && !err.empty()) {
    for (auto& ch : err)
      if (ch == '\n') ch = ' ';
    got += fmt::format(", stderr \"{}\"", err.substr(0, 200));
  }
  return {ok, got};
}

Outcome route_check(const HostFacts& facts, const topo::Lab& lab, const topo::Check& c) {
  auto ns = nl::Netns::open(node_pin(facts, lab.name, c.from));
  auto sock = nl::RtnlSocket::open_in(ns, c.from);
  std::string addr = resolve_target(lab, c.to);
  nl::RouteInfo r;
  try {
    r = nl::lookup_route(sock, addr);
  } catch (const Error& e) {
    return {false, fmt::format("no route ({})", errno_name(e.errnum()))};
  }
  std::string dev;
  for (const auto& l : nl::dump_links(sock))
    if (l.ifindex == r.oif) dev = l.name;
  std::string got = fmt::format("via {} dev {}", r.gateway.empty() ? "(direct)" : r.gateway, dev);
  bool ok = true;
  if (c.expect_via) ok = ok && r.gateway == c.expect_via->str();
  if (c.expect_dev) ok = ok && dev == *c.expect_dev;
  return {ok, got};
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

namespace {

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// `s` cut to `width` characters with "…" where it was cut, padded to `width`.
std::string cell(const std::string& s, size_t width) {
  std::string out;
  if (utf8_length(s) <= width) {
    out = s;
  } else {
    size_t chars = 0, i = 0;
    for (; i < s.size(); ++i) {
      if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && ++chars == width) break;
    }
    out = s.substr(0, i) + "…";
  }
  return out + std::string(width - std::min(width, utf8_length(out)), ' ');
}

}  // namespace

std::string render_results(const std::vector<CheckResult>& results) {
  // Columns as wide as their longest entry, within limits; two spaces between
  // them; checks under a heading per group when the file has groups.
  size_t name_w = 5, node_w = 4, exp_w = 8, got_w = 3;
  for (const auto& r : results) {
    name_w = std::max(name_w, utf8_length(r.name));
    node_w = std::max(node_w, utf8_length(r.node) + (r.host.empty() ? 0 : r.host.size() + 1));
    exp_w = std::max(exp_w, utf8_length(r.expected));
    got_w = std::max(got_w, utf8_length(r.got));
  }
  name_w = std::min<size_t>(name_w, 48), node_w = std::min<size_t>(node_w, 16);
  exp_w = std::min<size_t>(exp_w, 32), got_w = std::min<size_t>(got_w, 60);
  std::string out = "  " + cell("CHECK", name_w) + "  " + cell("NODE", node_w) + "  " + cell("EXPECTED", exp_w) +
                    "  " + cell("GOT", got_w) + "  " + fmt::format("{:>6}", "TIME") + "\n";
  size_t failed = 0, skipped = 0;
  bool grouped = false;
  for (const auto& r : results) grouped |= !r.group.empty();
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (grouped && (i == 0 || r.group != results[i - 1].group))
      out += fmt::format("{}[{}]\n", i == 0 ? "" : "\n", r.group.empty() ? "(no group)" : r.group);
    skipped += r.skipped;
    failed += !r.passed && !r.skipped;
    std::string time = r.skipped ? "-" : fmt::format("{:.2f}s", r.seconds);
    out += std::string(r.passed ? "✓" : r.skipped ? "-" : "✗") + " " + cell(r.name, name_w) + "  " +
           cell(r.host.empty() ? r.node : r.node + "@" + r.host, node_w) + "  " + cell(r.expected, exp_w) + "  " + cell(r.got, got_w) + "  " +
           fmt::format("{:>6}", time) + "\n";
  }
  out += fmt::format("\n{} passed, {} failed", results.size() - failed - skipped, failed);
  if (skipped) out += fmt::format(", {} skipped", skipped);
  out += "\n";
  return out;
}

CheckResult check_result_from_json(const json& j) { return from_json(j); }

json results_json(const std::vector<CheckResult>& results) {
  json out = json::array();
  for (const auto& r : results)
    out.push_back({{"name", r.name},         {"kind", r.kind},     {"node", r.node},       {"expected", r.expected},
                   {"got", r.got},           {"passed", r.passed}, {"seconds", r.seconds}, {"attempts", r.attempts},
                   {"group", r.group},       {"skipped", r.skipped}});
  for (size_t i = 0; i < results.size(); ++i)
    if (!results[i].host.empty()) out[i]["host"] = results[i].host;
  return out;
}

namespace {
std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}
}  // namespace

std::string results_junit(const std::string& lab, const std::vector<CheckResult>& results) {
  size_t failures = 0, skipped = 0;
  double total = 0;
  for (const auto& r : results) {
    failures += !r.passed && !r.skipped;
    skipped += r.skipped;
    total += r.seconds;
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites tests=\"{}\" failures=\"{}\" time=\"{:.3f}\">\n", results.size(), failures, total);
  out += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3f}\">\n",
                     xml_escape(lab), results.size(), failures, skipped, total);
  for (const auto& r : results) {
    // A group shows in the class name (lab.group.kind), so CI views list the stages.
    std::string cls = r.group.empty() ? fmt::format("{}.{}", lab, r.kind) : fmt::format("{}.{}.{}", lab, r.group, r.kind);
    out += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\"", xml_escape(cls),
                       xml_escape(r.name), r.seconds);
    std::string body;
    if (r.skipped) {
      body = fmt::format("      <skipped message=\"{}\"/>\n", xml_escape(r.got));
    } else if (!r.passed) {
      body = fmt::format("      <failure message=\"expected {}, got {}\">node {}: expected {}, got {}</failure>\n",
                         xml_escape(r.expected), xml_escape(r.got), xml_escape(r.node), xml_escape(r.expected),
                         xml_escape(r.got));
    }
    if (r.attempts > 1) body += fmt::format("      <system-out>attempts: {}</system-out>\n", r.attempts);
    out += body.empty() ? "/>\n" : ">\n" + body + "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace netlab::lab
