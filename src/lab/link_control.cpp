#include "lab/link_control.hpp"

#include <tuple>

#include "lab/lifecycle.hpp"
#include "lab/state.hpp"
#include "netlink/addr.hpp"
#include "netlink/link.hpp"
#include "netlink/netns.hpp"
#include "util/strings.hpp"

namespace netlab::lab {

namespace {

struct VethEnd {
  std::string ns;  // kFabricNs, kHostNs or a node
  std::string name;
  uint32_t ifindex = 0;
  std::string label() const { return ns == kFabricNs ? name + " (bridge port)" : ns + ":" + name; }
};

struct FoundLink {
  LabLock lock;  // held while the link changes, like deploy and destroy hold it
  Plan plan;
  VethEnd ends[2];  // ends[0] is the endpoint asked for
  int count = 2;    // 1: a multi-host part's VXLAN end (its far end is another host's)
};

// The veth of `endpoint`, named and numbered as deploy's plan made it.
FoundLink find_link(const HostFacts& facts, const std::string& lab_name, const std::string& endpoint) {
  read_lab_state(facts, lab_name);  // "lab X is not deployed" before any lock file is looked for
  LabLock lock = LabLock::acquire(facts, lab_name, /*create_dir=*/false);
  LabState state = read_lab_state(facts, lab_name);
  if (!state.topology) throw LabConflict(ENOENT, "lab {} has no saved topology", lab_name);
  FoundLink found{std::move(lock), plan(*state.topology, facts), {}};
  std::vector<std::string> known;  // node:iface ends, for "did you mean"
  for (const auto& action : found.plan.actions) {
    if (const auto* x = std::get_if<CreateVxlan>(&action); x && x->ns != kFabricNs) {
      known.push_back(x->ns + ":" + x->name);
      if (x->ns + ":" + x->name == endpoint) {
        found.ends[0] = {x->ns, x->name, x->ifindex};
        found.count = 1;
        return found;
      }
    }
    const auto* v = std::get_if<CreateVeth>(&action);
    if (!v) continue;
    VethEnd a{v->a_ns, v->a_name, v->a_ifindex}, b{v->b_ns, v->b_name, v->b_ifindex};
    for (const auto* e : {&a, &b})
      if (e->ns != kFabricNs && e->ns != kHostNs) known.push_back(e->ns + ":" + e->name);
    if (a.ns + ":" + a.name == endpoint) {
      found.ends[0] = a, found.ends[1] = b;
      return found;
    }
    if (b.ns + ":" + b.name == endpoint) {
      found.ends[0] = b, found.ends[1] = a;
      return found;
    }
  }
  std::string best = closest_match(endpoint, known);
  throw LabConflict(ENOENT, "lab {} has no link with endpoint \"{}\"{}", lab_name, endpoint,
                    best.empty() ? std::string(endpoint.find(':') == std::string::npos ? " (write NODE:IFACE)" : "")
                                 : " (did you mean \"" + best + "\"?)");
}

std::string pin_of(const HostFacts& facts, const std::string& lab_name, const std::string& ns) {
  if (ns == kFabricNs) return fabric_pin(facts, lab_name);
  if (ns == kHostNs) return "/proc/self/ns/net";
  return node_pin(facts, lab_name, ns);
}

std::string ns_label(const std::string& lab_name, const std::string& ns) {
  if (ns == kFabricNs) return "netlab-" + lab_name;
  if (ns == kHostNs) return "host";
  return lab_name + "-" + ns;
}

nl::RtnlSocket socket_of(const HostFacts& facts, const std::string& lab_name, const VethEnd& end) {
  auto netns = nl::Netns::open(pin_of(facts, lab_name, end.ns));
  return nl::RtnlSocket::open_in(netns, ns_label(lab_name, end.ns));
}

}  // namespace

void set_link_state(const HostFacts& facts, const std::string& lab_name, const std::string& endpoint, bool up) {
  FoundLink link = find_link(facts, lab_name, endpoint);
  for (int e = 0; e < link.count; ++e) {
    const VethEnd& end = link.ends[e];
    auto sock = socket_of(facts, lab_name, end);
    sock.request(nl::encode(nl::LinkSetSpec{end.name, end.ifindex, up, 0, 0, ""}),
                 std::string(up ? "bringing up " : "taking down ") + end.label());
    if (!up || end.ns == kHostNs) continue;
    // An interface going down takes its IPv6 addresses and every route through
    // it with it; plugging the cable back restores what the topology asked for.
    nl::Batch restore;
    for (const auto& a : link.plan.actions) {
      if (auto* addr = std::get_if<AddAddress>(&a); addr && addr->ns == end.ns && addr->ifindex == end.ifindex)
        restore.add(nl::encode(nl::AddrSpec{addr->ifindex, addr->prefix}), "restoring " + describe(a));
      if (auto* r = std::get_if<AddRoute>(&a); r && r->ns == end.ns)
        restore.add(nl::encode(nl::RouteSpec{r->to, r->via, r->dev_ifindex, r->metric}), "restoring " + describe(a));
    }
    auto acks = sock.commit(restore);
    for (auto& ack : acks)
      if (ack.errnum == EEXIST) ack.errnum = 0;  // survived the down: nothing to restore
    nl::throw_first_failure(acks, ns_label(lab_name, end.ns));
  }
}

nl::Impairment ImpairmentChange::applied_to(nl::Impairment imp) const {
  if (clear) imp = {};
  if (delay_ns) imp.delay_ns = *delay_ns;
  if (jitter_ns) imp.jitter_ns = *jitter_ns;
  if (rate_bps) imp.rate_bits_per_sec = *rate_bps;
  if (loss) imp.loss_percent = *loss;
  if (duplicate) imp.duplicate_percent = *duplicate;
  if (corrupt) imp.corrupt_percent = *corrupt;
  if (reorder) imp.reorder_percent = *reorder;
  return imp;
}

std::vector<EndImpairment> set_link_impairment(const HostFacts& facts, const std::string& lab_name,
                                               const std::string& endpoint, const ImpairmentChange& change) {
  FoundLink link = find_link(facts, lab_name, endpoint);
  std::vector<EndImpairment> out;
  for (int e = 0; e < (change.one_way ? 1 : link.count); ++e) {
    const VethEnd& end = link.ends[e];
    if (end.ns == kHostNs) continue;  // the host's side of a host-attached bridge is never impaired
    auto sock = socket_of(facts, lab_name, end);
    EndImpairment result{end.label(), nl::impairment_of(nl::dump_qdiscs(sock), end.ifindex), {}};
    result.after = change.applied_to(result.before);
    if (result.after.jitter_ns && !result.after.delay_ns)
      throw LabConflict(EINVAL, "jitter needs a delay (on {})", end.label());
    if (result.after.reorder_percent > 0 && !result.after.delay_ns)
      throw LabConflict(EINVAL, "reorder needs a delay (on {})", end.label());
    if (result.after != result.before) {
      // The old tree goes first: the kernel will not turn a netem into a TBF (or
      // back) under the same handle. The interface runs unshaped between the two
      // requests, a gap of one round trip.
      nl::Batch b;
      if (!result.before.empty()) b.add(nl::encode_qdisc_delete(end.ifindex), "removing the impairment on " + end.label());
      for (auto& msg : nl::encode_impairment(end.ifindex, result.after))
        b.add(std::move(msg), "setting " + result.after.str() + " on " + end.label());
      auto acks = sock.commit(b);
      for (const auto& ack : acks) {
        if (ack.errnum == 0) continue;
        // Half a change (a TBF without the netem under it) is not what anyone
        // asked for: put back what was in force, then report the kernel's refusal.
        nl::Batch undo;
        undo.add(nl::encode_qdisc_delete(end.ifindex), "removing the partial change on " + end.label());
        for (auto& msg : nl::encode_impairment(end.ifindex, result.before))
          undo.add(std::move(msg), "restoring " + result.before.str() + " on " + end.label());
        sock.commit(undo);
        nl::throw_first_failure(acks, ns_label(lab_name, end.ns));
      }
    }
    out.push_back(std::move(result));
  }
  return out;
}

}  // namespace netlab::lab
