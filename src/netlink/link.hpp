// Link requests as value specs and their encoding (spec → nl_msg, a pure
// function, unit-testable without a socket), built with libnl-route-3.
//
// Kernel rules (design.md decision 3, measured on 6.x): a veth is created in one
// RTM_NEWLINK with both ends named and each already in its namespace; IFF_UP on
// the *peer* at creation is refused (ENOTCONN) and IFLA_MASTER on the peer is
// ignored, so the peer gets one more request, in its own namespace, that sets
// master and up together. A requested ifindex (ifi_index) is honoured for both
// ends — the peer's only when the first end's is requested too — which lets the
// planner address interfaces without lookups. IFLA_IFALIAS is ignored at
// creation; it is set with the LinkSetSpec that follows.
#pragma once

#include <cstdint>
#include <string>

#include "netlink/socket.hpp"

namespace netlab::nl {

struct VethSpec {
  std::string name;        // the end brought up at creation
  int ns_fd = -1;          // its namespace (-1: the socket's)
  uint32_t ifindex = 0;    // 0: the kernel picks
  std::string mac;         // "" = random
  std::string peer_name;
  int peer_ns_fd = -1;
  uint32_t peer_ifindex = 0;
  std::string peer_mac;
  uint32_t mtu = 0;        // both ends; 0 = default
  std::string str() const;  // "veth eth0 <-> h1_eth0"
};

struct BridgeSpec {
  std::string name;
  uint32_t ifindex = 0;
  uint32_t mtu = 0;
  bool up = true;
  std::string str() const;
};

/// Changes an existing link (by ifindex, else by name): up/down, master, mtu.
struct LinkSetSpec {
  std::string name;
  uint32_t ifindex = 0;
  bool up = true;
  uint32_t master_ifindex = 0;  // 0 = leave as is
  uint32_t mtu = 0;             // 0 = leave as is
  std::string alias;            // IFLA_IFALIAS; "" = leave as is
  std::string str() const;
};

struct LinkDeleteSpec {
  std::string name;
  uint32_t ifindex = 0;
};

/// Encoders. Throw Error(EINVAL) on a malformed MAC; never touch a socket.
NlMsg encode(const VethSpec& spec);
NlMsg encode(const BridgeSpec& spec);
NlMsg encode(const LinkSetSpec& spec);
NlMsg encode(const LinkDeleteSpec& spec);

}  // namespace netlab::nl
