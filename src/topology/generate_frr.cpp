// Generated routing labs: FRR routers running OSPF in a ring or a grid, as a
// directory (topology.toml + one FRR configuration directory per router). The
// topology carries no static routes: OSPF finds them, and the generated checks
// wait (`within`) until it has.
#include <arpa/inet.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "topology/generate.hpp"
#include "util/error.hpp"

namespace netlab::topo {

namespace {

constexpr int kMaxRouters = 4096;  // loopbacks 10.255.0.0/16; FRR's memory is the real limit
// Up to this many routers each gets a check listing every loopback (the file
// grows with the square of the count: about 0.3 MB at 100 routers).
constexpr size_t kPerRouterChecks = 200;

std::string ip(uint32_t a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

struct Router {
  std::string name;
  uint32_t loopback = 0;
  std::vector<std::pair<std::string, std::string>> ifaces;  // name, address
  std::vector<uint32_t> neighbours;                         // router indices, in iface order
};

// watchfrr starts the daemons with one job (`watchfrr.sh restart all`: start
// zebra, ospfd, staticd, then `vtysh -b` applies frr.conf) and kills a job
// still running after its restart timeout, 20 s in FRR 8.4. When tens of routers
// start at once on a few cores that job takes longer (14-19 s each for 100
// routers at load 8 here): the kill lands on `vtysh -b`, the daemons run without
// their configuration, and watchfrr, seeing them up, never applies it again.
// FRR 10.3 raised the default to 90 s for the same reason; a lab that starts
// hundreds of routers at once needs more. watchfrr's own log goes to a file:
// with -d it would go to a syslog the node does not have.
const char* kDaemons =
    "# FRR daemons (read by /usr/lib/frr/frrinit.sh); zebra and staticd always run.\n"
    "ospfd=yes\n"
    "vtysh_enable=yes\n"
    "zebra_options=\"  -A 127.0.0.1 -s 90000000\"\n"
    "ospfd_options=\"  -A 127.0.0.1\"\n"
    "staticd_options=\"-A 127.0.0.1\"\n"
    "# -T: watchfrr kills a start job (which ends with `vtysh -b` applying frr.conf)\n"
    "# still running after this many seconds; FRR 8.4's 20 s is too short when many\n"
    "# routers start at once, and a killed `vtysh -b` leaves the daemons unconfigured.\n"
    "watchfrr_options=\"-T 600 --log file:/tmp/watchfrr.log\"\n";

std::string frr_conf(const Router& r) {
  std::string out = fmt::format(
      "frr defaults traditional\nhostname {}\nservice integrated-vtysh-config\n"
      "log file /tmp/frr.log informational\n!\n"
      "interface lo\n ip address {}/32\n ip ospf area 0\n!\n",
      r.name, ip(r.loopback));
  // Point-to-point: no DR election (which waits a dead interval); 1 s hellos
  // and a 4 s dead interval so a pulled cable reroutes within seconds.
  for (const auto& [name, addr] : r.ifaces)
    out += fmt::format(
        "interface {}\n ip ospf area 0\n ip ospf network point-to-point\n ip ospf hello-interval 1\n"
        " ip ospf dead-interval 4\n!\n",
        name);
  out += fmt::format("router ospf\n ospf router-id {}\n!\n", ip(r.loopback));
  return out;
}

}  // namespace

std::vector<GeneratedFile> generate_frr(const GenerateSpec& s) {
  bool grid = s.kind == GenerateKind::kFrrGrid;
  if (!generates_directory(s.kind)) throw Error(EINVAL, "generate: not a routing lab kind");
  int n = grid ? s.rows * s.cols : s.n;
  if (grid && (s.rows < 1 || s.cols < 1 || n < 2))
    throw Error(EINVAL, "generate: frr-grid needs ROWS >= 1 and COLS >= 1, at least 2 routers");
  if (!grid && (n < 3)) throw Error(EINVAL, "generate: frr-ring needs at least 3 routers");
  if (n > kMaxRouters) throw Error(EINVAL, "generate: at most {} routers", kMaxRouters);
  auto p = parse_prefix(s.pool);
  if (!p || !p->addr.is_v4() || p->is_default)
    throw Error(EINVAL, "generate: pool \"{}\" is not an IPv4 prefix", s.pool);
  uint32_t base;
  std::memcpy(&base, p->network().addr.bytes.data(), 4);
  base = ntohl(base);
  uint64_t pool_size = uint64_t{1} << (32 - p->len);

  std::vector<Router> routers(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    routers[i].name = fmt::format("r{}", i + 1);
    routers[i].loopback = (10u << 24) | (255u << 16) | static_cast<uint32_t>(i + 1);
  }
  std::vector<std::pair<std::string, std::string>> links;
  uint32_t next_link = 0;
  auto connect = [&](int a, const std::string& a_if, int b, const std::string& b_if) {
    if (uint64_t{next_link} * 2 + 2 > pool_size) throw Error(EINVAL, "generate: pool {} is too small", s.pool);
    uint32_t addr = base + 2 * next_link++;
    routers[a].ifaces.push_back({a_if, ip(addr) + "/31"});
    routers[b].ifaces.push_back({b_if, ip(addr + 1) + "/31"});
    routers[a].neighbours.push_back(static_cast<uint32_t>(b));
    routers[b].neighbours.push_back(static_cast<uint32_t>(a));
    links.push_back({routers[a].name + ":" + a_if, routers[b].name + ":" + b_if});
  };
  std::string name = s.name;
  std::string shape;
  if (grid) {
    // r(i*cols + j + 1) at row i, column j; interfaces named after the direction.
    for (int i = 0; i < s.rows; ++i)
      for (int j = 0; j < s.cols; ++j) {
        int at = i * s.cols + j;
        if (j + 1 < s.cols) connect(at, "east", at + 1, "west");
        if (i + 1 < s.rows) connect(at, "south", at + s.cols, "north");
      }
    if (name.empty()) name = fmt::format("frrgrid{}x{}", s.rows, s.cols);
    shape = fmt::format("a {}x{} grid of FRR routers (r1 top left, r{} bottom right, row by row)", s.rows, s.cols, n);
  } else {
    for (int i = 0; i < n; ++i) connect(i, "eth1", (i + 1) % n, "eth0");
    if (name.empty()) name = fmt::format("frrring{}", n);
    shape = fmt::format("a ring of {} FRR routers (r_i:eth1 <-> r_i+1:eth0)", n);
  }

  const Router& first = routers.front();
  const Router& last = routers.back();
  std::string t = fmt::format(
      "# {}: {}, OSPF area 0 on every\n"
      "# interface, a loopback 10.255.x.y/32 per router. Written by `netlab generate`; each\n"
      "# router's FRR configuration is the directory named after it, bound at /etc/frr.\n"
      "# FRR starts as each router's cmd, so deploy does not wait for hundreds of daemons\n"
      "# (the init script exits 0 once watchfrr has them up); the checks wait instead.\n"
      "name = \"{}\"\n\n[defaults]\nimage = \"host\"\n",
      name, shape, name);
  for (const auto& r : routers) {
    t += fmt::format("\n[nodes.{}]\nforwarding = true\ninterfaces = {{ ", r.name);
    for (size_t k = 0; k < r.ifaces.size(); ++k)
      t += fmt::format("{}{} = \"{}\"", k ? ", " : "", r.ifaces[k].first, r.ifaces[k].second);
    t += fmt::format(" }}\nbinds = [\"{}:/etc/frr\"]\ncmd = \"/usr/lib/frr/frrinit.sh start\"\n", r.name);
  }
  for (const auto& [a, b] : links) t += fmt::format("\n[[links]]\nendpoints = [\"{}\", \"{}\"]\n", a, b);
  // Checks, in three stages. `converged`: r1's adjacencies are full and r1's
  // kernel has a route to every other router's loopback — which every router
  // announces only once its configuration is applied, so this fails (after one
  // wait) when any router's daemons run unconfigured. `everywhere`: every other
  // router's kernel has them all too (a check per router, each listing the
  // loopbacks, so a failure names the missing prefix; above kPerRouterChecks
  // routers only the last router, to keep the file small). `reachable`: r1
  // pings the last router.
  t +=
      "\n# OSPF has converged at r1 (each check retried until it passes), then at every router, then r1\n"
      "# reaches the last router. A router that never announces its loopback fails the first stage.\n";
  std::string neighbours;
  for (uint32_t nb : first.neighbours)
    neighbours += fmt::format("{}\"{}\" = [{{ state = \"Full/-\" }}]", neighbours.empty() ? "" : ", ",
                              ip(routers[nb].loopback));
  t += fmt::format(
      "[[checks]]\ngroup = \"converged\"\nname = \"{0} has full adjacencies with its {1} neighbours\"\n"
      "kind = \"command\"\nfrom = \"{0}\"\ncmd = [\"vtysh\", \"-c\", \"show ip ospf neighbor json\"]\n"
      "json = {{ neighbors = {{ {2} }} }}\nwithin = \"120s\"\n",
      first.name, first.neighbours.size(), neighbours);
  auto every_loopback = [&](size_t at, const char* group, const char* within) {
    std::string want;
    for (size_t k = 0; k < routers.size(); ++k)
      if (k != at) want += fmt::format("{}{{ dst = \"{}\" }}", want.empty() ? "" : ", ", ip(routers[k].loopback));
    t += fmt::format(
        "\n[[checks]]\ngroup = \"{0}\"\nname = \"{1} has a route to every other router's loopback\"\n"
        "kind = \"command\"\nfrom = \"{1}\"\ncmd = [\"ip\", \"-j\", \"-4\", \"route\", \"show\", \"proto\", \"ospf\"]\n"
        "json = [{2}]\nwithin = \"{3}\"\n",
        group, routers[at].name, want, within);
  };
  every_loopback(0, "converged", "120s");
  for (size_t k = 1; k < routers.size(); ++k)
    if (routers.size() <= kPerRouterChecks || k + 1 == routers.size()) every_loopback(k, "everywhere", "30s");
  // The host image may have no ping of its own; netlab's busybox is there.
  t += fmt::format(
      "\n[[checks]]\ngroup = \"reachable\"\nname = \"{0} pings {1}'s loopback\"\nkind = \"command\"\nfrom = \"{0}\"\n"
      "cmd = [\"busybox\", \"ping\", \"-c\", \"1\", \"-W\", \"2\", \"{2}\"]\nwithin = \"10s\"\n",
      first.name, last.name, ip(last.loopback));

  std::vector<GeneratedFile> files{{"topology.toml", t}};
  for (const auto& r : routers) {
    files.push_back({r.name + "/daemons", kDaemons});
    files.push_back({r.name + "/frr.conf", frr_conf(r)});
    files.push_back({r.name + "/vtysh.conf", "service integrated-vtysh-config\n"});
  }
  return files;
}

}  // namespace netlab::topo
