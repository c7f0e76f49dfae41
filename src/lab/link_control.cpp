#include "lab/link_control.hpp"

#include "lab/lifecycle.hpp"
#include "lab/state.hpp"
#include "netlink/addr.hpp"
#include "netlink/link.hpp"
#include "netlink/netns.hpp"

namespace netlab::lab {

void set_link_state(const HostFacts& facts, const std::string& lab_name, const std::string& endpoint, bool up) {
  LabState state = read_lab_state(facts, lab_name);
  if (!state.topology) throw LabConflict(ENOENT, "lab {} has no saved topology", lab_name);
  const topo::Lab& lab = *state.topology;
  // The plan names every veth end the same way deploy did.
  const Plan p = plan(lab, facts);
  for (const auto& action : p.actions) {
    const auto* v = std::get_if<CreateVeth>(&action);
    if (!v) continue;
    std::string a = v->a_ns + ":" + v->a_name, b = v->b_ns + ":" + v->b_name;
    if (a != endpoint && b != endpoint) continue;
    for (auto [ns, name, ifindex] : {std::tuple{v->a_ns, v->a_name, v->a_ifindex}, std::tuple{v->b_ns, v->b_name, v->b_ifindex}}) {
      std::string pin = ns == kFabricNs ? fabric_pin(facts, lab_name) : ns == kHostNs ? "/proc/self/ns/net" : node_pin(facts, lab_name, ns);
      auto netns = nl::Netns::open(pin);
      auto sock = nl::RtnlSocket::open_in(netns, ns);
      sock.request(nl::encode(nl::LinkSetSpec{name, ifindex, up, 0, 0, ""}),
                   std::string(up ? "bringing up " : "taking down ") + ns + ":" + name);
      if (!up || ns == kHostNs) continue;
      // An interface going down takes its IPv6 addresses and every route through
      // it with it; plugging the cable back restores what the topology asked for.
      nl::Batch restore;
      for (const auto& a : p.actions) {
        if (auto* addr = std::get_if<AddAddress>(&a); addr && addr->ns == ns && addr->ifindex == ifindex)
          restore.add(nl::encode(nl::AddrSpec{addr->ifindex, addr->prefix}), "restoring " + describe(a));
        if (auto* r = std::get_if<AddRoute>(&a); r && r->ns == ns)
          restore.add(nl::encode(nl::RouteSpec{r->to, r->via, r->dev_ifindex, r->metric}), "restoring " + describe(a));
      }
      auto acks = sock.commit(restore);
      for (auto& ack : acks)
        if (ack.errnum == EEXIST) ack.errnum = 0;  // survived the down: nothing to restore
      nl::throw_first_failure(acks, ns);
    }
    return;
  }
  throw LabConflict(ENOENT, "lab {} has no link with endpoint \"{}\"", lab_name, endpoint);
}

}  // namespace netlab::lab
