// Address and route requests as value specs, encoded with libnl-route-3.
// IPv6 addresses carry IFA_F_NODAD: a lab address is usable at once, with no
// duplicate address detection delay. Routes carry netlab's own rtm_protocol.
#pragma once

#include <cstdint>
#include <string>

#include "netlink/socket.hpp"

namespace netlab::nl {

/// rtm_protocol of every route netlab adds (an ownership marker; iproute2 shows it as 44+).
inline constexpr uint8_t kNetlabRouteProtocol = 0x6e;  // 'n'

struct AddrSpec {
  uint32_t ifindex = 0;
  std::string prefix;  // "192.168.50.2/24", "fd00::1/64"
  std::string str() const;
};

struct RouteSpec {
  std::string dst;      // "10.0.0.0/8", "0.0.0.0/0", "::/0"
  std::string gateway;  // "" = none
  uint32_t oif = 0;     // 0 = none
  uint32_t metric = 0;
  uint8_t protocol = kNetlabRouteProtocol;
  std::string str() const;
};

/// Throw Error(EINVAL) for an unparsable address; never touch a socket.
NlMsg encode(const AddrSpec& spec);
NlMsg encode(const RouteSpec& spec);
/// RTM_DELADDR / RTM_DELROUTE for the same object (apply removes what a file no longer has).
/// The kernel answers EADDRNOTAVAIL (address) or ESRCH (route) when it is already gone.
NlMsg encode_delete(const AddrSpec& spec);
NlMsg encode_delete(const RouteSpec& spec);

/// RTM_GETROUTE for one destination (what `ip route get` sends).
NlMsg encode_route_get(const std::string& destination);

}  // namespace netlab::nl
