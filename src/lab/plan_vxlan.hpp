// Multi-host additions to plan() (docs/multi-host.md), kept apart from
// plan.cpp: a link whose far end is on another host becomes one CreateVxlan
// into the local node; a bridge spanning hosts gets one VXLAN port in the
// fabric with an all-zero FDB entry per remote host (head-end replication).
#pragma once

#include <vector>

#include "lab/action.hpp"
#include "topology/model.hpp"

namespace netlab::lab {

/// The VXLAN device of link `l` (which has a tunnel) and its setup (none: it is
/// up at creation in its node).
void plan_tunnel_link(const topo::Lab& lab, size_t l, std::vector<Action>& out);
/// Each bridge with a tunnel: its VXLAN port (into `out`), then enslaving it and
/// its flooding entries (into `setup`, which runs after every link exists).
void plan_bridge_tunnels(const topo::Lab& lab, std::vector<Action>& out, std::vector<Action>& setup);
/// Ifindex of bridge b's VXLAN port in the fabric.
uint32_t bridge_tunnel_ifindex(const topo::Lab& lab, size_t b);

}  // namespace netlab::lab
