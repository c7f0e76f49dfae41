// One host's part of a multi-host lab and its plan: tunnels become VXLAN
// actions, everything else is planned as on one host (no privileges).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cluster/part.hpp"
#include "lab/plan.hpp"
#include "topology/parse.hpp"
#include "lab_text.hpp"

namespace netlab::cluster {
namespace {

// r1 - r2 - r3 routed across h1, h2, h3; a1, a2, a3 on one LAN spanning all three.
const std::string kThree = "name = \"mh\"\nvxlan_port = 4790\n" + test::hosts_toml(3) + R"(
[bridges.lan]
[nodes.r1]
host = "h1"
interfaces.eth0 = "10.0.12.1/24"
routes = [{ to = "10.0.23.0/24", via = "10.0.12.2" }]
[nodes.r2]
host = "h2"
forwarding = true
interfaces = { eth0 = "10.0.12.2/24", eth1 = "10.0.23.1/24" }
[nodes.r3]
host = "h3"
interfaces.eth0 = "10.0.23.2/24"
routes = [{ to = "10.0.12.0/24", via = "10.0.23.1" }]
[nodes.a1]
host = "h1"
interfaces.eth0 = "192.168.50.1/24"
[nodes.a2]
host = "h2"
interfaces.eth0 = "192.168.50.2/24"
[nodes.a3]
host = "h3"
interfaces.eth0 = "192.168.50.3/24"
[[links]]
endpoints = ["r1:eth0", "r2:eth0"]
delay = "1ms"
[[links]]
endpoints = ["r2:eth1", "r3:eth0"]
mtu = 1400
[[links]]
endpoints = ["a1:eth0", "lan"]
[[links]]
endpoints = ["a2:eth0", "lan"]
[[links]]
endpoints = ["a3:eth0", "lan"]
[[checks]]
kind = "ping"
from = "r1"
to = "r3"
)";

using test::load;

TEST(HostPart, KeepsLocalNodesAndTurnsCrossLinksIntoTunnels) {
  auto lab = load(kThree);
  Placement p = place(lab);
  VniPlan v = vni_plan(lab, p);
  ASSERT_EQ(v.cross_links.size(), 2u);
  ASSERT_EQ(v.spans.size(), 1u);
  size_t dropped = 0;
  topo::Lab h2 = host_part(lab, p, v, lab.find_host("h2"), &dropped);
  EXPECT_EQ(dropped, 1u);  // r1 -> r3 involves other hosts
  ASSERT_EQ(h2.nodes.size(), 2u);
  EXPECT_EQ(h2.nodes[0].name, "r2");
  EXPECT_EQ(h2.nodes[1].name, "a2");
  ASSERT_EQ(h2.links.size(), 3u);
  const auto& l0 = h2.links[0];
  ASSERT_TRUE(l0.tunnel);
  EXPECT_EQ(l0.ends[0].str(), "r2:eth0");
  EXPECT_EQ(l0.ends[1].node_index, -1);
  EXPECT_EQ(l0.tunnel->remotes.at(0).str(), "192.0.2.11");
  EXPECT_EQ(l0.tunnel->local.str(), "192.0.2.12");
  EXPECT_EQ(l0.tunnel->port, 4790);
  EXPECT_EQ(l0.tunnel->vni, v.link_vni[0]);
  EXPECT_EQ(*l0.mtu, 1450u);          // lowered for VXLAN over IPv4
  EXPECT_EQ(*h2.links[1].mtu, 1400u);  // the topology's own mtu wins
  EXPECT_EQ(h2.links[1].tunnel->remotes.at(0).str(), "192.0.2.13");
  ASSERT_EQ(h2.bridges.size(), 1u);
  ASSERT_TRUE(h2.bridges[0].tunnel);
  ASSERT_EQ(h2.bridges[0].tunnel->remotes.size(), 2u);
  EXPECT_EQ(h2.bridges[0].tunnel->remotes[0].str(), "192.0.2.11");
  EXPECT_EQ(h2.bridges[0].tunnel->remotes[1].str(), "192.0.2.13");
  EXPECT_FALSE(h2.links[2].tunnel);  // a2 <-> lan is a local veth into the local copy
  EXPECT_EQ(*h2.links[2].mtu, 1450u);
  EXPECT_EQ(h2.nodes[0].interfaces[0].link, 0);
  EXPECT_EQ(h2.nodes[0].interfaces[1].link, 1);
  EXPECT_EQ(h2.nodes[1].interfaces[0].link, 2);
}

TEST(HostPart, PlanHasVxlanDevicesInNodesAndAReplicatingBridgePort) {
  auto lab = load(kThree);
  Placement p = place(lab);
  VniPlan v = vni_plan(lab, p);
  topo::Lab h1 = host_part(lab, p, v, lab.find_host("h1"));
  lab::Plan plan = lab::plan(h1, lab::HostFacts{});
  std::vector<const lab::CreateVxlan*> vx;
  std::vector<const lab::AddFdb*> fdb;
  size_t veths = 0, qdiscs = 0;
  for (auto& a : plan.actions) {
    if (auto* x = std::get_if<lab::CreateVxlan>(&a)) vx.push_back(x);
    if (auto* x = std::get_if<lab::AddFdb>(&a)) fdb.push_back(x);
    if (std::holds_alternative<lab::CreateVeth>(a)) ++veths;
    if (auto* q = std::get_if<lab::AddQdisc>(&a)) {
      ++qdiscs;
      EXPECT_EQ(q->ns, "r1");  // the far end's impairment is the other host's to apply
    }
  }
  EXPECT_EQ(veths, 1u);   // a1 <-> lan
  EXPECT_EQ(qdiscs, 1u);  // delay on r1:eth0's egress
  ASSERT_EQ(vx.size(), 2u);
  EXPECT_EQ(vx[0]->ns, "r1");
  EXPECT_EQ(vx[0]->name, "eth0");
  EXPECT_EQ(vx[0]->remote, "192.0.2.12");
  EXPECT_EQ(vx[0]->local, "192.0.2.11");
  EXPECT_EQ(vx[0]->vni, v.link_vni[0]);
  EXPECT_EQ(vx[0]->mtu, 1450u);
  EXPECT_FALSE(vx[0]->learning);
  EXPECT_EQ(vx[1]->ns, lab::kFabricNs);
  EXPECT_EQ(vx[1]->remote, "");
  EXPECT_TRUE(vx[1]->learning);
  EXPECT_EQ(lab::ns_of(*vx[0]), lab::kHostNs);  // sent from the underlay's namespace
  ASSERT_EQ(fdb.size(), 2u);
  EXPECT_EQ(fdb[0]->remote, "192.0.2.12");
  EXPECT_EQ(fdb[1]->remote, "192.0.2.13");
  EXPECT_EQ(fdb[0]->ifindex, vx[1]->ifindex);
  // The journal round-trips the new actions, and they need no undo of their own.
  for (const lab::Action& a : {lab::Action(*vx[0]), lab::Action(*fdb[0])}) {
    nlohmann::json j;
    lab::to_json(j, a);
    EXPECT_EQ(lab::describe(lab::action_from_json(j)), lab::describe(a));
    EXPECT_FALSE(lab::undo_of(a).has_value());
  }
}

TEST(HostPart, EveryHostAgreesOnTheVniOfEachTunnel) {
  auto lab = load(kThree);
  Placement p = place(lab);
  VniPlan v = vni_plan(lab, p);
  std::map<std::string, std::vector<uint32_t>> seen;  // ends -> vni per host
  for (size_t h = 0; h < lab.hosts.size(); ++h) {
    topo::Lab part = host_part(lab, p, v, static_cast<int>(h));
    for (auto& a : lab::plan(part, lab::HostFacts{}).actions)
      if (auto* x = std::get_if<lab::CreateVxlan>(&a)) seen[x->ns == lab::kFabricNs ? "lan" : "link"].push_back(x->vni);
  }
  ASSERT_EQ(seen["lan"].size(), 3u);
  EXPECT_EQ(seen["lan"][0], seen["lan"][2]);
  ASSERT_EQ(seen["link"].size(), 4u);  // two links, two ends each
}

}  // namespace
}  // namespace netlab::cluster
