// The resolved model: defaults applied, names bound to indices, implicit
// interfaces, per-end impairments, file order kept.
#include <gtest/gtest.h>

#include <filesystem>

#include <fmt/format.h>

#include "topology/generate.hpp"
#include "topology/parse.hpp"
#include "util/error.hpp"

namespace netlab::topo {
namespace {

Lab must_load(const std::string& text) {
  Diagnostics diags;
  auto lab = load_string(text, "t.toml", diags);
  EXPECT_TRUE(lab) << diags.render(text);
  return lab.value_or(Lab{});
}

TEST(Model, DefaultsApplyUnlessANodeOverrides) {
  Lab lab = must_load(R"(name = "d"
[defaults]
cpus = 0.5
memory = "64M"
pids = 256
env = { A = "1", B = "2" }
[nodes.a]
[nodes.b]
memory = "128M"
image = "host"
env = { B = "3" }
hostname = "bee"
)");
  ASSERT_EQ(lab.nodes.size(), 2u);
  const Node& a = lab.nodes[0];
  const Node& b = lab.nodes[1];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.hostname, "a");
  EXPECT_EQ(a.image.kind, ImageKind::kBusybox);
  EXPECT_DOUBLE_EQ(a.limits.cpus->cores, 0.5);
  EXPECT_EQ(a.limits.memory->bytes, 64ull << 20);
  EXPECT_EQ(*a.limits.pids, 256u);
  EXPECT_EQ(b.limits.memory->bytes, 128ull << 20);
  EXPECT_DOUBLE_EQ(b.limits.cpus->cores, 0.5);
  EXPECT_EQ(b.image.kind, ImageKind::kHost);
  EXPECT_EQ(b.hostname, "bee");
  EXPECT_EQ(b.env.at("A"), "1");
  EXPECT_EQ(b.env.at("B"), "3");
}

TEST(Model, SysfsIsOnUnlessTheDefaultsOrTheNodeTurnItOff) {
  Lab lab = must_load(R"(name = "s"
[defaults]
sysfs = false
[nodes.a]
[nodes.b]
sysfs = true
)");
  ASSERT_EQ(lab.nodes.size(), 2u);
  EXPECT_FALSE(lab.nodes[0].sysfs);
  EXPECT_TRUE(lab.nodes[1].sysfs);
  EXPECT_TRUE(must_load("name = \"s\"\n[nodes.a]\n").nodes[0].sysfs);
  Diagnostics diags;
  EXPECT_FALSE(load_string("name = \"s\"\n[nodes.a]\nsysfs = \"no\"\n", "t.toml", diags));
  EXPECT_NE(diags.render("").find("sysfs"), std::string::npos) << diags.render("");
}

TEST(Model, IPv6IsOnWhereANodeUsesItOrAsksForIt) {
  Lab lab = must_load(R"(name = "six"
[bridges.lan]
[nodes.plain]
interfaces.eth0 = "10.0.0.1/24"
[nodes.addr]
interfaces.eth0 = ["10.0.0.2/24", "fd00::2/64"]
[nodes.route]
routes = [{ to = "fd00:1::/64", via = "fe80::1", dev = "eth0" }]
[nodes.sysctl]
sysctls = { "net.ipv6.conf.all.forwarding" = "1" }
[nodes.asked]
ipv6 = true
[nodes.refused]
ipv6 = false
interfaces.eth0 = "10.0.0.3/24"
[[links]]
endpoints = ["plain:eth0", "lan"]
[[links]]
endpoints = ["addr:eth0", "lan"]
[[links]]
endpoints = ["route:eth0", "lan"]
[[links]]
endpoints = ["refused:eth0", "lan"]
)");
  ASSERT_EQ(lab.nodes.size(), 6u);
  auto node = [&](const char* n) { return lab.nodes[static_cast<size_t>(lab.find_node(n))]; };
  EXPECT_FALSE(node("plain").ipv6_enabled());
  EXPECT_TRUE(node("addr").ipv6_enabled());
  EXPECT_EQ(node("addr").first_ipv6_use(), "address fd00::2/64 on eth0");
  EXPECT_TRUE(node("route").ipv6_enabled());
  EXPECT_TRUE(node("sysctl").ipv6_enabled());
  EXPECT_TRUE(node("asked").ipv6_enabled());
  EXPECT_FALSE(node("refused").ipv6_enabled());

  Lab on = must_load("name = \"d\"\n[defaults]\nipv6 = true\n[nodes.a]\n");
  EXPECT_TRUE(on.nodes[0].ipv6_enabled());
}

TEST(Model, NamesResolveAndLinksMayNameUndeclaredInterfaces) {
  Lab lab = must_load(R"(name = "r"
[bridges.lan]
[nodes.z]
interfaces.eth0 = "10.0.0.1/24"
[nodes.y]
[[links]]
endpoints = ["z:eth0", "lan"]
[[links]]
endpoints = ["y:eth3", "lan"]
)");
  EXPECT_EQ(lab.nodes[0].name, "z");  // file order, not key order
  ASSERT_EQ(lab.links.size(), 2u);
  const auto& e = lab.links[1].ends[0];
  EXPECT_EQ(e.node_index, 1);
  ASSERT_GE(e.iface_index, 0);
  EXPECT_EQ(lab.nodes[1].interfaces[e.iface_index].name, "eth3");
  EXPECT_TRUE(lab.nodes[1].interfaces[e.iface_index].addresses.empty());
  EXPECT_EQ(lab.links[1].ends[1].bridge_index, 0);
  EXPECT_EQ(lab.nodes[0].interfaces[0].link, 0);
}

TEST(Model, LinkImpairmentsApplyToBothEndsAndEgressOverridesOne) {
  Lab lab = must_load(R"(name = "i"
[nodes.a]
[nodes.b]
[[links]]
endpoints = ["a:eth0", "b:eth0"]
delay = "10ms"
loss = "1%"
[links.egress."b:eth0"]
rate = "1mbit"
delay = "50ms"
)");
  const auto& l = lab.links[0];
  EXPECT_EQ(l.egress[0].delay->ns, 10'000'000u);
  EXPECT_FALSE(l.egress[0].rate);
  EXPECT_EQ(l.egress[1].delay->ns, 50'000'000u);
  EXPECT_EQ(l.egress[1].rate->bits_per_sec, 1'000'000u);
  EXPECT_DOUBLE_EQ(l.egress[1].loss->value, 1.0);
}

TEST(Model, NatFirewallCommandsAndChecks) {
  Lab lab = must_load(R"(name = "n"
[nodes.gw]
interfaces = { eth0 = "192.168.1.1/24", eth1 = "203.0.113.1/24" }
nat = [{ masquerade = "eth1" }, { snat = { out = "eth1", to = "203.0.113.10-203.0.113.20" } },
       { dnat = { in = "eth1", port = 8080, proto = "udp", to = "192.168.1.2:80" } }]
firewall = { forward = "drop", allow = ["eth0", "10.0.0.0/8"], open = ["tcp/22"] }
exec = ["echo hi", ["/bin/true", "x"]]
cmd = "sleep 1000"
user = "1000:1000"
binds = ["/tmp:/mnt:ro"]
sysctls = { "net.ipv4.ip_forward" = 1 }
[nodes.h]
interfaces.eth0 = "192.168.1.2/24"
[nodes.isp]
interfaces.eth0 = "203.0.113.254/24"
[[links]]
endpoints = ["gw:eth0", "h:eth0"]
[[links]]
endpoints = ["gw:eth1", "isp:eth0"]
[[checks]]
kind = "connect"
from = "isp"
to = "203.0.113.1"
port = 8080
proto = "udp"
source = "203.0.113.254"
)");
  const Node& gw = lab.nodes[0];
  ASSERT_EQ(gw.nat.size(), 3u);
  EXPECT_EQ(gw.nat[1].to->str(), "203.0.113.10");
  EXPECT_EQ(gw.nat[1].to_end->str(), "203.0.113.20");
  EXPECT_EQ(gw.nat[2].proto, "udp");
  EXPECT_EQ(gw.nat[2].to_port, 80);
  ASSERT_TRUE(gw.firewall);
  EXPECT_EQ(gw.firewall->forward, Policy::kDrop);
  EXPECT_EQ(gw.firewall->allow_ifaces, std::vector<std::string>{"eth0"});
  EXPECT_EQ(gw.firewall->allow_from[0].str(), "10.0.0.0/8");
  EXPECT_EQ(gw.firewall->open_ports[0].port, 22);
  ASSERT_EQ(gw.exec.size(), 2u);
  EXPECT_TRUE(gw.exec[0].shell);
  EXPECT_EQ(gw.exec[0].argv, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
  EXPECT_FALSE(gw.exec[1].shell);
  EXPECT_EQ(gw.user->uid, 1000u);
  EXPECT_TRUE(gw.binds[0].read_only);
  EXPECT_EQ(gw.sysctls.at("net.ipv4.ip_forward"), "1");
  ASSERT_EQ(lab.checks.size(), 1u);
  EXPECT_EQ(lab.checks[0].from_index, 2);
  EXPECT_EQ(lab.checks[0].expect_source->str(), "203.0.113.254");
  EXPECT_EQ(lab.checks[0].name, "connect isp -> 203.0.113.1 udp/8080");
}

TEST(Model, EveryShippedTopologyValidates) {
  size_t n = 0;
  size_t dirs = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(NETLAB_SOURCE_DIR) + "/topologies")) {
    // topologies/*.toml, and the directory labs' topologies/*/topology.toml.
    std::filesystem::path file = e.path();
    if (e.is_directory()) {
      file /= "topology.toml";
      if (!std::filesystem::exists(file)) continue;
      ++dirs;
    } else if (file.extension() != ".toml") {
      continue;
    }
    ++n;
    Diagnostics diags;
    EXPECT_TRUE(load_file(file, diags)) << file << "\n" << diags.render();
    EXPECT_TRUE(diags.all().empty()) << file << "\n" << diags.render();
  }
  EXPECT_GE(n, 3u);
  EXPECT_GE(dirs, 2u);  // frr-ospf and bird-bgp
}

struct GenCase {
  GenerateSpec spec;
  size_t nodes, links, bridges;
};

TEST(Generate, EveryKindValidatesWithTheRequestedCounts) {
  auto spec = [](GenerateKind k, int a, int b = 0, int c = 0) {
    GenerateSpec s;
    s.kind = k;
    if (k == GenerateKind::kTree) { s.depth = a; s.fanout = b; }
    else if (k == GenerateKind::kClos) { s.spines = a; s.leaves = b; s.hosts_per_leaf = c; }
    else s.n = a;
    return s;
  };
  std::vector<GenCase> cases = {
      {spec(GenerateKind::kLine, 2), 2, 1, 0},     {spec(GenerateKind::kLine, 1000), 1000, 999, 0},
      {spec(GenerateKind::kRing, 3), 3, 3, 0},     {spec(GenerateKind::kRing, 7), 7, 7, 0},
      {spec(GenerateKind::kStar, 1), 1, 1, 1},     {spec(GenerateKind::kStar, 1023), 1023, 1023, 1},
      {spec(GenerateKind::kTree, 3, 2), 15, 14, 0}, {spec(GenerateKind::kTree, 1, 5), 6, 5, 0},
      {spec(GenerateKind::kClos, 2, 4, 3), 2 + 4 + 12, 4 * 2 + 4 + 12, 4},
  };
  for (const auto& c : cases) {
    std::string text = generate(c.spec);
    Diagnostics diags;
    auto lab = load_string(text, "gen.toml", diags);
    ASSERT_TRUE(lab) << diags.render(text);
    EXPECT_TRUE(diags.all().empty()) << diags.render(text);
    EXPECT_EQ(lab->nodes.size(), c.nodes) << lab->name;
    EXPECT_EQ(lab->links.size(), c.links) << lab->name;
    EXPECT_EQ(lab->bridges.size(), c.bridges) << lab->name;
  }
}

TEST(Generate, RoutesAreAggregatedNotQuadratic) {
  GenerateSpec s;
  s.kind = GenerateKind::kLine;
  s.n = 1000;
  Diagnostics diags;
  auto lab = load_string(generate(s), "line.toml", diags);
  ASSERT_TRUE(lab);
  size_t routes = 0;
  for (const auto& n : lab->nodes) routes += n.routes.size();
  EXPECT_LT(routes, 1000u * 12);  // O(N log N), where naive per-subnet routes are ~N²
}

TEST(Generate, RejectsImpossibleSizes) {
  GenerateSpec s;
  s.kind = GenerateKind::kLine;
  s.n = 1;
  EXPECT_THROW(generate(s), Error);
  s.kind = GenerateKind::kStar;
  s.n = 5000;
  s.lan_pool = "192.168.0.0/24";
  EXPECT_THROW(generate(s), Error);
  s.n = 1024;  // one port more than a Linux bridge takes
  s.lan_pool = "10.0.0.0/16";
  EXPECT_THROW(generate(s), Error);
  s.n = 1023;
  EXPECT_NO_THROW(generate(s));
}

TEST(Model, ABridgeWithMoreThan1023PortsIsRefusedBeforeAnythingIsBuilt) {
  std::string text = "name = \"big\"\n[bridges.sw]\n";
  for (int i = 1; i <= 1024; ++i)
    text += fmt::format("[nodes.h{0}]\ninterfaces.eth0 = \"10.1.{1}.{2}/16\"\n[[links]]\nendpoints = [\"h{0}:eth0\", \"sw\"]\n",
                        i, i / 250, i % 250 + 1);
  Diagnostics diags;
  EXPECT_FALSE(load_string(text, "big.toml", diags));
  EXPECT_NE(diags.render(text).find("bridge sw has 1024 ports; a Linux bridge takes at most 1023"), std::string::npos)
      << diags.render(text);
}

}  // namespace
}  // namespace netlab::topo
