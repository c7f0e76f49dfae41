// How apply diffs two plans.
//
// Both topologies are planned as a deploy would plan them. The running plan's
// interface indexes are replaced by those its journal recorded (earlier applies
// chose their own); the target plan keeps the running index of every object it
// keeps and takes fresh ones (above any index the namespace ever had) for what
// it creates. Objects are then matched by identity, never by position in the
// file: a link by its two endpoints, an address by (interface, prefix), a route
// by what it says, a table by its namespace.
//
// Nodes fall in these classes. A node whose privileged/userns or IPv6 setting
// changed, or that no longer sets a sysctl (forwarding included), is recreated
// (a new network namespace, with the kernel's defaults: its links are made
// again). A node whose image or binds changed, or that dropped a limit, is
// restarted: its init is killed and started again, in a new cgroup, in the
// same pinned network namespace, so its interfaces and links stay. Otherwise
// what changed is changed in place: limits in the node's cgroup; the hostname
// in its UTS namespace and sysctls in its network or IPC namespace, written
// by the host; and the program (exec, cmd, env, user) restarted by the node's
// running init, whose PID and namespaces stay. Every other node is left alone,
// and so is every link whose endpoints and settings did not change.
//
// A bridge's attachment to the host is kept when it is equal and its bridge
// stays; otherwise its host end (checked by the identity the journal
// recorded) is deleted and it is made again. Host NAT is replaced as a table.
//
// Step order: removals that free names first (routes, addresses, qdiscs, links,
// host attachments, nodes, bridges), then creations in deploy's phase order (bridges, netns,
// veths, link setup, addresses, routes, qdiscs, tables, hostnames and
// sysctls, cgroups, program restarts, node starts, pins), removed nodes'
// directories last. The reverts of a step restore what
// the step removed, so running them in reverse order puts the lab back.
#include "lab/diff.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "lab/diff_compare.hpp"
#include "lab/diff_view.hpp"
#include "netlink/qdisc.hpp"

namespace netlab::lab {

using namespace detail;  // the view of a plan (diff_view.hpp), what is compared (diff_compare.hpp)

ChangePlan diff_labs(const topo::Lab& running, const std::vector<Action>& journal, const topo::Lab& target,
                     const HostFacts& facts) {
  if (running.name != target.name)
    throw ApplyRefused(EINVAL, "lab {} cannot become lab {}: apply changes a lab, not its name", running.name,
                       target.name);
  ChangePlan cp;
  cp.lab = target.name;
  Plan po = plan(running, facts);
  Plan pn = plan(target, facts);
  const IfMap run_map = running_ifindexes(journal);
  rewrite_refs(po, run_map);
  View vo = view_of(po);
  View vn = view_of(pn);
  if (vo.host_other != vn.host_other)
    throw ApplyRefused(EINVAL, "lab {}: apply cannot change what the lab does in the host's namespace here; destroy "
                               "and deploy the lab to change it",
                       target.name);

  // A bridge that spans hosts: its VXLAN port and the flooding entries to each
  // other host are left as deployed; a change of the hosts it spans (a port
  // added on a new host, the last one removed from one) is refused.
  {
    std::set<std::string> names;
    for (const auto& b : running.bridges) names.insert(b.name);
    for (const auto& b : target.bridges) names.insert(b.name);
    for (const auto& name : names) {
      std::string o = bridge_tunnel_print(running, name), n = bridge_tunnel_print(target, name);
      if (o == n || (o.empty() && n.empty())) continue;
      const topo::Bridge* br = nullptr;
      for (const auto* l : {&running, &target})
        if (int b = l->find_bridge(name); b >= 0 && l->bridges[static_cast<size_t>(b)].tunnel)
          br = &l->bridges[static_cast<size_t>(b)];
      throw ApplyRefused(EINVAL,
                         "lab {}: bridge {} spans hosts (a VXLAN port to {}), and apply does not change which hosts "
                         "a bridge spans or its VXLAN port ({} -> {}): destroy and deploy the lab to change it",
                         target.name, name, br ? br->tunnel->peer : "?", o.empty() ? "none" : o,
                         n.empty() ? "none" : n);
    }
  }

  // Nodes.
  std::set<std::string> gone, fresh, restarted, limits_changed, image_changed;
  std::set<std::string> program_changed, hostname_changed, sysctls_changed;  // changed in place
  for (const auto& n : running.nodes) {
    int t = target.find_node(n.name);
    if (t < 0) {
      gone.insert(n.name);
      cp.removed.push_back(n.name);
      continue;
    }
    const auto& m = target.nodes[static_cast<size_t>(t)];
    // A sysctl the node no longer sets, or forwarding turned off, would keep the
    // value the old init wrote in the namespace: only a new one has the defaults.
    bool unset = n.forwarding && !m.forwarding;
    for (const auto& [key, value] : n.sysctls) unset = unset || !m.sysctls.count(key);
    if (unset || namespace_print(n) != namespace_print(m)) {
      gone.insert(n.name);
      fresh.insert(n.name);
      cp.recreated.push_back(n.name);
    } else if (init_print(n) != init_print(m)) {
      restarted.insert(n.name);
      cp.restarted.push_back(n.name);
      if (n.image.str() != m.image.str()) image_changed.insert(n.name);
    } else if (limits_print(n) != limits_print(m)) {
      // A limit dropped from the file: only a new cgroup is unlimited again.
      // A first memory limit: the node had no memory cgroup of its own (its
      // memory is charged to its lab's), so only a new cgroup limits all of it.
      const auto& o = n.limits;
      const auto& w = m.limits;
      if ((o.cpus && !w.cpus) || (o.memory && !w.memory) || (!o.memory && w.memory) || (o.pids && !w.pids) ||
          (o.cpu_weight && !w.cpu_weight)) {
        restarted.insert(n.name);
        cp.restarted.push_back(n.name);
      } else {
        limits_changed.insert(n.name);
      }
    }
    if (!gone.count(n.name) && !restarted.count(n.name)) {
      if (program_print(n) != program_print(m)) {
        program_changed.insert(n.name);
        cp.programs.push_back(n.name);
      }
      if (n.hostname != m.hostname) hostname_changed.insert(n.name);
      if (node_sysctls(n) != node_sysctls(m)) sysctls_changed.insert(n.name);
    }
  }
  for (const auto& m : target.nodes)
    if (running.find_node(m.name) < 0) {
      fresh.insert(m.name);
      cp.added.push_back(m.name);
    }
  auto is_node = [](const std::string& ns) { return ns != kFabricNs && ns != kHostNs; };

  // Bridges and links kept as they are.
  std::set<std::string> kept_bridges;
  for (const auto& [name, b] : vn.bridges)
    if (auto it = vo.bridges.find(name); it != vo.bridges.end() && it->second->mtu == b->mtu) kept_bridges.insert(name);
  // Host attachments kept: equal, on a bridge that stays.
  std::set<std::string> kept_attachments;
  for (const auto& [label, h] : vn.attachments)
    if (auto it = vo.attachments.find(label); it != vo.attachments.end() &&
                                              attachment_print(it->second) == attachment_print(h) && h.fabric_end &&
                                              kept_bridges.count(h.fabric_end->master))
      kept_attachments.insert(label);
  auto bridge_of = [](const View& v, const CreateVeth& x) -> std::string {
    auto it = v.setlinks.find({x.b_ns, x.b_name});
    return it == v.setlinks.end() ? "" : it->second->master;
  };
  std::set<std::string> kept;
  std::map<std::string, std::string> rename;  // target fabric end name -> running name
  for (const auto& [key, nv] : vn.veths) {
    auto it = vo.veths.find(key);
    if (it == vo.veths.end()) continue;
    const CreateVeth& ov = *it->second;
    if (!same_veth(ov, *nv) || gone.count(ov.a_ns) || (is_node(ov.b_ns) && gone.count(ov.b_ns))) continue;
    if (ov.b_ns == kFabricNs) {
      std::string br = bridge_of(vo, ov);
      if (br != bridge_of(vn, *nv) || !kept_bridges.count(br)) continue;
      if (ov.b_name != nv->b_name) rename[nv->b_name] = ov.b_name;
    }
    kept.insert(key);
  }
  // A new fabric end must not take the name of one that stays (the "nl<N>" names
  // of long node:iface pairs follow the link's position in the file).
  std::set<std::string> taken;
  for (const auto& key : kept)
    if (vo.veths[key]->b_ns == kFabricNs) taken.insert(vo.veths[key]->b_name);
  for (const auto& [key, nv] : vn.veths) {
    if (kept.count(key) || nv->b_ns != kFabricNs || !taken.count(nv->b_name)) continue;
    for (size_t k = 0;; ++k) {
      std::string name = fmt::format("nl{}", k);
      bool used = taken.count(name) > 0;
      for (const auto& [_, other] : vn.veths) used = used || (other->b_ns == kFabricNs && other->b_name == name);
      if (!used) {
        rename[nv->b_name] = name;
        taken.insert(name);
        break;
      }
    }
  }
  rename_fabric(pn, rename);
  // Cross-host links (multi-host): a VXLAN device in its node, kept when its
  // node stays and nothing of it changed (the peer host keeps or remakes its
  // own end: the tunnel has no state to lose).
  std::set<Key> kept_vx;
  for (const auto& [k, nx] : vn.vxlans)
    if (auto it = vo.vxlans.find(k); it != vo.vxlans.end() && !gone.count(k.first) && same_vxlan(*it->second, *nx))
      kept_vx.insert(k);

  // Interface indexes of the target: running ones for what stays, fresh ones for the rest.
  IfMap cur = run_map;
  for (const auto& n : fresh) cur.erase_ns(n);
  for (auto& a : pn.actions) {
    if (auto* b = std::get_if<CreateBridge>(&a)) {
      if (!kept_bridges.count(b->name)) {
        b->ifindex = cur.allocate(kFabricNs, true);
        cur.idx[{kFabricNs, b->name}] = b->ifindex;
      }
    } else if (auto* v = std::get_if<CreateVeth>(&a); v && host_veth(*v)) {
      if (kept_attachments.count(v->label)) continue;
      v->a_ifindex = cur.allocate(kFabricNs, false);  // the host end takes what the host has free (prepare())
      cur.idx[{kFabricNs, v->a_name}] = v->a_ifindex;
    } else if (v && !kept.count(link_key(v->label))) {
      v->a_ifindex = cur.allocate(v->a_ns, false);
      cur.idx[{v->a_ns, v->a_name}] = v->a_ifindex;
      v->b_ifindex = cur.allocate(v->b_ns, false);
      cur.idx[{v->b_ns, v->b_name}] = v->b_ifindex;
    } else if (auto* x = std::get_if<CreateVxlan>(&a); x && x->ns != kFabricNs && !kept_vx.count({x->ns, x->name})) {
      x->ifindex = cur.allocate(x->ns, false);
      cur.idx[{x->ns, x->name}] = x->ifindex;
    }
  }
  rewrite_refs(pn, cur);
  vn = view_of(pn);

  std::set<Key> kept_ends;
  for (const auto& key : kept) {
    const auto& v = *vo.veths[key];
    kept_ends.insert({v.a_ns, v.a_name});
    kept_ends.insert({v.b_ns, v.b_name});
  }
  for (const auto& k : kept_vx) kept_ends.insert(k);
  std::vector<const CreateVxlan*> old_vx, new_vx;  // not kept, in plan order
  for (const auto& [k, x] : vo.vxlans)
    if (!kept_vx.count(k)) old_vx.push_back(x);
  for (const auto& [k, x] : vn.vxlans)
    if (!kept_vx.count(k)) new_vx.push_back(x);
  std::vector<const CreateVeth*> old_links, new_links;  // not kept, in plan order
  for (const auto& a : po.actions)
    if (auto* v = std::get_if<CreateVeth>(&a); v && !host_veth(*v) && !kept.count(link_key(v->label))) old_links.push_back(v);
  for (const auto& a : pn.actions)
    if (auto* v = std::get_if<CreateVeth>(&a); v && !host_veth(*v) && !kept.count(link_key(v->label))) new_links.push_back(v);

  // Address differences on interfaces that stay.
  auto prefixes = [](const View& v, const Key& k) {
    std::vector<AddAddress*> out;
    if (auto it = v.addrs.find(k); it != v.addrs.end()) out = it->second;
    return out;
  };
  auto has_prefix = [](const std::vector<AddAddress*>& list, const std::string& p) {
    return std::any_of(list.begin(), list.end(), [&](const AddAddress* a) { return a->prefix == p; });
  };
  std::set<std::string> churned = gone;  // nodes whose routes are all replaced
  for (const auto* v : old_links) {
    churned.insert(v->a_ns);
    if (is_node(v->b_ns)) churned.insert(v->b_ns);
  }
  for (const auto* v : new_links) {
    churned.insert(v->a_ns);
    if (is_node(v->b_ns)) churned.insert(v->b_ns);
  }
  for (const auto* x : old_vx) churned.insert(x->ns);
  for (const auto* x : new_vx) churned.insert(x->ns);
  for (const auto& k : kept_ends) {
    if (!is_node(k.first)) continue;
    for (const auto* a : prefixes(vo, k))
      if (!has_prefix(prefixes(vn, k), a->prefix)) churned.insert(k.first);
  }

  auto& steps = cp.steps;
  auto step = [&](Op forward, std::vector<Op> revert = {}) { steps.push_back({std::move(forward), std::move(revert)}); };
  // A running node's init, as its journal last recorded it.
  auto init_of = [&](const std::string& node) {
    for (auto it = journal.rbegin(); it != journal.rend(); ++it)
      if (auto* js = std::get_if<StartNode>(&*it); js && js->node == node) return std::pair{js->pid, js->start_time};
    return std::pair{0, uint64_t{0}};
  };

  // a. Routes that go (all of them on nodes whose interfaces change: the kernel
  //    drops routes with their device, and a fresh deploy would add them after).
  std::map<std::string, std::set<std::string>> new_route_keys;
  for (const auto& [ns, list] : vn.routes)
    for (const auto* r : list) new_route_keys[ns].insert(route_key(*r));
  for (const auto& n : running.nodes) {
    auto it = vo.routes.find(n.name);
    if (it == vo.routes.end()) continue;
    for (const auto* r : it->second)
      if (churned.count(n.name) || !new_route_keys[n.name].count(route_key(*r)))
        step(Change(del_route_of(*r)), {Action(*r)});
  }
  // b. Addresses that go from interfaces that stay.
  for (const auto& k : kept_ends)
    for (const auto* a : prefixes(vo, k))
      if (!has_prefix(prefixes(vn, k), a->prefix))
        step(Change(DelAddress{a->ns, a->ifname, a->ifindex, a->prefix}), {Action(*a)});
  // c. Impairments that go or change on interfaces that stay.
  auto impairment = [](const View& v, const Key& k) -> const AddQdisc* {
    auto it = v.qdiscs.find(k);
    return it == v.qdiscs.end() ? nullptr : it->second;
  };
  for (const auto& k : kept_ends) {
    const AddQdisc* o = impairment(vo, k);
    const AddQdisc* n = impairment(vn, k);
    if (o && (!n || !(impairment_of(*o) == impairment_of(*n))))
      step(Change(DelQdisc{o->ns, o->ifname, o->ifindex}), {Action(*o)});
  }
  // d. Tables of recreated nodes (restored after their links, on a rollback).
  for (const auto& n : gone)
    if (auto it = vo.nft.find(n); it != vo.nft.end() && fresh.count(n))
      step(Undo(DeleteNft{n, it->second->family, it->second->table}), {Action(*it->second)});
  // e. Links that go or change: their veth pair, explicitly (a namespace's own
  //    teardown deletes its veths only later, in the kernel's cleanup work).
  for (const auto* v : old_links) {
    std::vector<Op> revert{Action(*v)};
    if (auto it = vo.setlinks.find({v->b_ns, v->b_name}); it != vo.setlinks.end()) revert.push_back(Action(*it->second));
    for (const Key& end : {Key{v->a_ns, v->a_name}, Key{v->b_ns, v->b_name}}) {
      for (const auto* a : prefixes(vo, end)) revert.push_back(Action(*a));
      if (const AddQdisc* q = impairment(vo, end)) revert.push_back(Action(*q));
    }
    step(Change(DelLink{v->a_ns, v->a_name, v->a_ifindex}), std::move(revert));
  }
  // e2. Host attachments that go or change: the host end, checked by its
  //     identity (journal) before it is deleted, takes the pair with it.
  for (const auto& [label, h] : vo.attachments) {
    if (kept_attachments.count(label) || !h.veth) continue;
    uint32_t ifindex = 0, fabric_ifindex = h.veth->a_ifindex;
    std::string alias = h.veth->b_alias;
    for (auto it = journal.rbegin(); it != journal.rend(); ++it)
      if (auto* jv = std::get_if<CreateVeth>(&*it); jv && jv->label == label && jv->b_ns == kHostNs) {
        ifindex = jv->b_ifindex;
        fabric_ifindex = jv->a_ifindex;
        alias = jv->b_alias;
        break;
      }
    // Made again as it ran (its fabric end's index), the host end at a fresh index picked when it runs.
    CreateVeth again = *h.veth;
    again.a_ifindex = fabric_ifindex;
    again.b_ifindex = 0;
    std::vector<Op> revert{Action(again)};
    if (h.fabric_end) {
      SetLink up = *h.fabric_end;
      up.ifindex = fabric_ifindex;
      revert.push_back(Action(up));
    }
    if (h.host_end) revert.push_back(Action(*h.host_end));
    for (const auto* a : h.addrs) revert.push_back(Action(*a));
    step(Undo(DeleteLink{kHostNs, h.veth->b_name, alias, ifindex}), std::move(revert));
  }
  for (const auto* x : old_vx) {
    std::vector<Op> revert{Action(*x)};
    for (const auto* a : prefixes(vo, {x->ns, x->name})) revert.push_back(Action(*a));
    if (const AddQdisc* q = impairment(vo, {x->ns, x->name})) revert.push_back(Action(*q));
    step(Change(DelLink{x->ns, x->name, x->ifindex}), std::move(revert));
  }
  // f. Nodes that go: recreated ones here, removed ones at the end (a failure
  //    before then leaves their processes running).
  auto tear_down = [&](const topo::Node& n) {
    StartNode* s = vo.start[n.name];
    auto [pid, start_time] = init_of(n.name);
    std::vector<Op> revert{Undo(Unpin{vo.pin[n.name]->pin}), Undo(RemoveCgroup{vo.cgroup[n.name]->path}),
                           Action(*vo.netns[n.name]), Action(*vo.lo[n.name])};
    // A removed node's table comes back with its namespace (a recreated node's, in step d).
    if (auto it = vo.nft.find(n.name); it != vo.nft.end() && !fresh.count(n.name)) revert.push_back(Action(*it->second));
    revert.push_back(Action(*vo.cgroup[n.name]));
    revert.push_back(Action(*vo.rootfs[n.name]));
    revert.push_back(Action(*s));
    revert.push_back(Action(*vo.pin[n.name]));
    step(Undo(KillNode{n.name, pid, start_time}), std::move(revert));
    step(Undo(Unpin{vo.pin[n.name]->pin}));
    step(Undo(RemoveCgroup{vo.cgroup[n.name]->path}));
    if (fresh.count(n.name)) step(Undo(RemoveDir{vo.rootfs[n.name]->dir}));
  };
  for (const auto& n : running.nodes)
    if (gone.count(n.name) && fresh.count(n.name)) tear_down(n);
  // g. Bridges that go, then those that come.
  for (const auto& [name, b] : vo.bridges)
    if (!kept_bridges.count(name)) step(Change(DelLink{kFabricNs, name, b->ifindex}), {Action(*b)});
  for (const auto& [name, b] : vn.bridges)
    if (!kept_bridges.count(name)) step(Action(*b), {Change(DelLink{kFabricNs, name, b->ifindex})});
  // h. New namespaces, veths, link setup.
  for (const auto& m : target.nodes)
    if (fresh.count(m.name)) step(Action(*vn.netns[m.name]));
  // A new link's revert deletes it through an end whose namespace was there
  // before: a new node's namespace may be unreachable when the revert runs (an
  // apply killed before its pins), and the kernel tears an unreachable
  // namespace down later, its veth peers with it — a retry would find them.
  for (const auto* v : new_links) {
    bool by_b = fresh.count(v->a_ns) && !fresh.count(v->b_ns);
    step(Action(*v), {by_b ? Change(DelLink{v->b_ns, v->b_name, v->b_ifindex})
                           : Change(DelLink{v->a_ns, v->a_name, v->a_ifindex})});
  }
  // New host attachments: the revert (the host end, by the index prepare()
  // picks) is completed when the step runs (apply_lab.cpp).
  for (const auto& [label, h] : vn.attachments)
    if (!kept_attachments.count(label) && h.veth) step(Action(*h.veth));
  for (const auto* x : new_vx) step(Action(*x), {Change(DelLink{x->ns, x->name, x->ifindex})});
  for (const auto& m : target.nodes)
    if (fresh.count(m.name)) step(Action(*vn.lo[m.name]));
  for (const auto* v : new_links)
    if (auto it = vn.setlinks.find({v->b_ns, v->b_name}); it != vn.setlinks.end()) step(Action(*it->second));
  for (const auto& [label, h] : vn.attachments) {
    if (kept_attachments.count(label)) continue;
    if (h.fabric_end) step(Action(*h.fabric_end));
    if (h.host_end) step(Action(*h.host_end));
    for (const auto* a : h.addrs) step(Action(*a));  // they go with the host end on a rollback
  }
  // i. Addresses: all of new interfaces, the new ones of interfaces that stay.
  for (const auto& [k, list] : vn.addrs)
    for (const auto* a : list)
      if (!kept_ends.count(k) || !has_prefix(prefixes(vo, k), a->prefix))
        step(Action(*a), {Change(DelAddress{a->ns, a->ifname, a->ifindex, a->prefix})});
  // j. Routes.
  std::map<std::string, std::set<std::string>> old_route_keys;
  for (const auto& [ns, list] : vo.routes)
    for (const auto* r : list) old_route_keys[ns].insert(route_key(*r));
  for (const auto& m : target.nodes) {
    auto it = vn.routes.find(m.name);
    if (it == vn.routes.end()) continue;
    for (const auto* r : it->second)
      if (fresh.count(m.name) || churned.count(m.name) || !old_route_keys[m.name].count(route_key(*r)))
        step(Action(*r), {Change(del_route_of(*r))});
  }
  // k. Impairments.
  for (const auto& [k, q] : vn.qdiscs) {
    const AddQdisc* o = kept_ends.count(k) ? impairment(vo, k) : nullptr;
    if (o && impairment_of(*o) == impairment_of(*q)) continue;
    step(Action(*q), {Change(DelQdisc{q->ns, q->ifname, q->ifindex})});
  }
  // l. Tables: each replaced in one atomic batch.
  for (const auto& m : target.nodes) {
    auto on = vo.nft.find(m.name);
    auto nn = vn.nft.find(m.name);
    const ApplyNft* o = on == vo.nft.end() || gone.count(m.name) ? nullptr : on->second;
    const ApplyNft* w = nn == vn.nft.end() ? nullptr : nn->second;
    if (w && (!o || o->spec_json != w->spec_json)) {
      std::vector<Op> revert;
      if (o) revert.push_back(Action(*o));
      else if (!fresh.count(m.name)) revert.push_back(Undo(DeleteNft{m.name, w->family, w->table}));
      step(Action(*w), std::move(revert));
    } else if (o && !w) {
      step(Undo(DeleteNft{m.name, o->family, o->table}), {Action(*o)});
    }
  }
  // l1. Host NAT: its table replaced (or made, or deleted); the host's
  //     forwarding set with the first and put back with the last, as deploy
  //     and destroy do (the previous value is read when the step runs).
  {
    const ApplyNft* o = vo.host_nft;
    const ApplyNft* w = vn.host_nft;
    if (w && !o && vn.host_sysctl) step(Action(*vn.host_sysctl));
    if (w && (!o || o->spec_json != w->spec_json))
      step(Action(*w), o ? std::vector<Op>{Action(*o)} : std::vector<Op>{Undo(DeleteNft{kHostNs, w->family, w->table})});
    if (o && !w) {
      step(Undo(DeleteNft{kHostNs, o->family, o->table}), {Action(*o)});
      for (auto it = journal.rbegin(); it != journal.rend(); ++it)
        if (auto* js = std::get_if<SetHostSysctl>(&*it); js && vo.host_sysctl && js->key == vo.host_sysctl->key) {
          if (js->has_previous) step(Undo(RestoreSysctl{js->key, js->previous}), {Action(*vo.host_sysctl)});
          break;
        }
    }
  }
  // l2. Hostnames and sysctls, in place (a program restarted below may need them).
  for (const auto& m : target.nodes) {
    if (!hostname_changed.count(m.name) && !sysctls_changed.count(m.name)) continue;
    const auto& n = running.nodes[static_cast<size_t>(running.find_node(m.name))];
    auto [pid, start_time] = init_of(m.name);
    if (hostname_changed.count(m.name))
      step(Change(SetHostname{m.name, m.hostname, pid, start_time}),
           {Change(SetHostname{m.name, n.hostname, pid, start_time})});
    auto before = node_sysctls(n);
    for (const auto& [key, value] : node_sysctls(m)) {
      auto it = before.find(key);
      if (it != before.end() && it->second == value) continue;
      // A key the node never set has no revert yet: apply reads the value it
      // has before the step runs (apply_lab.cpp), and the revert writes that.
      std::vector<Op> revert;
      if (it != before.end()) revert.push_back(Change(SetNodeSysctl{m.name, key, it->second, pid, start_time}));
      step(Change(SetNodeSysctl{m.name, key, value, pid, start_time}), std::move(revert));
    }
  }
  // m. Limits rewritten in place; programs restarted by their init; restarted
  //    nodes; new nodes.
  for (const auto& m : target.nodes)
    if (limits_changed.count(m.name)) step(Action(*vn.cgroup[m.name]), {Action(*vo.cgroup[m.name])});
  // The revert runs with the running lab's settings: the old program again.
  for (const auto& m : target.nodes)
    if (program_changed.count(m.name)) step(Action(RestartProgram{m.name}), {Action(RestartProgram{m.name})});
  for (const auto& m : target.nodes) {
    if (!restarted.count(m.name)) continue;
    auto [pid, start_time] = init_of(m.name);
    std::vector<Op> revert{Undo(RemoveCgroup{vo.cgroup[m.name]->path})};
    if (image_changed.count(m.name)) revert.push_back(Undo(RemoveDir{vo.rootfs[m.name]->dir}));
    revert.push_back(Action(*vo.cgroup[m.name]));
    revert.push_back(Action(*vo.rootfs[m.name]));
    revert.push_back(Action(*vo.start[m.name]));
    step(Undo(KillNode{m.name, pid, start_time}), std::move(revert));
    // A new cgroup: what is left in the old one goes, and a dropped limit is gone.
    step(Undo(RemoveCgroup{vo.cgroup[m.name]->path}));
    if (image_changed.count(m.name)) step(Undo(RemoveDir{vn.rootfs[m.name]->dir}));
    step(Action(*vn.cgroup[m.name]));
    step(Action(*vn.rootfs[m.name]));
    step(Action(*vn.start[m.name]), {Undo(RemoveCgroup{vn.cgroup[m.name]->path})});
  }
  for (const auto& m : target.nodes)
    if (fresh.count(m.name))
      step(Action(*vn.cgroup[m.name]), {Undo(RemoveCgroup{vn.cgroup[m.name]->path})});
  for (const auto& m : target.nodes)
    if (fresh.count(m.name)) step(Action(*vn.rootfs[m.name]), {Undo(RemoveDir{vn.rootfs[m.name]->dir})});
  for (const auto& m : target.nodes)
    if (fresh.count(m.name)) step(Action(*vn.start[m.name]), {Undo(RemoveCgroup{vn.cgroup[m.name]->path})});
  for (const auto& m : target.nodes)
    if (fresh.count(m.name)) step(Action(*vn.pin[m.name]), {Undo(Unpin{vn.pin[m.name]->pin})});
  // n. Removed nodes; their private directories last: nothing can bring them back.
  for (const auto& n : running.nodes)
    if (gone.count(n.name) && !fresh.count(n.name)) tear_down(n);
  for (const auto& n : running.nodes)
    if (gone.count(n.name) && !fresh.count(n.name)) step(Undo(RemoveDir{vo.rootfs[n.name]->dir}));
  return cp;
}

std::string render_change_plan(const ChangePlan& p) {
  std::string out;
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const Op& op = p.steps[i].forward;
    // Removals read as such: "del_link link h1:eth1", "kill_node node r2 (pid 42)".
    out += fmt::format("{:>5} {:<18} {}\n", i + 1, op_name_of(op), describe_op(op));
  }
  return out;
}

}  // namespace netlab::lab
