// plan(): a pure function from a resolved topology to an ordered list of
// actions. No kernel, no files: the same Lab and HostFacts give the same plan,
// which `deploy --dry-run` prints and the golden tests compare.
#pragma once

#include <string>
#include <vector>

#include "lab/action.hpp"
#include "topology/model.hpp"

namespace netlab::lab {

/// What the plan needs to know about the machine (never discovered inside plan()).
struct HostFacts {
  std::string state_dir = "/run/netlab";
  std::string netns_dir = "/run/netns";
  std::string cgroup_parent = "netlab";
};

struct Plan {
  std::string lab;
  std::vector<Action> actions;
};

/// Interface indexes the plan assigns, so later requests need no lookups:
/// a node's i-th interface, a fabric bridge, a fabric-side veth end. Fresh
/// namespaces only hold lo (1) and perhaps fallback tunnels (low numbers).
inline constexpr uint32_t kNodeIfindexBase = 100;
inline constexpr uint32_t kBridgeIfindexBase = 100;
inline constexpr uint32_t kFabricVethIfindexBase = 10000;

Plan plan(const topo::Lab& lab, const HostFacts& facts);

/// One line per action: "  12 add_address      address 192.168.50.2/24 on h1:eth0".
std::string render_plan(const Plan& p);

/// Paths derived from the lab name (documented in docs/architecture.md).
std::string fabric_pin(const HostFacts& f, const std::string& lab);
std::string node_pin(const HostFacts& f, const std::string& lab, const std::string& node);
std::string lab_dir(const HostFacts& f, const std::string& lab);
std::string node_dir(const HostFacts& f, const std::string& lab, const std::string& node);
std::string cgroup_path(const HostFacts& f, const std::string& lab, const std::string& node);
std::string host_nft_table(const std::string& lab);
/// Name of the fabric-side end of link `link_index` for node:iface, unique in the fabric.
std::string fabric_end_name(const std::string& node, const std::string& iface, size_t link_index);
/// Name of the fabric-side end of the veth that attaches bridge `bridge_index` to the host.
std::string fabric_host_end_name(size_t bridge_index);

}  // namespace netlab::lab
