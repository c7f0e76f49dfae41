// The VNI plan of a multi-host lab (docs/multi-host.md). Every link and every
// bridge of the topology gets a VNI derived from the lab name and its own
// endpoint names (FNV-1a, 24 bits, above 4095), whether or not the placement
// makes it cross hosts: a VNI depends on the file, not on the placement, and
// adding a link elsewhere does not renumber the others. Collisions are resolved
// by rehashing the later key (keys in sorted order), so every host computes the
// same plan from the same file.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "cluster/placement.hpp"
#include "topology/model.hpp"

namespace netlab::cluster {

inline constexpr uint32_t kMinVni = 4096;        // leave the low VNIs to hand-made tunnels
inline constexpr uint32_t kMaxVni = (1u << 24) - 1;

struct CrossLink {
  int link = -1;           // index into Lab::links
  uint32_t vni = 0;
  std::array<int, 2> host{-1, -1};  // host of ends[0], ends[1]
};

struct BridgeSpan {
  int bridge = -1;         // index into Lab::bridges
  uint32_t vni = 0;
  std::vector<int> hosts;  // ascending; each has a copy of the bridge
};

struct VniPlan {
  uint16_t port = 4789;                  // UDP destination port
  std::vector<uint32_t> link_vni;        // per link of the lab
  std::vector<uint32_t> bridge_vni;      // per bridge of the lab
  std::vector<CrossLink> cross_links;    // links whose node ends are on different hosts
  std::vector<BridgeSpan> spans;         // bridges with ports on more than one host
};

/// The key a link's VNI is hashed from: "LAB/link/A|B" with A < B.
std::string link_key(const topo::Lab& lab, const topo::Link& link);
VniPlan vni_plan(const topo::Lab& lab, const Placement& placement);

/// `netlab deploy --dry-run` of a multi-host lab: node → host, cross-host links
/// and spanning bridges with their VNIs.
std::string render_placement(const topo::Lab& lab, const Placement& p, const VniPlan& v);

}  // namespace netlab::cluster
