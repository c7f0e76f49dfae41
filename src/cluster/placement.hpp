// Placement of a multi-host lab (docs/multi-host.md): which host runs which
// node. Pinned nodes (`host = "NAME"`) stay where they are pinned; the rest are
// spread by a graph partitioner (METIS, k-way, fixed seed: the same file gives
// the same placement on every host) so that the hosts carry equal load (node
// count, and cpus/memory where given) and few links cross between hosts.
// Pure functions of the topology; knows nothing of netlink.
#pragma once

#include <string>
#include <vector>

#include "topology/model.hpp"

namespace netlab::cluster {

enum class Method { kMetis, kRoundRobin };

struct Placement {
  std::vector<int> node_host;    // per node: index into Lab::hosts
  std::vector<int> bridge_home;  // per bridge: the host holding most of its ports
  /// Per bridge: the hosts that hold at least one of its ports, ascending.
  std::vector<std::vector<int>> bridge_hosts;
  size_t cross_links = 0;        // node-to-node links whose ends are on different hosts
  size_t bridge_tunnels = 0;     // sum over bridges of (hosts spanned - 1)
  /// The partitioner's objective: cross_links + bridge_tunnels.
  size_t cut() const { return cross_links + bridge_tunnels; }
  std::vector<size_t> nodes_per_host;
};

/// Places every node of `lab` on one of `lab.hosts` (which must not be empty).
Placement place(const topo::Lab& lab, Method method = Method::kMetis);

/// Fills bridge_home, bridge_hosts, cross_links, bridge_tunnels and
/// nodes_per_host from node_host.
void measure(const topo::Lab& lab, Placement& p);

}  // namespace netlab::cluster
