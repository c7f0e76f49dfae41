// The view of a plan that diff.cpp compares (diff_view.hpp).
#include "lab/diff_view.hpp"

#include <algorithm>

namespace netlab::lab::detail {

IfMap running_ifindexes(const std::vector<Action>& journal) {
  IfMap m;
  for (const auto& a : journal) {
    if (auto* n = std::get_if<CreateNodeNetns>(&a)) {
      m.erase_ns(n->node);
    } else if (auto* b = std::get_if<CreateBridge>(&a)) {
      if (b->ifindex) m.idx[{kFabricNs, b->name}] = b->ifindex;
    } else if (auto* v = std::get_if<CreateVeth>(&a)) {
      if (v->a_ifindex) m.idx[{v->a_ns, v->a_name}] = v->a_ifindex;
      if (v->b_ifindex) m.idx[{v->b_ns, v->b_name}] = v->b_ifindex;
    } else if (auto* x = std::get_if<CreateVxlan>(&a)) {
      if (x->ifindex) m.idx[{x->ns, x->name}] = x->ifindex;
    }
  }
  return m;
}

std::string link_key(const std::string& label) {
  auto p = label.find(" <-> ");
  if (p == std::string::npos) return label;
  std::string a = label.substr(0, p), b = label.substr(p + 5);
  if (b < a) std::swap(a, b);
  return a + " <-> " + b;
}

bool host_veth(const CreateVeth& v) { return v.a_ns == kHostNs || v.b_ns == kHostNs; }

View view_of(Plan& p) {
  View v;
  std::map<std::string, std::string> fabric_end_of, host_iface_of;  // interface name -> attachment label
  for (auto& a : p.actions)
    if (auto* x = std::get_if<CreateVeth>(&a); x && host_veth(*x)) {
      fabric_end_of[x->a_name] = x->label;
      host_iface_of[x->b_name] = x->label;
    }
  for (auto& a : p.actions) {
    if (auto* x = std::get_if<CreateVeth>(&a)) {
      if (host_veth(*x)) v.attachments[x->label].veth = x;
      else v.veths[link_key(x->label)] = x;
    } else if (auto* x = std::get_if<CreateBridge>(&a)) {
      v.bridges[x->name] = x;
    } else if (auto* x = std::get_if<SetLink>(&a)) {
      if (x->ns == kHostNs && host_iface_of.count(x->name)) v.attachments[host_iface_of[x->name]].host_end = x;
      else if (x->ns == kFabricNs && fabric_end_of.count(x->name)) v.attachments[fabric_end_of[x->name]].fabric_end = x;
      else if (x->ns == kHostNs) v.host_other.push_back(describe(a));
      else if (x->name == "lo" && x->ns != kFabricNs) v.lo[x->ns] = x;
      else v.setlinks[{x->ns, x->name}] = x;
    } else if (auto* x = std::get_if<AddAddress>(&a)) {
      if (x->ns == kHostNs && host_iface_of.count(x->ifname)) v.attachments[host_iface_of[x->ifname]].addrs.push_back(x);
      else if (x->ns == kHostNs) v.host_other.push_back(describe(a));
      else v.addrs[{x->ns, x->ifname}].push_back(x);
    } else if (auto* x = std::get_if<AddRoute>(&a)) {
      if (x->ns == kHostNs) v.host_other.push_back(describe(a));
      else v.routes[x->ns].push_back(x);
    } else if (auto* x = std::get_if<AddQdisc>(&a)) {
      v.qdiscs[{x->ns, x->ifname}] = x;
    } else if (auto* x = std::get_if<ApplyNft>(&a)) {
      if (x->ns == kHostNs) v.host_nft = x;
      else v.nft[x->ns] = x;
    } else if (auto* x = std::get_if<SetHostSysctl>(&a)) {
      v.host_sysctl = x;
    } else if (auto* x = std::get_if<CreateNodeNetns>(&a)) {
      v.netns[x->node] = x;
    } else if (auto* x = std::get_if<CreateCgroup>(&a)) {
      v.cgroup[x->node] = x;
    } else if (auto* x = std::get_if<PrepareRootfs>(&a)) {
      v.rootfs[x->node] = x;
    } else if (auto* x = std::get_if<StartNode>(&a)) {
      v.start[x->node] = x;
    } else if (auto* x = std::get_if<PinNodeNetns>(&a)) {
      v.pin[x->node] = x;
    } else if (auto* x = std::get_if<CreateVxlan>(&a)) {
      if (x->ns != kFabricNs) v.vxlans[{x->ns, x->name}] = x;  // a spanning bridge's port: see bridge_tunnel_print
    }
  }
  return v;
}

// Replaces every interface index of a plan's actions by the one in `m` (when it has one).
void rewrite_refs(Plan& p, const IfMap& m) {
  for (auto& a : p.actions) {
    if (auto* x = std::get_if<SetLink>(&a)) {
      if (x->ns == kHostNs || x->name == "lo") continue;
      x->ifindex = m.find(x->ns, x->name, x->ifindex);
      if (!x->master.empty()) x->master_ifindex = m.find(kFabricNs, x->master, x->master_ifindex);
    } else if (auto* x = std::get_if<AddAddress>(&a)) {
      if (x->ns != kHostNs) x->ifindex = m.find(x->ns, x->ifname, x->ifindex);
    } else if (auto* x = std::get_if<AddRoute>(&a)) {
      if (x->ns != kHostNs && !x->dev.empty()) x->dev_ifindex = m.find(x->ns, x->dev, x->dev_ifindex);
    } else if (auto* x = std::get_if<AddQdisc>(&a)) {
      if (x->ns != kHostNs) x->ifindex = m.find(x->ns, x->ifname, x->ifindex);
    } else if (auto* x = std::get_if<CreateBridge>(&a)) {
      x->ifindex = m.find(kFabricNs, x->name, x->ifindex);
    } else if (auto* x = std::get_if<CreateVeth>(&a)) {
      if (host_veth(*x)) continue;
      x->a_ifindex = m.find(x->a_ns, x->a_name, x->a_ifindex);
      x->b_ifindex = m.find(x->b_ns, x->b_name, x->b_ifindex);
    } else if (auto* x = std::get_if<CreateVxlan>(&a)) {
      x->ifindex = m.find(x->ns, x->name, x->ifindex);
    } else if (auto* x = std::get_if<AddFdb>(&a)) {
      x->ifindex = m.find(x->ns, x->ifname, x->ifindex);
    }
  }
}

void rename_fabric(Plan& p, const std::map<std::string, std::string>& rename) {
  if (rename.empty()) return;
  auto fix = [&](const std::string& ns, std::string& name) {
    if (ns != kFabricNs) return;
    if (auto it = rename.find(name); it != rename.end()) name = it->second;
  };
  for (auto& a : p.actions) {
    if (auto* x = std::get_if<CreateVeth>(&a)) fix(x->b_ns, x->b_name);
    else if (auto* x = std::get_if<SetLink>(&a)) fix(x->ns, x->name);
    else if (auto* x = std::get_if<AddQdisc>(&a)) fix(x->ns, x->ifname);
  }
}

}  // namespace netlab::lab::detail
