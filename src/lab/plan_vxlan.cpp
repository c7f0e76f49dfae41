#include "lab/plan_vxlan.hpp"

#include <fmt/format.h>

#include "lab/plan.hpp"

namespace netlab::lab {

void plan_tunnel_link(const topo::Lab& lab, size_t l, std::vector<Action>& out) {
  const auto& link = lab.links[l];
  const auto& t = *link.tunnel;
  const auto& a = link.ends[0];  // host_part puts the local end first
  const auto& iface = lab.nodes[a.node_index].interfaces[a.iface_index];
  CreateVxlan v;
  v.label = fmt::format("{} <-> {}", a.str(), t.peer);
  v.ns = a.node;
  v.name = a.iface;
  v.ifindex = kNodeIfindexBase + static_cast<uint32_t>(a.iface_index);
  v.vni = t.vni;
  v.local = t.local.str();
  v.remote = t.remotes.empty() ? "" : t.remotes.front().str();
  v.port = t.port;
  v.mtu = link.mtu.value_or(iface.mtu.value_or(0));
  v.learning = false;  // one peer: every frame goes to it
  v.mac = iface.mac.value_or("");
  out.push_back(std::move(v));
}

uint32_t bridge_tunnel_ifindex(const topo::Lab& lab, size_t b) {
  return kFabricVethIfindexBase + static_cast<uint32_t>(lab.links.size() + lab.bridges.size() + b);
}

void plan_bridge_tunnels(const topo::Lab& lab, std::vector<Action>& out, std::vector<Action>& setup) {
  for (size_t b = 0; b < lab.bridges.size(); ++b) {
    const auto& br = lab.bridges[b];
    if (!br.tunnel) continue;
    const auto& t = *br.tunnel;
    CreateVxlan v;
    v.label = fmt::format("bridge {} to {}", br.name, t.peer);
    v.ns = kFabricNs;
    v.name = fmt::format("vx_{}", b);
    v.ifindex = bridge_tunnel_ifindex(lab, b);
    v.vni = t.vni;
    v.local = t.local.str();
    v.port = t.port;
    v.mtu = br.mtu.value_or(0);
    v.learning = true;  // known MACs go to one host; only the rest is replicated
    // The bridge forwards only once the port is enslaved and up (SetLink below).
    setup.push_back(SetLink{kFabricNs, v.name, v.ifindex, br.name,
                            kBridgeIfindexBase + static_cast<uint32_t>(b), true, ""});
    for (const auto& r : t.remotes) setup.push_back(AddFdb{kFabricNs, v.name, v.ifindex, r.str()});
    out.push_back(std::move(v));
  }
}

}  // namespace netlab::lab
