// Read-back of a namespace's links, addresses and routes over its socket (one
// dump request each), and a route lookup for one destination. Used by inspect,
// route checks and tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "netlink/addr.hpp"
#include "netlink/socket.hpp"

namespace netlab::nl {

/// One direction's counters (IFLA_STATS64, as `ip -s link` shows them).
struct LinkCounters {
  uint64_t packets = 0, bytes = 0, dropped = 0, errors = 0;
};

struct LinkInfo {
  std::string name;
  uint32_t ifindex = 0;
  std::string kind;        // "veth", "bridge", "" for loopback/physical
  bool up = false;         // IFF_UP
  bool lower_up = false;   // carrier
  uint32_t mtu = 0;
  std::string mac;
  uint32_t master = 0;     // bridge ifindex, 0 = none
  std::string alias;
  uint32_t link = 0;       // IFLA_LINK: the veth peer's ifindex (in its own netns)
  int32_t link_netnsid = -1;
  LinkCounters rx, tx;
};

struct AddrInfo {
  uint32_t ifindex = 0;
  int family = 0;
  std::string prefix;  // "192.168.50.2/24"
  uint32_t flags = 0;
};

struct RouteInfo {
  int family = 0;
  std::string dst;      // "0.0.0.0/0", "10.0.0.0/8"
  std::string gateway;  // "" = none
  uint32_t oif = 0;
  uint32_t metric = 0;
  uint8_t protocol = 0;
  uint32_t table = 0;
  uint8_t type = 0;
};

std::vector<LinkInfo> dump_links(RtnlSocket& sock);
std::vector<AddrInfo> dump_addresses(RtnlSocket& sock);
/// Main-table unicast routes of both families.
std::vector<RouteInfo> dump_routes(RtnlSocket& sock);
/// The route the kernel would use for `destination` (ENETUNREACH & co. thrown).
RouteInfo lookup_route(RtnlSocket& sock, const std::string& destination);

}  // namespace netlab::nl
