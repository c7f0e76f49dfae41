// The probes of a check (check_probes.hpp): each runs in the check's child
// process (checks.cpp), may join a node's namespaces, and says what it found.
#include "lab/check_probes.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <regex>

#include "lab/json_match.hpp"
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

namespace detail {

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

}  // namespace detail

namespace {

using json = nlohmann::json;

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

namespace detail {

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

}  // namespace detail

}  // namespace netlab::lab
