// Issue 3: deploy builds exactly the network a topology asks for. Every
// interface, address and route of every node is read back with iproute2's JSON
// (a cross-check independent of netlab's own netlink code), pings pass where
// the topology routes and fail where it doesn't, labs with the same names
// coexist, and netlab executes nothing but the node programs asked for.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "support/lab_fixture.hpp"
#include "netlink/addr.hpp"
#include "netlink/dump.hpp"
#include "netlink/netns.hpp"
#include "topology/parse.hpp"

namespace netlab::testing {
namespace {

topo::Lab load(const std::string& path) {
  Diagnostics diags;
  auto lab = topo::load_file(path, diags);
  EXPECT_TRUE(lab) << diags.render();
  return lab.value_or(topo::Lab{});
}

std::string first_address(const topo::Node& n, bool v6) {
  for (const auto& i : n.interfaces)
    for (const auto& a : i.addresses)
      if (a.addr.is_v6() == v6) return a.addr.str();
  return "";
}

class LabNetworkTest : public LabTest {
 protected:
  // The same facts read back over netlink (netlab's own read-back), in each node's netns.
  void expect_netlink_readback(const topo::Lab& lab) {
    for (const auto& node : lab.nodes) {
      SCOPED_TRACE("netlink read-back of " + node.name);
      auto ns = nl::Netns::open("/run/netns/" + lab.name + "-" + node.name);
      auto sock = nl::RtnlSocket::open_in(ns, node.name);
      auto links = nl::dump_links(sock);
      auto addrs = nl::dump_addresses(sock);
      auto routes = nl::dump_routes(sock);
      for (const auto& iface : node.interfaces) {
        const nl::LinkInfo* link = nullptr;
        for (const auto& l : links)
          if (l.name == iface.name) link = &l;
        ASSERT_NE(link, nullptr) << iface.name;
        EXPECT_TRUE(link->up);
        EXPECT_EQ(link->kind, "veth");
        for (const auto& want : iface.addresses) {
          bool found = false;
          for (const auto& a : addrs) found |= a.ifindex == link->ifindex && a.prefix == want.str();
          EXPECT_TRUE(found) << want.str();
        }
      }
      for (const auto& r : node.routes) {
        bool found = false;
        for (const auto& k : routes) {
          std::string dst = r.to.is_default ? ((r.via && r.via->is_v6()) ? "::/0" : "0.0.0.0/0") : r.to.network().str();
          found |= k.dst == dst && (!r.via || k.gateway == r.via->str()) && k.protocol == nl::kNetlabRouteProtocol;
        }
        EXPECT_TRUE(found) << "route to " << r.to.str();
      }
    }
  }

  // Every interface is up with exactly the file's addresses; every route is there.
  void expect_network_as_written(const topo::Lab& lab) {
    for (const auto& node : lab.nodes) {
      std::string ns = lab.name + "-" + node.name;
      auto addrs = ip_json(ns, "addr show");
      ASSERT_FALSE(addrs.empty()) << "no readback from netns " << ns;
      for (const auto& iface : node.interfaces) {
        SCOPED_TRACE(node.name + ":" + iface.name);
        const nlohmann::json* found = nullptr;
        for (const auto& l : addrs)
          if (l["ifname"] == iface.name) found = &l;
        ASSERT_NE(found, nullptr) << "interface missing";
        EXPECT_NE((*found)["flags"].dump().find("\"UP\""), std::string::npos) << found->dump();
        if (iface.mtu) {
          EXPECT_EQ((*found)["mtu"], *iface.mtu);
        }
        for (const auto& want : iface.addresses) {
          bool present = false;
          for (const auto& a : (*found)["addr_info"])
            if (a["local"] == want.addr.str() && a["prefixlen"] == want.len) present = true;
          EXPECT_TRUE(present) << "address " << want.str() << " missing in " << found->dump();
        }
      }
      auto routes4 = ip_json(ns, "-4 route show");
      auto routes6 = ip_json(ns, "-6 route show");
      for (const auto& r : node.routes) {
        SCOPED_TRACE(node.name + " route " + r.to.str());
        bool v6 = r.via ? r.via->is_v6() : r.to.addr.is_v6();
        const auto& table = v6 ? routes6 : routes4;
        std::string dst = r.to.is_default ? "default" : r.to.network().str();
        if (!r.to.is_default && r.to.len == (v6 ? 128 : 32)) dst = r.to.addr.str();
        bool present = false;
        for (const auto& entry : table) {
          if (entry["dst"] != dst) continue;
          if (r.via && entry.value("gateway", "") != r.via->str()) continue;
          if (!r.dev.empty() && entry.value("dev", "") != r.dev) continue;
          if (r.metric && entry.value("metric", 0u) != r.metric) continue;
          present = true;
        }
        EXPECT_TRUE(present) << "route missing; table: " << table.dump();
      }
    }
  }
};

TEST_F(LabNetworkTest, NatGatewayNetworkIsBuiltAsWrittenAndBridged) {
  std::string name;
  std::string path = shipped("nat-gateway.toml", name);
  auto before = snapshot();
  deploy_ok(path);
  auto lab = load(path);
  expect_network_as_written(lab);
  expect_netlink_readback(lab);

  // The bridge lives in the fabric netns with the three LAN ports enslaved.
  auto links = ip_json("netlab-" + name, "link show");
  int ports = 0;
  for (const auto& l : links)
    if (l.value("master", "") == "lan") ++ports;
  EXPECT_EQ(ports, 3) << links.dump();

  auto& nodes = lab.nodes;
  auto node = [&](const char* n) { return nodes[lab.find_node(n)]; };
  EXPECT_TRUE(ping(name + "-h1", first_address(node("gw"), false)));
  EXPECT_TRUE(ping(name + "-h1", first_address(node("h2"), false)));
  EXPECT_TRUE(ping(name + "-gw", "203.0.113.254"));
  // isp has no route to the private LAN.
  EXPECT_FALSE(ping(name + "-isp", first_address(node("h1"), false)));

  destroy_ok(name);
  EXPECT_EQ(before, snapshot()) << before.diff(snapshot());
}

TEST_F(LabNetworkTest, RoutedLinePingsEndToEndOverIPv4AndIPv6) {
  std::string name;
  std::string path = shipped("routed-line.toml", name);
  deploy_ok(path);
  auto lab = load(path);
  expect_network_as_written(lab);
  expect_netlink_readback(lab);
  const auto& h2 = lab.nodes[lab.find_node("h2")];
  std::string v4 = first_address(h2, false), v6 = first_address(h2, true);
  ASSERT_FALSE(v4.empty());
  ASSERT_FALSE(v6.empty());
  EXPECT_TRUE(ping(name + "-h1", v4));
  EXPECT_TRUE(ping(name + "-h1", v6));
  destroy_ok(name);
}

TEST_F(LabNetworkTest, BridgeLanReachesTheHostSideAddress) {
  std::string name;
  std::string path = shipped("bridge-lan.toml", name);
  auto before = snapshot();
  deploy_ok(path);
  auto lab = load(path);
  expect_network_as_written(lab);
  expect_netlink_readback(lab);
  const topo::Bridge* attached = nullptr;
  for (const auto& b : lab.bridges)
    if (b.host) attached = &b;
  ASSERT_NE(attached, nullptr) << "bridge-lan.toml should attach a bridge to the host";
  // The host side (here: the test's own root netns) carries the address and the marker.
  auto host = ip_json("", "addr show dev " + attached->host->iface);
  ASSERT_EQ(host.size(), 1u);
  EXPECT_EQ(host[0]["addr_info"][0]["local"], attached->host->addresses[0].addr.str());
  auto detail = ip_json("", "-d link show dev " + attached->host->iface);
  EXPECT_EQ(detail[0].value("ifalias", ""), "netlab:" + name + ":" + attached->name);
  // A node on that bridge reaches the host address.
  for (const auto& l : lab.links) {
    for (int e = 0; e < 2; ++e) {
      if (l.ends[e].kind == topo::Endpoint::Kind::kBridge && l.ends[e].bridge == attached->name) {
        const auto& other = l.ends[1 - e];
        EXPECT_TRUE(ping(name + "-" + other.node, attached->host->addresses[0].addr.str()));
        goto pinged;
      }
    }
  }
pinged:
  destroy_ok(name);
  EXPECT_EQ(before, snapshot()) << before.diff(snapshot());
}

TEST_F(LabNetworkTest, TwoLabsWithTheSameNamesDeploySideBySide) {
  const char* text = R"(name = "NAME"
[bridges.lan]
[nodes.a]
interfaces.eth0 = "10.1.0.1/24"
[nodes.b]
interfaces.eth0 = "10.1.0.2/24"
[[links]]
endpoints = ["a:eth0", "lan"]
[[links]]
endpoints = ["b:eth0", "lan"]
)";
  std::string one = lab_prefix_ + "a", two = lab_prefix_ + "b";
  auto make = [&](const std::string& n) {
    std::string t = text;
    t.replace(t.find("NAME"), 4, n);
    return topology(n, t);
  };
  deploy_ok(make(one));
  deploy_ok(make(two));
  EXPECT_TRUE(ping(one + "-a", "10.1.0.2"));
  EXPECT_TRUE(ping(two + "-a", "10.1.0.2"));
  // Same addresses, same bridge name, different fabrics: the labs do not see each other.
  auto mac_one = ip_json(one + "-b", "link show dev eth0")[0]["address"];
  run_shell("ip netns exec " + one + "-a busybox arping -c1 -w1 -I eth0 10.1.0.2 >/dev/null 2>&1");
  auto neigh = ip_json(two + "-a", "neigh show dev eth0");
  for (const auto& n : neigh) EXPECT_NE(n.value("lladdr", ""), mac_one) << "lab two learnt lab one's MAC";
  destroy_ok(one);
  EXPECT_TRUE(ping(two + "-a", "10.1.0.2")) << "destroying one lab broke the other";
  destroy_ok(two);
}

TEST_F(LabNetworkTest, IPv6IsOnOnlyWhereTheNodeUsesItAndNeverInTheFabric) {
  std::string name = lab_prefix_ + "6";
  deploy_ok(topology(name, "name = \"" + name + R"("
[bridges.lan]
[nodes.plain]
interfaces.eth0 = "10.6.0.1/24"
[nodes.asked]
ipv6 = true
interfaces.eth0 = "10.6.0.2/24"
[nodes.dual]
interfaces.eth0 = ["10.6.0.3/24", "fd00:6::3/64"]
[[links]]
endpoints = ["plain:eth0", "lan"]
[[links]]
endpoints = ["asked:eth0", "lan"]
[[links]]
endpoints = ["dual:eth0", "lan"]
)"));
  auto v6_addresses = [&](const std::string& ns, const std::string& dev) {
    std::vector<std::string> out;
    for (const auto& link : ip_json(ns, "-6 addr show" + (dev.empty() ? "" : " dev " + dev)))
      for (const auto& a : link.value("addr_info", nlohmann::json::array())) out.push_back(a["local"]);
    return out;
  };
  auto sysctl = [&](const std::string& ns, const std::string& key) {
    return run_shell("ip netns exec " + ns + " cat /proc/sys/" + key + " 2>/dev/null");
  };
  // No IPv6 setting: IPv6 is off on its interfaces, so it sends no solicitations or reports.
  EXPECT_TRUE(v6_addresses(name + "-plain", "eth0").empty());
  EXPECT_EQ(sysctl(name + "-plain", "net/ipv6/conf/eth0/disable_ipv6"), "1\n");
  // Asked for: a link-local address, as Linux gives any interface.
  auto asked = v6_addresses(name + "-asked", "eth0");
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].rfind("fe80:", 0), 0u) << asked[0];
  // Used: its address and a link-local.
  auto dual = v6_addresses(name + "-dual", "eth0");
  EXPECT_NE(std::find(dual.begin(), dual.end(), "fd00:6::3"), dual.end());
  EXPECT_EQ(dual.size(), 2u);
  // IPv4 is untouched either way.
  EXPECT_TRUE(ping(name + "-plain", "10.6.0.3"));
  // The fabric only switches: no IPv6 address on its bridge or ports, and bridged
  // frames skip the host's iptables when br_netfilter is loaded.
  EXPECT_TRUE(v6_addresses("netlab-" + name, "").empty());
  std::string nf = sysctl("netlab-" + name, "net/bridge/bridge-nf-call-ip6tables");
  if (!nf.empty()) {
    EXPECT_EQ(nf, "0\n");
  }
  destroy_ok(name);
}

TEST_F(LabNetworkTest, DeployExecutesNothingButTheNodePrograms) {
  int rc = -1;
  run_shell("command -v strace >/dev/null", &rc);
  if (rc != 0) GTEST_SKIP() << "strace is not installed";
  // The shipped NAT gateway, plus node programs that must (and alone may) be executed.
  std::string name = lab_prefix_ + "x";
  std::string text = shipped_topology("nat-gateway.toml", name);
  text.replace(text.find("[nodes.isp]"), 11, "[nodes.isp]\nexec = [[\"/bin/true\"]]\ncmd = [\"/bin/sleep\", \"600\"]");
  std::string path = topology(name, text);
  std::string trace = files_dir_ + "/execve.trace";
  // strace -f keeps tracing the node inits after deploy returns, so it exits
  // only when they do: read deploy's output until it reports the lab up, then
  // destroy the lab, which ends the inits and with them strace.
  // -ff: one file per process, so no line is split into "unfinished" and
  // "resumed" halves when processes run side by side (they did under load).
  std::string cmd = "NETLAB_CGROUP_PARENT=" + cgroup_parent_ + " strace -f -ff -qq -e trace=execve,execveat -o " + trace + " " +
                    NETLAB_BINARY + " deploy " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  deployed_.push_back(name);
  bool up = false;
  size_t nodes = 0;
  char line[512];
  while (!up && fgets(line, sizeof line, p)) {
    std::string l(line);
    if (auto at = l.find(" deployed: "); at != std::string::npos) {
      up = true;
      nodes = std::stoul(l.substr(at + 11));  // "... deployed: 3 nodes, ..."
    }
  }
  EXPECT_TRUE(up) << "deploy under strace did not report the lab up";
  destroy_ok(name);
  while (fgets(line, sizeof line, p)) {
  }
  pclose(p);
  std::vector<std::string> execs;
  for (const auto& f : std::filesystem::directory_iterator(files_dir_)) {
    if (f.path().filename().string().rfind("execve.trace.", 0) != 0) continue;
    std::ifstream in(f.path());
    for (std::string line; std::getline(in, line);)
      if ((line.find("execve(") != std::string::npos || line.find("execveat(") != std::string::npos) &&
          line.find("= 0") != std::string::npos)
        execs.push_back(line);
  }
  // netlab's own exec first (the files come in no particular order).
  auto own = std::find_if(execs.begin(), execs.end(), [](const std::string& e) {
    return e.find(std::string("execve(\"") + NETLAB_BINARY + "\"") != std::string::npos;
  });
  if (own != execs.end()) std::iter_swap(execs.begin(), own);
  // netlab itself, its node init once (the zygote, which forks every node's
  // init), then exactly the node programs the topology asked for.
  std::string all;
  for (auto& e : execs) all += e + "\n";
  ASSERT_GE(nodes, 3u);
  ASSERT_EQ(execs.size(), 1 + 1 + 2) << "executed:\n" << all;
  EXPECT_NE(execs[0].find(std::string("execve(\"") + NETLAB_BINARY), std::string::npos) << all;
  size_t inits = 0, asked = 0;
  for (size_t i = 1; i < execs.size(); ++i) {
    if (execs[i].find("/netlab-init\", [\"netlab-init\", \"--zygote\", ") != std::string::npos) ++inits;
    if (execs[i].find("execve(\"/bin/true\"") != std::string::npos ||
        execs[i].find("execve(\"/bin/sleep\", [\"/bin/sleep\", \"600\"]") != std::string::npos)
      ++asked;
  }
  EXPECT_EQ(inits, 1u) << all;
  EXPECT_EQ(asked, 2u) << all;
}

}  // namespace
}  // namespace netlab::testing
