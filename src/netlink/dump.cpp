#include "netlink/dump.hpp"

#include <linux/if.h>
#include <netlink/addr.h>
#include <netlink/msg.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include <cerrno>
#include <fmt/format.h>

#include "util/error.hpp"

namespace netlab::nl {

namespace {

std::string addr_text(nl_addr* a, bool with_len) {
  if (!a) return "";
  char buf[128];
  std::string s = nl_addr2str(a, buf, sizeof buf);
  if (!with_len) {
    auto slash = s.find('/');
    if (slash != std::string::npos) s.resize(slash);
  } else if (s.find('/') == std::string::npos) {
    s += fmt::format("/{}", nl_addr_get_prefixlen(a));  // not "/" + to_string: GCC 12 -Wrestrict false positive
  }
  return s;
}

// Hands each reply of a dump to libnl's parser, which yields rtnl_* objects.
template <typename Fn>
void parse_each(RtnlSocket& sock, int type, int family, Fn on_object) {
  NlMsg req(nlmsg_alloc_simple(type, 0));
  if (type == RTM_GETLINK) {
    ifinfomsg ifi{};
    ifi.ifi_family = static_cast<unsigned char>(family);
    nlmsg_append(req.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO);
  } else if (type == RTM_GETADDR) {
    ifaddrmsg ifa{};
    ifa.ifa_family = static_cast<unsigned char>(family);
    nlmsg_append(req.get(), &ifa, sizeof ifa, NLMSG_ALIGNTO);
  } else {
    rtmsg rtm{};
    rtm.rtm_family = static_cast<unsigned char>(family);
    nlmsg_append(req.get(), &rtm, sizeof rtm, NLMSG_ALIGNTO);
  }
  sock.dump(std::move(req), [&](nlmsghdr* h) {
    NlMsg copy(nlmsg_convert(h));
    if (!copy) return;
    nlmsg_set_proto(copy.get(), NETLINK_ROUTE);  // libnl finds its parser by protocol + type
    nl_msg_parse(
        copy.get(), [](nl_object* obj, void* arg) { (*static_cast<Fn*>(arg))(obj); }, &on_object);
  });
}

RouteInfo route_info(rtnl_route* r) {
  RouteInfo info;
  info.family = rtnl_route_get_family(r);
  nl_addr* dst = rtnl_route_get_dst(r);
  info.dst = dst ? addr_text(dst, true) : (info.family == AF_INET6 ? "::/0" : "0.0.0.0/0");
  if (info.dst == "none/0" || info.dst == "default/0" || info.dst == "any/0")
    info.dst = info.family == AF_INET6 ? "::/0" : "0.0.0.0/0";
  info.metric = rtnl_route_get_priority(r);
  info.protocol = rtnl_route_get_protocol(r);
  info.table = rtnl_route_get_table(r);
  info.type = rtnl_route_get_type(r);
  if (rtnl_route_get_nnexthops(r) > 0) {
    rtnl_nexthop* nh = rtnl_route_nexthop_n(r, 0);
    info.oif = static_cast<uint32_t>(rtnl_route_nh_get_ifindex(nh));
    if (nl_addr* gw = rtnl_route_nh_get_gateway(nh)) info.gateway = addr_text(gw, false);
  }
  return info;
}

}  // namespace

std::vector<LinkInfo> dump_links(RtnlSocket& sock) {
  std::vector<LinkInfo> out;
  parse_each(sock, RTM_GETLINK, AF_UNSPEC, [&](nl_object* obj) {
    auto* l = reinterpret_cast<rtnl_link*>(obj);
    LinkInfo info;
    info.name = rtnl_link_get_name(l) ? rtnl_link_get_name(l) : "";
    info.ifindex = static_cast<uint32_t>(rtnl_link_get_ifindex(l));
    info.kind = rtnl_link_get_type(l) ? rtnl_link_get_type(l) : "";
    info.up = rtnl_link_get_flags(l) & IFF_UP;
    info.lower_up = rtnl_link_get_flags(l) & IFF_LOWER_UP;
    info.mtu = rtnl_link_get_mtu(l);
    if (nl_addr* mac = rtnl_link_get_addr(l)) info.mac = addr_text(mac, false);
    info.master = static_cast<uint32_t>(rtnl_link_get_master(l));
    info.alias = rtnl_link_get_ifalias(l) ? rtnl_link_get_ifalias(l) : "";
    info.link = static_cast<uint32_t>(rtnl_link_get_link(l));
    int32_t nsid = -1;
    if (rtnl_link_get_link_netnsid(l, &nsid) == 0) info.link_netnsid = nsid;
    // libnl fills these from IFLA_STATS64 when the kernel sends it (always, since 2.6.35).
    info.rx = {rtnl_link_get_stat(l, RTNL_LINK_RX_PACKETS), rtnl_link_get_stat(l, RTNL_LINK_RX_BYTES),
               rtnl_link_get_stat(l, RTNL_LINK_RX_DROPPED), rtnl_link_get_stat(l, RTNL_LINK_RX_ERRORS)};
    info.tx = {rtnl_link_get_stat(l, RTNL_LINK_TX_PACKETS), rtnl_link_get_stat(l, RTNL_LINK_TX_BYTES),
               rtnl_link_get_stat(l, RTNL_LINK_TX_DROPPED), rtnl_link_get_stat(l, RTNL_LINK_TX_ERRORS)};
    out.push_back(std::move(info));
  });
  return out;
}

std::vector<AddrInfo> dump_addresses(RtnlSocket& sock) {
  std::vector<AddrInfo> out;
  parse_each(sock, RTM_GETADDR, AF_UNSPEC, [&](nl_object* obj) {
    auto* a = reinterpret_cast<rtnl_addr*>(obj);
    AddrInfo info;
    info.ifindex = static_cast<uint32_t>(rtnl_addr_get_ifindex(a));
    info.family = rtnl_addr_get_family(a);
    info.prefix = addr_text(rtnl_addr_get_local(a), true);
    info.flags = rtnl_addr_get_flags(a);
    out.push_back(std::move(info));
  });
  return out;
}

std::vector<RouteInfo> dump_routes(RtnlSocket& sock) {
  std::vector<RouteInfo> out;
  parse_each(sock, RTM_GETROUTE, AF_UNSPEC, [&](nl_object* obj) {
    RouteInfo info = route_info(reinterpret_cast<rtnl_route*>(obj));
    if (info.table == RT_TABLE_MAIN && info.type == RTN_UNICAST) out.push_back(std::move(info));
  });
  return out;
}

RouteInfo lookup_route(RtnlSocket& sock, const std::string& destination) {
  RouteInfo found;
  bool got = false;
  sock.query(encode_route_get(destination), [&](nlmsghdr* h) {
    NlMsg copy(nlmsg_convert(h));
    nlmsg_set_proto(copy.get(), NETLINK_ROUTE);
    auto fn = [&](nl_object* obj) {
      found = route_info(reinterpret_cast<rtnl_route*>(obj));
      got = true;
    };
    nl_msg_parse(
        copy.get(), [](nl_object* obj, void* arg) { (*static_cast<decltype(fn)*>(arg))(obj); }, &fn);
  });
  if (!got) throw Error(ENOENT, "route lookup for {} in netns {}: no answer", destination, sock.ns_name());
  return found;
}

}  // namespace netlab::nl
