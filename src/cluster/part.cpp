#include "cluster/part.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace netlab::cluster {

uint32_t vxlan_overhead(const topo::IpAddress& underlay) { return (underlay.is_v6() ? 40 : 20) + 8 + 8 + 14; }
uint32_t tunnel_mtu(const topo::IpAddress& underlay) { return 1500 - vxlan_overhead(underlay); }

topo::Lab host_part(const topo::Lab& lab, const Placement& p, const VniPlan& v, int host, size_t* dropped_checks) {
  using Kind = topo::Endpoint::Kind;
  const topo::Host& self = lab.hosts[host];
  topo::Lab part;
  part.name = lab.name;
  part.file = lab.file;
  part.pos = lab.pos;
  part.hosts = lab.hosts;
  part.vxlan_port = lab.vxlan_port;
  part.part_host = self.name;
  part.host = lab.host;  // validation forbids host attachments in multi-host labs

  std::vector<int> node_map(lab.nodes.size(), -1), bridge_map(lab.bridges.size(), -1);
  for (size_t i = 0; i < lab.nodes.size(); ++i) {
    if (p.node_host[i] != host) continue;
    node_map[i] = static_cast<int>(part.nodes.size());
    part.nodes.push_back(lab.nodes[i]);
  }
  std::vector<bool> spans(lab.bridges.size(), false);
  for (auto& s : v.spans) spans[s.bridge] = true;
  for (size_t b = 0; b < lab.bridges.size(); ++b) {
    auto& hosts = p.bridge_hosts[b];
    if (std::find(hosts.begin(), hosts.end(), host) == hosts.end()) continue;
    bridge_map[b] = static_cast<int>(part.bridges.size());
    topo::Bridge br = lab.bridges[b];
    if (spans[b]) {
      topo::Tunnel t{v.bridge_vni[b], self.address, {}, v.port, ""};
      for (int h : hosts) {
        if (h == host) continue;
        t.remotes.push_back(lab.hosts[h].address);
        t.peer += (t.peer.empty() ? "" : " ") + lab.hosts[h].name;
      }
      if (!br.mtu) br.mtu = tunnel_mtu(self.address);
      br.tunnel = std::move(t);
    }
    part.bridges.push_back(std::move(br));
  }

  auto local = [&](const topo::Endpoint& e) {
    return e.kind == Kind::kBridge ? bridge_map[e.bridge_index] >= 0 : node_map[e.node_index] >= 0;
  };
  auto remap = [&](topo::Endpoint e) {
    if (e.kind == Kind::kBridge) e.bridge_index = bridge_map[e.bridge_index];
    else e.node_index = node_map[e.node_index];
    return e;
  };
  for (auto& n : part.nodes)
    for (auto& i : n.interfaces) i.link = -1;
  for (size_t l = 0; l < lab.links.size(); ++l) {
    const topo::Link& src = lab.links[l];
    bool a = local(src.ends[0]), b = local(src.ends[1]);
    bool a_node = src.ends[0].kind == Kind::kInterface, b_node = src.ends[1].kind == Kind::kInterface;
    // A bridge end counts as local only if its node end is: the bridge's copy here.
    if (!a_node) a = b;
    if (!b_node) b = a;
    if (!a && !b) continue;
    topo::Link link = src;
    if (a && b) {
      link.ends = {remap(src.ends[0]), remap(src.ends[1])};
      const auto& br_end = !a_node ? src.ends[0] : src.ends[1];
      if ((!a_node || !b_node) && spans[br_end.bridge_index] && !link.mtu) {
        const auto& nd = a_node ? src.ends[0] : src.ends[1];
        if (!lab.nodes[nd.node_index].interfaces[nd.iface_index].mtu) link.mtu = tunnel_mtu(self.address);
      }
    } else {
      int here = a ? 0 : 1;
      const topo::Endpoint& far = src.ends[1 - here];
      int far_host = p.node_host[far.node_index];
      link.ends = {remap(src.ends[here]), far};
      link.ends[1].node_index = -1;
      link.ends[1].iface_index = -1;
      link.egress = {src.egress[here], src.egress[1 - here]};
      link.tunnel = topo::Tunnel{v.link_vni[l], self.address, {lab.hosts[far_host].address}, v.port,
                                 fmt::format("{} on {}", far.str(), lab.hosts[far_host].name)};
      const auto& iface = lab.nodes[src.ends[here].node_index].interfaces[src.ends[here].iface_index];
      if (!link.mtu && !iface.mtu) link.mtu = tunnel_mtu(self.address);
    }
    int idx = static_cast<int>(part.links.size());
    for (auto& e : link.ends)
      if (e.kind == Kind::kInterface && e.node_index >= 0) part.nodes[e.node_index].interfaces[e.iface_index].link = idx;
    part.links.push_back(std::move(link));
  }

  size_t dropped = 0;
  for (const auto& c : lab.checks) {
    int from = c.from_index >= 0 ? node_map[c.from_index] : -1;
    int to_node = lab.find_node(c.to);
    if (from < 0 || (to_node >= 0 && node_map[to_node] < 0)) {
      ++dropped;
      continue;
    }
    topo::Check copy = c;
    copy.from_index = from;
    part.checks.push_back(std::move(copy));
  }
  if (dropped_checks) *dropped_checks = dropped;
  return part;
}

topo::Lab host_part(const topo::Lab& lab, int host) {
  Placement p = place(lab);
  return host_part(lab, p, vni_plan(lab, p), host);
}

}  // namespace netlab::cluster
