// VXLAN devices for multi-host labs (docs/multi-host.md), as value specs and
// their encoding (spec → nl_msg, no socket).
//
// A VxlanSpec is sent on the socket of the host's root namespace with
// IFLA_NET_NS_FD naming the namespace the device belongs in (a node's, or the
// lab's fabric): the kernel creates the device there under its final name but
// opens the UDP socket in the namespace the request came from (rtnl_newlink
// hands the driver the requester's netns as src_net), so the underlay stays in
// the root namespace and the device never appears there — nothing to mark, and
// it dies with the node's or the fabric's namespace. One request, no rename.
//
// A point-to-point link: unicast remote (IFLA_VXLAN_GROUP carries the unicast
// remote, as in iproute2), learning off. A bridge spanning hosts: no remote,
// learning on, and one FDB entry 00:00:00:00:00:00 → each remote host
// (head-end replication: broadcast, unknown unicast and multicast are copied to
// every remote; learned MACs go to one).
#pragma once

#include <cstdint>
#include <string>

#include "netlink/socket.hpp"

namespace netlab::nl {

struct VxlanSpec {
  std::string name;        // the interface name in the target namespace
  int ns_fd = -1;          // the target namespace (-1: the socket's)
  uint32_t ifindex = 0;    // 0: the kernel picks
  uint32_t vni = 0;        // 1..2^24-1
  std::string local;       // underlay source address ("192.0.2.11")
  std::string remote;      // unicast remote; "" = none (FDB entries instead)
  uint16_t port = 4789;    // UDP destination port
  uint32_t mtu = 0;        // 0 = the kernel's default (1450 without a lower device)
  bool learning = false;
  std::string mac;         // "" = random
  bool up = true;
  std::string str() const;  // "vxlan eth0 vni 123 -> 192.0.2.12"
};

/// A forwarding entry on a VXLAN device: frames for `mac` go to `remote`.
/// mac "00:00:00:00:00:00" is the default entry (head-end replication); several
/// are appended (NLM_F_APPEND), one per remote.
struct FdbSpec {
  uint32_t ifindex = 0;
  std::string mac = "00:00:00:00:00:00";
  std::string remote;
  std::string str() const;
};

/// Throw Error(EINVAL) on a VNI out of range or an unparsable address or MAC.
NlMsg encode(const VxlanSpec& spec);
NlMsg encode(const FdbSpec& spec);

}  // namespace netlab::nl
