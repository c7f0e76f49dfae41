#include "netlink/link.hpp"

#include <fmt/format.h>
#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>

#include <cerrno>

#include "util/error.hpp"

namespace netlab::nl {

namespace {

struct LinkDeleter {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkDeleter>;

void set_mac(rtnl_link* link, const std::string& mac, const std::string& what) {
  if (mac.empty()) return;
  nl_addr* addr = nullptr;
  if (nl_addr_parse(mac.c_str(), AF_LLC, &addr) < 0 || nl_addr_get_len(addr) != 6) {
    if (addr) nl_addr_put(addr);
    throw Error(EINVAL, "{}: \"{}\" is not a MAC address", what, mac);
  }
  rtnl_link_set_addr(link, addr);
  nl_addr_put(addr);
}

NlMsg build_add(rtnl_link* link, int flags, const std::string& what) {
  nl_msg* msg = nullptr;
  if (int rc = rtnl_link_build_add_request(link, flags, &msg); rc < 0)
    throw Error(ENOMEM, "encoding {}: libnl error {}", what, rc);
  return NlMsg(msg);
}

}  // namespace

std::string VethSpec::str() const { return fmt::format("veth {} <-> {}", name, peer_name); }
std::string BridgeSpec::str() const { return fmt::format("bridge {}", name); }
std::string LinkSetSpec::str() const {
  std::string s = fmt::format("link {} {}", name.empty() ? std::to_string(ifindex) : name, up ? "up" : "down");
  if (master_ifindex) s += fmt::format(" master {}", master_ifindex);
  return s;
}

NlMsg encode(const VethSpec& spec) {
  LinkPtr link(rtnl_link_veth_alloc());
  if (!link) throw Error(ENOMEM, "allocating {}", spec.str());
  rtnl_link* peer = rtnl_link_veth_get_peer(link.get());
  rtnl_link_set_name(link.get(), spec.name.c_str());
  if (spec.ns_fd >= 0) rtnl_link_set_ns_fd(link.get(), spec.ns_fd);
  if (spec.ifindex) rtnl_link_set_ifindex(link.get(), static_cast<int>(spec.ifindex));
  if (spec.mtu) rtnl_link_set_mtu(link.get(), spec.mtu);
  set_mac(link.get(), spec.mac, spec.str());
  rtnl_link_set_flags(link.get(), IFF_UP);
  // One queue each way, asked for: without these the kernel gives a veth one
  // queue per possible CPU, then trims it to one after registering it, and the
  // trim waits for an expedited RCU grace period (synchronize_net) under the
  // RTNL lock — twice per veth, serialising the whole links phase on it.
  for (rtnl_link* end : {link.get(), peer}) {
    rtnl_link_set_num_tx_queues(end, 1);
    rtnl_link_set_num_rx_queues(end, 1);
  }

  rtnl_link_set_name(peer, spec.peer_name.c_str());
  if (spec.peer_ns_fd >= 0) rtnl_link_set_ns_fd(peer, spec.peer_ns_fd);
  if (spec.peer_ifindex) rtnl_link_set_ifindex(peer, static_cast<int>(spec.peer_ifindex));
  if (spec.mtu) rtnl_link_set_mtu(peer, spec.mtu);
  set_mac(peer, spec.peer_mac, spec.str());
  NlMsg msg = build_add(link.get(), NLM_F_CREATE | NLM_F_EXCL, spec.str());
  rtnl_link_put(peer);  // rtnl_link_veth_get_peer took a reference
  return msg;
}

NlMsg encode(const BridgeSpec& spec) {
  LinkPtr link(rtnl_link_bridge_alloc());
  if (!link) throw Error(ENOMEM, "allocating {}", spec.str());
  rtnl_link_set_name(link.get(), spec.name.c_str());
  if (spec.ifindex) rtnl_link_set_ifindex(link.get(), static_cast<int>(spec.ifindex));
  if (spec.mtu) rtnl_link_set_mtu(link.get(), spec.mtu);
  // STP stays off (the kernel default), so ports forward as soon as they are up.
  if (spec.up) rtnl_link_set_flags(link.get(), IFF_UP);
  return build_add(link.get(), NLM_F_CREATE | NLM_F_EXCL, spec.str());
}

NlMsg encode(const LinkSetSpec& spec) {
  LinkPtr link(rtnl_link_alloc());
  if (!link) throw Error(ENOMEM, "allocating {}", spec.str());
  if (spec.ifindex) rtnl_link_set_ifindex(link.get(), static_cast<int>(spec.ifindex));
  else rtnl_link_set_name(link.get(), spec.name.c_str());
  if (spec.up) rtnl_link_set_flags(link.get(), IFF_UP);
  else rtnl_link_unset_flags(link.get(), IFF_UP);
  if (spec.master_ifindex) rtnl_link_set_master(link.get(), static_cast<int>(spec.master_ifindex));
  if (spec.mtu) rtnl_link_set_mtu(link.get(), spec.mtu);
  if (!spec.alias.empty()) rtnl_link_set_ifalias(link.get(), spec.alias.c_str());
  return build_add(link.get(), 0, spec.str());
}

NlMsg encode(const LinkDeleteSpec& spec) {
  LinkPtr link(rtnl_link_alloc());
  if (spec.ifindex) rtnl_link_set_ifindex(link.get(), static_cast<int>(spec.ifindex));
  else rtnl_link_set_name(link.get(), spec.name.c_str());
  nl_msg* msg = nullptr;
  if (int rc = rtnl_link_build_delete_request(link.get(), &msg); rc < 0)
    throw Error(ENOMEM, "encoding deletion of link {}: libnl error {}", spec.name, rc);
  return NlMsg(msg);
}

}  // namespace netlab::nl
