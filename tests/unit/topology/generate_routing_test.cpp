// The generators promise that every node reaches every other. This walks the
// generated static routes hop by hop (longest prefix match, connected subnets
// first) for every pair of nodes, in both directions — the routing a kernel
// would do, without a kernel.
#include <gtest/gtest.h>

#include <map>

#include "topology/generate.hpp"
#include "topology/parse.hpp"

namespace netlab::topo {
namespace {

class RouteWalker {
 public:
  explicit RouteWalker(const Lab& lab) : lab_(lab) {
    for (size_t l = 0; l < lab.links.size(); ++l) {
      std::string segment = "link:" + std::to_string(l);
      for (const auto& e : lab.links[l].ends)
        if (e.kind == Endpoint::Kind::kBridge) segment = "br:" + e.bridge;
      for (const auto& e : lab.links[l].ends)
        if (e.kind == Endpoint::Kind::kInterface) segment_of_[{e.node_index, e.iface_index}] = segment;
    }
    for (size_t n = 0; n < lab.nodes.size(); ++n)
      for (size_t i = 0; i < lab.nodes[n].interfaces.size(); ++i)
        for (const auto& a : lab.nodes[n].interfaces[i].addresses) owner_[a.addr.str()] = {int(n), int(i)};
  }

  // True if a packet from node `from` to address `dst` arrives at its owner.
  bool reaches(int from, const IpAddress& dst, std::string& trace) {
    int at = from;
    for (size_t hop = 0; hop <= lab_.nodes.size() + 1; ++hop) {
      const Node& n = lab_.nodes[at];
      trace += n.name + " ";
      auto own = owner_.at(dst.str());
      if (own.first == at) return true;
      // Connected subnet: the owner must be on the same segment.
      for (size_t i = 0; i < n.interfaces.size(); ++i)
        for (const auto& a : n.interfaces[i].addresses)
          if (a.contains(dst)) return segment_of_[{at, int(i)}] == segment_of_[own];
      const Route* best = nullptr;
      for (const auto& r : n.routes) {
        bool match = r.to.is_default ? r.to.addr.family == dst.family || (r.via && r.via->family == dst.family)
                                     : r.to.contains(dst);
        if (match && (!best || r.to.len > best->to.len)) best = &r;
      }
      if (!best || !best->via) return false;
      auto gw = owner_.find(best->via->str());
      if (gw == owner_.end()) return false;
      // The gateway must be directly connected.
      bool adjacent = false;
      for (size_t i = 0; i < n.interfaces.size(); ++i)
        if (segment_of_[{at, int(i)}] == segment_of_[gw->second]) adjacent = true;
      if (!adjacent) return false;
      at = gw->second.first;
    }
    trace += "(loop)";
    return false;
  }

 private:
  const Lab& lab_;
  std::map<std::pair<int, int>, std::string> segment_of_;
  std::map<std::string, std::pair<int, int>> owner_;
};

void expect_full_reachability(const GenerateSpec& spec) {
  Diagnostics diags;
  auto lab = load_string(generate(spec), "gen.toml", diags);
  ASSERT_TRUE(lab) << diags.render();
  RouteWalker walker(*lab);
  for (size_t s = 0; s < lab->nodes.size(); ++s)
    for (const auto& dst : lab->nodes)
      for (const auto& i : dst.interfaces)
        for (const auto& a : i.addresses) {
          std::string trace;
          EXPECT_TRUE(walker.reaches(int(s), a.addr, trace))
              << lab->name << ": " << lab->nodes[s].name << " -> " << a.addr.str() << " via " << trace;
        }
}

GenerateSpec make(GenerateKind k, int a, int b = 0, int c = 0) {
  GenerateSpec s;
  s.kind = k;
  if (k == GenerateKind::kTree) { s.depth = a; s.fanout = b; }
  else if (k == GenerateKind::kClos) { s.spines = a; s.leaves = b; s.hosts_per_leaf = c; }
  else s.n = a;
  return s;
}

TEST(GenerateRouting, LineReachesEverywhere) { expect_full_reachability(make(GenerateKind::kLine, 13)); }
TEST(GenerateRouting, RingReachesEverywhere) {
  expect_full_reachability(make(GenerateKind::kRing, 3));
  expect_full_reachability(make(GenerateKind::kRing, 8));
  expect_full_reachability(make(GenerateKind::kRing, 11));
}
TEST(GenerateRouting, StarReachesEverywhere) { expect_full_reachability(make(GenerateKind::kStar, 6)); }
TEST(GenerateRouting, TreeReachesEverywhere) {
  expect_full_reachability(make(GenerateKind::kTree, 3, 2));
  expect_full_reachability(make(GenerateKind::kTree, 2, 3));
}
TEST(GenerateRouting, ClosReachesEverywhere) {
  expect_full_reachability(make(GenerateKind::kClos, 2, 3, 2));
  expect_full_reachability(make(GenerateKind::kClos, 3, 2, 1));
}

}  // namespace
}  // namespace netlab::topo
