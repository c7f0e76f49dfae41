// Plan ordering. The kernel objects of a lab depend on each other in one
// direction only, so the plan is a fixed sequence of phases:
//
//   1. namespaces  the fabric netns (pinned: it holds no process) and one
//                  unpinned netns per node (it lives as long as netlab holds
//                  its fd, then as long as the node's processes hold it);
//   2. links       bridges in the fabric, then one request per veth with both
//                  ends already in their namespaces;
//   3. link setup  lo up in each node, the far end of each veth up (and
//                  enslaved to its bridge) — the kernel refuses both at creation;
//   4. addresses, 5. routes, 6. nftables, 7. host sysctls;
//   8. nodes       cgroup, private rootfs dirs, then every node started at once
//                  (they set themselves up in parallel) and awaited;
//   9. pins        /run/netns/<lab>-<node>, last: a mount made while nodes
//                  were being cloned would be copied into each of them.
//
// Node netns are unpinned until the last phase on purpose: if deploy dies
// before then, the kernel frees them with the process; nothing leaks.
#include "lab/plan.hpp"
#include "lab/plan_vxlan.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

namespace netlab::lab {

namespace {

std::string default_route_text(const topo::Route& r, const topo::Node& node) {
  if (!r.to.is_default) return r.to.network().str();
  bool v6 = r.via ? r.via->is_v6() : false;
  if (!r.via) {  // device route to "default": take the family of the device's first address
    for (const auto& i : node.interfaces)
      if (i.name == r.dev && !i.addresses.empty()) v6 = i.addresses.front().addr.is_v6();
  }
  return v6 ? "::/0" : "0.0.0.0/0";
}

nlohmann::json nat_spec(const topo::Node& node) {
  nlohmann::json spec = nlohmann::json::object();
  for (const auto& rule : node.nat) {
    switch (rule.kind) {
      case topo::NatKind::kMasquerade:
        spec["masquerade"].push_back({{"out", rule.out_iface}});
        break;
      case topo::NatKind::kSnat:
        spec["snat"].push_back({{"out", rule.out_iface},
                                {"to", rule.to ? rule.to->str() : ""},
                                {"to_end", rule.to_end ? rule.to_end->str() : ""}});
        break;
      case topo::NatKind::kDnat:
        spec["dnat"].push_back({{"in", rule.in_iface},
                                {"proto", rule.proto},
                                {"port", rule.port},
                                {"to", rule.to ? rule.to->str() : ""},
                                {"to_port", rule.to_port ? rule.to_port : rule.port}});
        break;
    }
  }
  if (node.firewall) {
    const auto& fw = *node.firewall;
    nlohmann::json f = {{"input", fw.input == topo::Policy::kDrop ? "drop" : "accept"},
                        {"forward", fw.forward == topo::Policy::kDrop ? "drop" : "accept"},
                        {"allow_ifaces", fw.allow_ifaces},
                        {"allow_from", nlohmann::json::array()},
                        {"open", nlohmann::json::array()}};
    for (const auto& p : fw.allow_from) f["allow_from"].push_back(p.str());
    for (const auto& o : fw.open_ports) f["open"].push_back({{"proto", o.proto}, {"port", o.port}});
    spec["firewall"] = f;
  }
  return spec;
}

}  // namespace

std::string fabric_pin(const HostFacts& f, const std::string& lab) {
  return fmt::format("{}/netlab-{}", f.netns_dir, lab);
}
std::string node_pin(const HostFacts& f, const std::string& lab, const std::string& node) {
  return fmt::format("{}/{}-{}", f.netns_dir, lab, node);
}
std::string lab_dir(const HostFacts& f, const std::string& lab) {
  return fmt::format("{}/{}", f.state_dir, lab);
}
std::string node_dir(const HostFacts& f, const std::string& lab, const std::string& node) {
  return fmt::format("{}/{}/nodes/{}", f.state_dir, lab, node);
}
std::string cgroup_path(const HostFacts& f, const std::string& lab, const std::string& node) {
  return fmt::format("{}/{}/{}", f.cgroup_parent, lab, node);
}
std::string host_nft_table(const std::string& lab) { return "netlab_" + lab; }

std::string fabric_end_name(const std::string& node, const std::string& iface, size_t link_index) {
  // The fabric holds bridges ([a-z0-9-], see topology/names.hpp), these ends
  // and the host ends below. Node names never contain '_', so "node_iface"
  // names one pair only; the fallbacks ("nl.<N>", "host.<N>") contain '.' and
  // no '_', which neither a bridge nor a "node_iface" name can be. A generated
  // name the kernel may already use ("ip_vti0": node ip, interface vti0) takes
  // the fallback too.
  std::string name = node + "_" + iface;
  if (name.size() <= topo::kMaxIfaceName && !topo::reserved_iface(name)) return name;
  return fmt::format("nl.{}", link_index);
}

std::string fabric_host_end_name(size_t bridge_index) { return fmt::format("host.{}", bridge_index); }

Plan plan(const topo::Lab& lab, const HostFacts& facts) {
  Plan p;
  p.lab = lab.name;
  auto& out = p.actions;
  const auto iface_index = [](int i) { return kNodeIfindexBase + static_cast<uint32_t>(i); };

  out.push_back(CreateFabric{fabric_pin(facts, lab.name)});
  for (const auto& n : lab.nodes) out.push_back(CreateNodeNetns{n.name});

  for (size_t b = 0; b < lab.bridges.size(); ++b) {
    const auto& br = lab.bridges[b];
    out.push_back(CreateBridge{br.name, kBridgeIfindexBase + static_cast<uint32_t>(b),
                               br.mtu.value_or(0)});
  }

  std::vector<Action> link_setup;
  for (const auto& n : lab.nodes) link_setup.push_back(SetLink{n.name, "lo", 1, "", 0, true, ""});

  for (size_t l = 0; l < lab.links.size(); ++l) {
    const auto& link = lab.links[l];
    if (link.tunnel) {  // multi-host: the far end is on another host
      plan_tunnel_link(lab, l, out);
      continue;
    }
    const auto& e0 = link.ends[0];
    const auto& e1 = link.ends[1];
    // Normalise so that `a` is always a node interface (up at creation).
    const auto& a = e0.kind == topo::Endpoint::Kind::kInterface ? e0 : e1;
    const auto& b = e0.kind == topo::Endpoint::Kind::kInterface ? e1 : e0;
    const auto& a_node = lab.nodes[a.node_index];
    const auto& a_iface = a_node.interfaces[a.iface_index];
    CreateVeth v;
    v.label = fmt::format("{} <-> {}", e0.str(), e1.str());
    v.a_ns = a.node;
    v.a_name = a.iface;
    v.a_ifindex = iface_index(a.iface_index);
    v.a_mac = a_iface.mac.value_or("");
    v.mtu = link.mtu.value_or(a_iface.mtu.value_or(0));
    if (b.kind == topo::Endpoint::Kind::kBridge) {
      v.b_ns = kFabricNs;
      v.b_name = fabric_end_name(a.node, a.iface, l);
      v.b_ifindex = kFabricVethIfindexBase + static_cast<uint32_t>(l);
      v.b_alias = a.str();
      v.b_up = true;
      link_setup.push_back(SetLink{kFabricNs, v.b_name, v.b_ifindex, b.bridge,
                                   kBridgeIfindexBase + static_cast<uint32_t>(b.bridge_index), true, v.b_alias});
    } else {
      const auto& b_iface = lab.nodes[b.node_index].interfaces[b.iface_index];
      v.b_ns = b.node;
      v.b_name = b.iface;
      v.b_ifindex = iface_index(b.iface_index);
      v.b_mac = b_iface.mac.value_or("");
      link_setup.push_back(SetLink{b.node, b.iface, v.b_ifindex, "", 0, true, ""});
    }
    out.push_back(std::move(v));
  }

  plan_bridge_tunnels(lab, out, link_setup);  // multi-host: bridges spanning hosts

  // Bridges attached to the host. The fabric end is the request's first end:
  // the kernel honours the peer's requested ifindex only when the first end
  // requests one too, and the host end must take whatever index is free there.
  std::vector<Action> host_addresses;
  for (size_t b = 0; b < lab.bridges.size(); ++b) {
    const auto& br = lab.bridges[b];
    if (!br.host) continue;
    CreateVeth v;
    v.label = fmt::format("{} <-> host:{}", br.name, br.host->iface);
    v.a_ns = kFabricNs;
    v.a_name = fabric_host_end_name(b);
    v.a_ifindex = kFabricVethIfindexBase + static_cast<uint32_t>(lab.links.size() + b);
    v.b_ns = kHostNs;
    v.b_name = br.host->iface;
    v.b_alias = fmt::format("netlab:{}:{}", lab.name, br.name);
    v.mtu = br.mtu.value_or(0);
    link_setup.push_back(SetLink{kFabricNs, v.a_name, v.a_ifindex, br.name,
                                 kBridgeIfindexBase + static_cast<uint32_t>(b), true, "host:" + br.host->iface});
    link_setup.push_back(SetLink{kHostNs, v.b_name, 0, "", 0, true, v.b_alias});
    out.push_back(std::move(v));
    for (const auto& addr : br.host->addresses)
      host_addresses.push_back(AddAddress{kHostNs, br.host->iface, 0, addr.str()});
  }
  for (auto& a : link_setup) out.push_back(std::move(a));

  for (const auto& n : lab.nodes)
    for (size_t i = 0; i < n.interfaces.size(); ++i)
      for (const auto& addr : n.interfaces[i].addresses)
        out.push_back(AddAddress{n.name, n.interfaces[i].name, iface_index(static_cast<int>(i)),
                                 addr.str()});
  for (auto& a : host_addresses) out.push_back(std::move(a));

  for (const auto& n : lab.nodes) {
    for (const auto& r : n.routes) {
      AddRoute route{n.name, default_route_text(r, n), r.via ? r.via->str() : "", r.dev, 0, r.metric};
      for (size_t i = 0; i < n.interfaces.size(); ++i)
        if (n.interfaces[i].name == r.dev) route.dev_ifindex = iface_index(static_cast<int>(i));
      out.push_back(std::move(route));
    }
  }

  // Impairments on the egress of each end; a bridge port's egress is the way
  // into its node, so a bridged link is impaired in both directions too.
  auto qdisc = [&](const std::string& ns, const std::string& ifname, uint32_t ifindex, const topo::Impairments& im,
                   const topo::Link& link) {
    if (im.empty()) return;
    AddQdisc q{fmt::format("{} <-> {}", link.ends[0].str(), link.ends[1].str()), ns, ifname, ifindex};
    if (im.delay) q.delay_ns = im.delay->ns;
    if (im.jitter) q.jitter_ns = im.jitter->ns;
    if (im.distribution) q.distribution = *im.distribution;
    if (im.loss) q.loss = im.loss->value;
    if (im.duplicate) q.duplicate = im.duplicate->value;
    if (im.corrupt) q.corrupt = im.corrupt->value;
    if (im.reorder) q.reorder = im.reorder->value;
    if (im.rate) q.rate_bps = im.rate->bits_per_sec;
    out.push_back(std::move(q));
  };
  for (size_t l = 0; l < lab.links.size(); ++l) {
    const auto& link = lab.links[l];
    for (int e = 0; e < 2; ++e) {
      const auto& end = link.ends[e];
      if (end.kind == topo::Endpoint::Kind::kInterface) {
        if (end.node_index < 0) continue;  // multi-host: the far end is another host's
        qdisc(end.node, end.iface, iface_index(end.iface_index), link.egress[e], link);
      } else {
        const auto& other = link.ends[1 - e];
        qdisc(kFabricNs, fabric_end_name(other.node, other.iface, l), kFabricVethIfindexBase + static_cast<uint32_t>(l),
              link.egress[e], link);
      }
    }
  }

  for (const auto& n : lab.nodes) {
    if (n.nat.empty() && !n.firewall) continue;
    out.push_back(ApplyNft{n.name, "inet", "netlab", nat_spec(n).dump()});
  }
  if (!lab.host.nat.empty()) {
    nlohmann::json spec;
    for (const auto& hn : lab.host.nat) {
      const auto& br = lab.bridges[hn.bridge_index];
      for (const auto& addr : br.host->addresses)
        spec["host_masquerade"].push_back({{"from", addr.network().str()}, {"out", ""}});
    }
    out.push_back(ApplyNft{kHostNs, "inet", host_nft_table(lab.name), spec.dump()});
    out.push_back(SetHostSysctl{"net.ipv4.ip_forward", "1", "", false});
  }

  for (const auto& n : lab.nodes) out.push_back(CreateCgroup{n.name, cgroup_path(facts, lab.name, n.name)});
  for (const auto& n : lab.nodes) out.push_back(PrepareRootfs{n.name, node_dir(facts, lab.name, n.name)});
  for (size_t i = 0; i < lab.nodes.size(); ++i)
    out.push_back(StartNode{lab.nodes[i].name, static_cast<int>(i), 0, 0});
  for (const auto& n : lab.nodes) out.push_back(PinNodeNetns{n.name, node_pin(facts, lab.name, n.name)});
  return p;
}

std::string render_plan(const Plan& p) {
  std::string out;
  for (size_t i = 0; i < p.actions.size(); ++i)
    out += fmt::format("{:>5} {:<18} {}\n", i + 1, op_name(p.actions[i]), describe(p.actions[i]));
  return out;
}

}  // namespace netlab::lab
