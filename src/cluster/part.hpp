// One host's part of a multi-host lab: an ordinary topo::Lab holding only the
// nodes placed on that host, the bridges with a port there, and the links
// between them, where each link to another host keeps its local end as ends[0]
// and carries a Tunnel (VXLAN to the peer's host), and each bridge that spans
// hosts carries a Tunnel to every other host holding a copy of it. lab::plan
// turns tunnels into VXLAN devices; everything else is planned as on one host.
#pragma once

#include "cluster/placement.hpp"
#include "cluster/vni.hpp"
#include "topology/model.hpp"

namespace netlab::cluster {

/// Bytes VXLAN adds around a frame: outer IPv4 (20) or IPv6 (40) header, UDP
/// (8), VXLAN (8) and the inner Ethernet header (14).
uint32_t vxlan_overhead(const topo::IpAddress& underlay);
/// MTU of a tunnelled interface without an explicit `mtu`: a 1500-byte underlay
/// minus the overhead (1450 over IPv4, 1430 over IPv6).
uint32_t tunnel_mtu(const topo::IpAddress& underlay);

/// The part of `lab` that host `host` (index into lab.hosts) deploys. Checks
/// whose source node or target node is on another host are left out (reported
/// in `dropped_checks`).
topo::Lab host_part(const topo::Lab& lab, const Placement& p, const VniPlan& v, int host,
                    size_t* dropped_checks = nullptr);

/// The same, placement and VNI plan computed here (each host computes the same).
topo::Lab host_part(const topo::Lab& lab, int host);

}  // namespace netlab::cluster
