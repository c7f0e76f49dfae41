// Issue 5 with packets: masquerade rewrites the source a listener sees, DNAT
// forwards a port to a LAN host that sees the real client, a stateful firewall
// lets the LAN out and nothing new in but an opened port; the rules read back
// over netlink agree with `nft -j`; a refused replacement leaves the old table.
#include <nlohmann/json.hpp>

#include "netlink/netns.hpp"
#include "nft/ruleset.hpp"
#include "support/lab_fixture.hpp"
#include "support/listener.hpp"
#include "util/error.hpp"

namespace netlab::testing {
namespace {

class NatTest : public LabTest {
 protected:
  // A TCP connection from `node` to addr:port through busybox nc, 2 s at most.
  int connect(const std::string& lab, const std::string& node, const std::string& addr, int port) {
    return netlab({"exec", lab, node, "--", "sh", "-c",
                   "echo hello | nc -w 2 " + addr + " " + std::to_string(port)})
        .exit_code;
  }
};

TEST_F(NatTest, MasqueradeShowsTheGatewaysAddressAndNothingComesBackIn) {
  std::string lab;
  deploy_ok(shipped("nat-gateway.toml", lab));
  {
    Listener isp(lab + "-isp", 7000);
    EXPECT_EQ(connect(lab, "h1", "203.0.113.254", 7000), 0);
    EXPECT_EQ(isp.peer(), std::optional<std::string>("203.0.113.1")) << "not source-NATed to the gateway";
  }
  {
    Listener h1(lab + "-h1", 7001, 1500);
    EXPECT_NE(connect(lab, "isp", "192.168.50.2", 7001), 0);
    EXPECT_EQ(h1.peer(), std::nullopt) << "isp opened a connection to a host behind the NAT";
  }
  destroy_ok(lab);
}

TEST_F(NatTest, SnatRewritesToTheAddressAsked) {
  std::string lab = lab_prefix_ + "s";
  std::string text = shipped_topology("nat-gateway.toml", lab);
  text.replace(text.find("nat = [{ masquerade = \"eth1\" }]"), 31, "nat = [{ snat = { out = \"eth1\", to = \"203.0.113.9\" } }]");
  deploy_ok(topology(lab, text));
  // isp must answer 203.0.113.9, which nobody owns: tell isp where it lives.
  run_shell("ip -n " + lab + "-isp route add 203.0.113.9/32 via 203.0.113.1");
  Listener isp(lab + "-isp", 7003);
  EXPECT_EQ(connect(lab, "h1", "203.0.113.254", 7003), 0);
  EXPECT_EQ(isp.peer(), std::optional<std::string>("203.0.113.9"));
  auto info = nlohmann::json::parse(netlab({"inspect", lab, "--json"}).out);
  for (const auto& n : info["nodes"]) {
    if (n["name"] != "gw") {
      EXPECT_TRUE(n["nft"].is_null()) << n["name"];
      continue;
    }
    // The rule in the topology's terms; the kernel's table summarised, bytecode only with --raw.
    ASSERT_EQ(n["nat"].size(), 1u);
    EXPECT_EQ(n["nat"][0]["snat"]["out"], "eth1");
    EXPECT_EQ(n["nat"][0]["snat"]["to"], "203.0.113.9");
    EXPECT_EQ(n["nft"]["table"], "inet netlab");
    ASSERT_EQ(n["nft"]["chains"].size(), 1u);
    EXPECT_EQ(n["nft"]["chains"][0]["hook"], "postrouting");
    EXPECT_EQ(n["nft"]["chains"][0]["rules"], 1);
    EXPECT_FALSE(n["nft"]["chains"][0].contains("raw"));
  }
  auto raw = nlohmann::json::parse(netlab({"inspect", lab, "--json", "--raw"}).out);
  for (const auto& n : raw["nodes"])
    if (n["name"] == "gw") {
      ASSERT_EQ(n["nft"]["chains"][0]["raw"].size(), 1u);
      EXPECT_NE(n["nft"]["chains"][0]["raw"][0].get<std::string>().find("snat"), std::string::npos)
          << n["nft"]["chains"][0]["raw"][0];
    }
  auto table = netlab({"inspect", lab});
  EXPECT_NE(table.out.find("snat eth1 -> 203.0.113.9"), std::string::npos) << table.out;
  destroy_ok(lab);
}

TEST_F(NatTest, PortForwardReachesTheServerWhichSeesTheRealClient) {
  std::string lab;
  deploy_ok(shipped("port-forward.toml", lab));
  Listener web(lab + "-web", 80);
  EXPECT_EQ(connect(lab, "isp", "203.0.113.1", 8080), 0);
  EXPECT_EQ(web.peer(), std::optional<std::string>("203.0.113.254"));
  destroy_ok(lab);
}

TEST_F(NatTest, FirewallLetsTheLanOutDropsNewInboundButTheOpenedPort) {
  std::string lab;
  deploy_ok(shipped("firewall.toml", lab));
  {
    Listener up(lab + "-up", 7000);
    EXPECT_EQ(connect(lab, "h1", "198.51.100.2", 7000), 0);
    EXPECT_EQ(up.peer(), std::optional<std::string>("192.168.70.2"));  // routed, not NATed
  }
  {
    Listener h1(lab + "-h1", 7000, 1500);
    EXPECT_NE(connect(lab, "up", "192.168.70.2", 7000), 0);
    EXPECT_EQ(h1.peer(), std::nullopt) << "a new inbound connection got through the forward drop policy";
  }
  {
    Listener srv(lab + "-srv", 22);
    EXPECT_EQ(connect(lab, "up", "192.168.70.22", 22), 0);
    EXPECT_EQ(srv.peer(), std::optional<std::string>("198.51.100.2")) << "the opened port is closed";
  }
  // Without the filter the same inbound flow works: the drop above is the firewall's.
  auto gw = nl::Netns::open("/run/netns/" + lab + "-gw");
  nft::delete_table(gw, "gw", "netlab");
  {
    Listener h1(lab + "-h1", 7002);
    EXPECT_EQ(connect(lab, "up", "192.168.70.2", 7002), 0);
    EXPECT_EQ(h1.peer(), std::optional<std::string>("198.51.100.2"));
  }
  destroy_ok(lab);
}

TEST_F(NatTest, RulesReadBackOverNetlinkMatchNftJson) {
  std::string lab;
  deploy_ok(shipped("port-forward.toml", lab));
  auto gw = nl::Netns::open("/run/netns/" + lab + "-gw");
  auto chains = nft::list_table(gw, "gw", "netlab");
  auto j = nlohmann::json::parse(run_shell("ip netns exec " + lab + "-gw nft -j list ruleset"));
  std::map<std::string, nlohmann::json> nft_chains;
  std::map<std::string, int> nft_rules;
  for (const auto& item : j["nftables"]) {
    if (item.contains("chain")) nft_chains[item["chain"]["name"]] = item["chain"];
    if (item.contains("rule")) ++nft_rules[item["rule"]["chain"]];
  }
  ASSERT_EQ(chains.size(), nft_chains.size());
  for (const auto& c : chains) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(nft_chains.count(c.name));
    EXPECT_EQ(nft_chains[c.name]["hook"], c.hook);
    EXPECT_EQ(nft_chains[c.name]["policy"], c.policy);
    EXPECT_EQ(nft_chains[c.name]["type"], c.type);
    EXPECT_EQ(nft_chains[c.name]["prio"], c.priority);
    EXPECT_EQ(static_cast<int>(c.rules.size()), nft_rules[c.name]);
  }
  std::string text = run_shell("ip netns exec " + lab + "-gw nft list ruleset");
  EXPECT_NE(text.find("oifname \"eth1\" masquerade"), std::string::npos) << text;
  EXPECT_NE(text.find("iifname \"eth1\" tcp dport 8080 dnat ip to 192.168.60.10:80"), std::string::npos) << text;
  destroy_ok(lab);
}

TEST_F(NatTest, ARefusedReplacementLeavesThePreviousRulesetIntact) {
  auto ns = nl::Netns::create();
  nft::TableSpec good;
  good.masquerade.push_back({"eth1"});
  good.dnat.push_back({"eth1", "tcp", 8080, "192.168.1.2", 80});
  nft::apply_table(ns, "t", good);
  auto before = nft::list_table(ns, "t", "netlab");
  nft::TableSpec bad;
  bad.masquerade.push_back({"wan9"});
  bad.test_append_broken_rule = true;
  try {
    nft::apply_table(ns, "t", bad);
    FAIL() << "the kernel accepted a jump to a missing chain";
  } catch (const Error& e) {
    EXPECT_NE(e.errnum(), 0);
    EXPECT_NE(std::string(e.what()).find("adding rule \"jump no-such-chain (test)\" to table inet netlab in netns t"),
              std::string::npos)
        << e.what();
  }
  auto after = nft::list_table(ns, "t", "netlab");
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].name, before[i].name);
    EXPECT_EQ(after[i].rules, before[i].rules);
  }
  // A good replacement does replace: only the new masquerade remains.
  nft::TableSpec other;
  other.masquerade.push_back({"wan0"});
  nft::apply_table(ns, "t", other);
  auto replaced = nft::list_table(ns, "t", "netlab");
  ASSERT_EQ(replaced.size(), 1u);
  EXPECT_EQ(replaced[0].rules.size(), 1u);
  nft::delete_table(ns, "t", "netlab");
  nft::delete_table(ns, "t", "netlab");  // already gone: fine
  EXPECT_TRUE(nft::list_tables(ns, "t").empty());
}

}  // namespace
}  // namespace netlab::testing

namespace netlab::testing {
namespace {

TEST_F(NatTest, HostUplinkNatIsAddedAndDestroyRestoresTheHostExactly) {
  // This test's netns plays the host: an uplink with a default route (no packet
  // is sent through it), and a lab bridge attached to it with host NAT.
  int rc = -1;
  run_shell("ip link add up0 type veth peer name up1 && ip addr add 192.0.2.1/24 dev up0 && "
            "ip link set up0 up && ip link set up1 up && ip route add default via 192.0.2.2",
            &rc);
  ASSERT_EQ(rc, 0);
  std::string lab = lab_prefix_ + "h";
  std::string path = topology(lab, "name = \"" + lab + R"("
[bridges.mgmt]
host = { address = "10.198.0.1/24", iface = ")" + lab + R"(m" }
[nodes.a]
interfaces.eth0 = "10.198.0.2/24"
routes = [{ to = "default", via = "10.198.0.1" }]
[[links]]
endpoints = ["a:eth0", "mgmt"]
[host]
nat = [{ from = "mgmt" }]
)");
  auto ruleset_before = run_shell("nft list ruleset");
  auto forward_before = run_shell("cat /proc/sys/net/ipv4/ip_forward");
  ASSERT_EQ(forward_before, "0\n");
  auto before = snapshot();
  deploy_ok(path);
  auto table = run_shell("nft list table inet netlab_" + lab);
  EXPECT_NE(table.find("ip saddr 10.198.0.0/24 oifname \"up0\" masquerade"), std::string::npos) << table;
  EXPECT_EQ(run_shell("cat /proc/sys/net/ipv4/ip_forward"), "1\n");
  EXPECT_TRUE(ping(lab + "-a", "10.198.0.1"));
  destroy_ok(lab);
  EXPECT_EQ(run_shell("nft list ruleset"), ruleset_before);
  EXPECT_EQ(run_shell("cat /proc/sys/net/ipv4/ip_forward"), forward_before);
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);
  run_shell("ip link del up0");
}

}  // namespace
}  // namespace netlab::testing
