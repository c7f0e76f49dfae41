#include "netlink/addr.hpp"

#include <fmt/format.h>
#include <linux/if_addr.h>
#include <netlink/addr.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>

#include <cerrno>

#include "util/error.hpp"

namespace netlab::nl {

namespace {

struct NlAddrDeleter {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using NlAddrPtr = std::unique_ptr<nl_addr, NlAddrDeleter>;

NlAddrPtr parse(const std::string& text, const std::string& what) {
  nl_addr* a = nullptr;
  if (nl_addr_parse(text.c_str(), AF_UNSPEC, &a) < 0 ||
      (nl_addr_get_family(a) != AF_INET && nl_addr_get_family(a) != AF_INET6)) {
    if (a) nl_addr_put(a);
    throw Error(EINVAL, "{}: \"{}\" is not an IP address or prefix", what, text);
  }
  return NlAddrPtr(a);
}

}  // namespace

std::string AddrSpec::str() const { return fmt::format("address {} on ifindex {}", prefix, ifindex); }

std::string RouteSpec::str() const {
  std::string s = "route " + dst;
  if (!gateway.empty()) s += " via " + gateway;
  if (oif) s += fmt::format(" oif {}", oif);
  if (metric) s += fmt::format(" metric {}", metric);
  return s;
}

namespace {

using AddrPtr = std::unique_ptr<rtnl_addr, void (*)(rtnl_addr*)>;
using RoutePtr = std::unique_ptr<rtnl_route, void (*)(rtnl_route*)>;

AddrPtr build_addr(const AddrSpec& spec) {
  NlAddrPtr local = parse(spec.prefix, spec.str());
  AddrPtr addr(rtnl_addr_alloc(), rtnl_addr_put);
  rtnl_addr_set_ifindex(addr.get(), static_cast<int>(spec.ifindex));
  rtnl_addr_set_family(addr.get(), nl_addr_get_family(local.get()));
  if (rtnl_addr_set_local(addr.get(), local.get()) < 0) throw Error(EINVAL, "encoding {}", spec.str());
  return addr;
}

RoutePtr build_route(const RouteSpec& spec) {
  NlAddrPtr dst = parse(spec.dst, spec.str());
  RoutePtr route(rtnl_route_alloc(), rtnl_route_put);
  rtnl_route_set_family(route.get(), static_cast<uint8_t>(nl_addr_get_family(dst.get())));
  rtnl_route_set_dst(route.get(), dst.get());
  rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
  rtnl_route_set_type(route.get(), RTN_UNICAST);
  rtnl_route_set_protocol(route.get(), spec.protocol);
  if (spec.metric) rtnl_route_set_priority(route.get(), spec.metric);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  if (spec.oif) rtnl_route_nh_set_ifindex(nh, static_cast<int>(spec.oif));
  if (!spec.gateway.empty()) {
    NlAddrPtr gw = parse(spec.gateway, spec.str());
    rtnl_route_nh_set_gateway(nh, gw.get());
  }
  rtnl_route_add_nexthop(route.get(), nh);  // the route owns nh now
  return route;
}

}  // namespace

NlMsg encode_delete(const AddrSpec& spec) {
  AddrPtr addr = build_addr(spec);
  nl_msg* msg = nullptr;
  if (int rc = rtnl_addr_build_delete_request(addr.get(), 0, &msg); rc < 0)
    throw Error(EINVAL, "encoding deletion of {}: libnl error {}", spec.str(), rc);
  return NlMsg(msg);
}

NlMsg encode_delete(const RouteSpec& spec) {
  RoutePtr route = build_route(spec);
  nl_msg* msg = nullptr;
  if (int rc = rtnl_route_build_del_request(route.get(), 0, &msg); rc < 0)
    throw Error(EINVAL, "encoding deletion of {}: libnl error {}", spec.str(), rc);
  return NlMsg(msg);
}

NlMsg encode(const AddrSpec& spec) {
  AddrPtr addr = build_addr(spec);
  if (rtnl_addr_get_family(addr.get()) == AF_INET6) rtnl_addr_set_flags(addr.get(), IFA_F_NODAD);
  nl_msg* msg = nullptr;
  if (int rc = rtnl_addr_build_add_request(addr.get(), NLM_F_CREATE | NLM_F_EXCL, &msg); rc < 0)
    throw Error(EINVAL, "encoding {}: libnl error {}", spec.str(), rc);
  return NlMsg(msg);
}

NlMsg encode(const RouteSpec& spec) {
  RoutePtr route = build_route(spec);
  nl_msg* msg = nullptr;
  if (int rc = rtnl_route_build_add_request(route.get(), NLM_F_CREATE | NLM_F_EXCL, &msg); rc < 0)
    throw Error(EINVAL, "encoding {}: libnl error {}", spec.str(), rc);
  return NlMsg(msg);
}

NlMsg encode_route_get(const std::string& destination) {
  NlAddrPtr dst = parse(destination, "route lookup");
  int family = nl_addr_get_family(dst.get());
  NlMsg msg(nlmsg_alloc_simple(RTM_GETROUTE, 0));
  rtmsg rtm{};
  rtm.rtm_family = static_cast<unsigned char>(family);
  rtm.rtm_dst_len = static_cast<unsigned char>(family == AF_INET ? 32 : 128);
  if (nlmsg_append(msg.get(), &rtm, sizeof rtm, NLMSG_ALIGNTO) < 0 ||
      nla_put(msg.get(), RTA_DST, static_cast<int>(nl_addr_get_len(dst.get())), nl_addr_get_binary_addr(dst.get())) < 0)
    throw Error(ENOMEM, "encoding route lookup for {}", destination);
  return msg;
}

}  // namespace netlab::nl
