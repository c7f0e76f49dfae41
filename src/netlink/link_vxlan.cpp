#include "netlink/link_vxlan.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/if_bridge.h>
#include <linux/neighbour.h>
#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/msg.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vxlan.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "util/error.hpp"

namespace netlab::nl {

namespace {

struct AddrDeleter {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using AddrPtr = std::unique_ptr<nl_addr, AddrDeleter>;

AddrPtr ip(const std::string& text, const std::string& what) {
  nl_addr* a = nullptr;
  unsigned char buf[16];
  int family = inet_pton(AF_INET, text.c_str(), buf) == 1 ? AF_INET
               : inet_pton(AF_INET6, text.c_str(), buf) == 1 ? AF_INET6 : 0;
  if (!family || nl_addr_parse(text.c_str(), family, &a) < 0)
    throw Error(EINVAL, "{}: \"{}\" is not an IP address", what, text);
  return AddrPtr(a);
}

}  // namespace

std::string VxlanSpec::str() const {
  return fmt::format("vxlan {} vni {} {}", name, vni, remote.empty() ? "(head-end replication)" : "-> " + remote);
}
std::string FdbSpec::str() const { return fmt::format("fdb {} dst {} on ifindex {}", mac, remote, ifindex); }

NlMsg encode(const VxlanSpec& spec) {
  if (spec.vni == 0 || spec.vni >= (1u << 24)) throw Error(EINVAL, "{}: VNI must be 1..16777215", spec.str());
  std::unique_ptr<rtnl_link, void (*)(rtnl_link*)> link(rtnl_link_vxlan_alloc(), rtnl_link_put);
  if (!link) throw Error(ENOMEM, "allocating {}", spec.str());
  rtnl_link* l = link.get();
  rtnl_link_set_name(l, spec.name.c_str());
  if (spec.ns_fd >= 0) rtnl_link_set_ns_fd(l, spec.ns_fd);
  if (spec.ifindex) rtnl_link_set_ifindex(l, static_cast<int>(spec.ifindex));
  if (spec.mtu) rtnl_link_set_mtu(l, spec.mtu);
  if (!spec.mac.empty()) {
    nl_addr* a = nullptr;
    if (nl_addr_parse(spec.mac.c_str(), AF_LLC, &a) < 0 || nl_addr_get_len(a) != 6) {
      if (a) nl_addr_put(a);
      throw Error(EINVAL, "{}: \"{}\" is not a MAC address", spec.str(), spec.mac);
    }
    rtnl_link_set_addr(l, a);
    nl_addr_put(a);
  }
  if (spec.up) rtnl_link_set_flags(l, IFF_UP);
  rtnl_link_vxlan_set_id(l, spec.vni);
  if (!spec.local.empty()) rtnl_link_vxlan_set_local(l, ip(spec.local, spec.str()).get());
  if (!spec.remote.empty()) rtnl_link_vxlan_set_group(l, ip(spec.remote, spec.str()).get());
  rtnl_link_vxlan_set_port(l, spec.port);
  rtnl_link_vxlan_set_learning(l, spec.learning ? 1 : 0);
  nl_msg* msg = nullptr;
  if (int rc = rtnl_link_build_add_request(l, NLM_F_CREATE | NLM_F_EXCL, &msg); rc < 0)
    throw Error(ENOMEM, "encoding {}: libnl error {}", spec.str(), rc);
  return NlMsg(msg);
}

NlMsg encode(const FdbSpec& spec) {
  unsigned char mac[6];
  if (std::sscanf(spec.mac.c_str(), "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4],
                  &mac[5]) != 6)
    throw Error(EINVAL, "{}: \"{}\" is not a MAC address", spec.str(), spec.mac);
  unsigned char dst[16];
  size_t dst_len = 4;
  if (inet_pton(AF_INET, spec.remote.c_str(), dst) != 1) {
    if (inet_pton(AF_INET6, spec.remote.c_str(), dst) != 1)
      throw Error(EINVAL, "{}: \"{}\" is not an IP address", spec.str(), spec.remote);
    dst_len = 16;
  }
  nl_msg* msg = nlmsg_alloc_simple(RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_APPEND);
  if (!msg) throw Error(ENOMEM, "encoding {}", spec.str());
  NlMsg out(msg);
  ndmsg ndm{};
  ndm.ndm_family = AF_BRIDGE;
  ndm.ndm_ifindex = static_cast<int>(spec.ifindex);
  ndm.ndm_state = NUD_PERMANENT | NUD_NOARP;
  ndm.ndm_flags = NTF_SELF;  // the VXLAN device's own FDB, not the bridge's
  if (nlmsg_append(msg, &ndm, sizeof(ndm), NLMSG_ALIGNTO) < 0 || nla_put(msg, NDA_LLADDR, 6, mac) < 0 ||
      nla_put(msg, NDA_DST, static_cast<int>(dst_len), dst) < 0)
    throw Error(ENOMEM, "encoding {}", spec.str());
  return out;
}

}  // namespace netlab::nl
