// Placement and VNI plan of multi-host labs (src/cluster/), no privileges.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

#include "cluster/placement.hpp"
#include "cluster/vni.hpp"
#include "topology/generate.hpp"
#include "topology/parse.hpp"
#include "lab_text.hpp"

namespace netlab::cluster {
namespace {

using test::hosts_toml;
using test::load;

// A generated clos (spines, leaves, hosts on a bridge per leaf) on k hosts.
topo::Lab clos(int spines, int leaves, int per_leaf, int k) {
  topo::GenerateSpec g;
  g.kind = topo::GenerateKind::kClos;
  g.spines = spines;
  g.leaves = leaves;
  g.hosts_per_leaf = per_leaf;
  g.name = "clos";
  return load(topo::generate(g) + "\n" + hosts_toml(k));
}

const std::string kPinned = "name = \"mh\"\n" + hosts_toml(3) + R"(
[nodes.a]
host = "h3"
[nodes.b]
host = "h1"
[nodes.c]
[nodes.d]
[nodes.e]
[nodes.f]
[bridges.lan]
[[links]]
endpoints = ["a:eth0", "b:eth0"]
[[links]]
endpoints = ["b:eth1", "c:eth0"]
[[links]]
endpoints = ["c:eth1", "d:eth0"]
[[links]]
endpoints = ["e:eth0", "lan"]
[[links]]
endpoints = ["f:eth0", "lan"]
[[links]]
endpoints = ["a:eth1", "lan"]
)";

TEST(Placement, PinnedNodesStayAndTheRestIsBalanced) {
  auto lab = load(kPinned);
  for (auto method : {Method::kMetis, Method::kRoundRobin}) {
    Placement p = place(lab, method);
    ASSERT_EQ(p.node_host.size(), 6u);
    EXPECT_EQ(p.node_host[lab.find_node("a")], lab.find_host("h3"));
    EXPECT_EQ(p.node_host[lab.find_node("b")], lab.find_host("h1"));
    for (size_t n : p.nodes_per_host) EXPECT_LE(n, 3u);
    EXPECT_EQ(p.nodes_per_host[0] + p.nodes_per_host[1] + p.nodes_per_host[2], 6u);
  }
}

TEST(Placement, SameFileSamePlacement) {
  auto lab = clos(4, 16, 8, 3);
  Placement a = place(lab), b = place(lab);
  EXPECT_EQ(a.node_host, b.node_host);
  EXPECT_EQ(vni_plan(lab, a).link_vni, vni_plan(lab, b).link_vni);
}

TEST(Placement, MetisCutsNoMoreThanRoundRobinOnAClos) {
  auto lab = clos(4, 16, 8, 3);  // 4 + 16 + 128 nodes
  Placement metis = place(lab, Method::kMetis);
  Placement rr = place(lab, Method::kRoundRobin);
  EXPECT_LE(metis.cut(), rr.cut());
  EXPECT_LT(metis.cut(), rr.cut() / 2) << "metis " << metis.cut() << " round-robin " << rr.cut();
  size_t lo = *std::min_element(metis.nodes_per_host.begin(), metis.nodes_per_host.end());
  size_t hi = *std::max_element(metis.nodes_per_host.begin(), metis.nodes_per_host.end());
  EXPECT_LE(hi - lo, lab.nodes.size() / 10) << "unbalanced: " << lo << ".." << hi;
}

TEST(Placement, CpuWeightsBalanceLoadNotCount) {
  std::string t = "name = \"w\"\n" + hosts_toml(2);
  t += "[nodes.big]\ncpus = 4\n";
  for (int i = 0; i < 8; ++i) t += fmt::format("[nodes.s{}]\ncpus = 0.5\n", i);
  auto lab = load(t);
  Placement p = place(lab);
  int big_host = p.node_host[lab.find_node("big")];
  // 4 cores alone on one side, 8 x 0.5 on the other, give or take one node.
  EXPECT_LE(p.nodes_per_host[big_host], 2u);
}

TEST(Placement, MoreHostsThanNodes) {
  auto lab = load("name = \"x\"\n" + hosts_toml(3) + "[nodes.a]\n");
  Placement p = place(lab);
  EXPECT_EQ(p.node_host.size(), 1u);
}

TEST(VniPlan, CrossLinksAndSpanningBridgesGetDistinctStableVnis) {
  auto lab = load(kPinned);
  Placement p = place(lab);
  VniPlan v = vni_plan(lab, p);
  std::set<uint32_t> all(v.link_vni.begin(), v.link_vni.end());
  all.insert(v.bridge_vni.begin(), v.bridge_vni.end());
  EXPECT_EQ(all.size(), lab.links.size() + lab.bridges.size());
  for (uint32_t vni : all) {
    EXPECT_GE(vni, kMinVni);
    EXPECT_LE(vni, kMaxVni);
  }
  // a (h3) <-> b (h1) always crosses.
  bool found = false;
  for (auto& c : v.cross_links) found = found || c.link == 0;
  EXPECT_TRUE(found);
  // A VNI depends on the lab and the link's own endpoints, not on other links.
  auto other = load(std::string(kPinned) + "[nodes.z]\n[[links]]\nendpoints = [\"z:eth0\", \"d:eth1\"]\n");
  EXPECT_EQ(vni_plan(other, place(other)).link_vni[0], v.link_vni[0]);
  EXPECT_EQ(link_key(lab, lab.links[0]), "mh/link/a:eth0|b:eth0");
}

TEST(VniPlan, RenderNamesHostsLinksAndVnis) {
  auto lab = load(kPinned);
  Placement p = place(lab);
  VniPlan v = vni_plan(lab, p);
  std::string text = render_placement(lab, p, v);
  EXPECT_NE(text.find("a -> h3 (pinned)"), std::string::npos) << text;
  EXPECT_NE(text.find(fmt::format("a:eth0 <-> b:eth0  h3 <-> h1  vni {}", v.link_vni[0])), std::string::npos)
      << text;
}

}  // namespace
}  // namespace netlab::cluster
