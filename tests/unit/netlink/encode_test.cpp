// Encoding without a socket: each spec becomes the message the kernel rules
// need (Open/R NetlinkTypesTest style).
#include <gtest/gtest.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include <cstring>

#include "netlink/addr.hpp"
#include "netlink/link.hpp"
#include "util/error.hpp"

namespace netlab::nl {
namespace {

struct Parsed {
  nlmsghdr* hdr;
  ifinfomsg* ifi;
  nlattr* tb[IFLA_MAX + 1] = {};
};

Parsed parse_link(nl_msg* msg) {
  Parsed p;
  p.hdr = nlmsg_hdr(msg);
  p.ifi = static_cast<ifinfomsg*>(nlmsg_data(p.hdr));
  EXPECT_EQ(nlmsg_parse(p.hdr, sizeof(ifinfomsg), p.tb, IFLA_MAX, nullptr), 0);
  return p;
}

TEST(EncodeVeth, OneRequestWithBothEndsNamedPlacedAndIndexed) {
  VethSpec v;
  v.name = "eth0";
  v.ns_fd = 7;
  v.ifindex = 100;
  v.peer_name = "h1_eth0";
  v.peer_ns_fd = 9;
  v.peer_ifindex = 10000;
  v.mtu = 1400;
  NlMsg msg = encode(v);
  Parsed p = parse_link(msg.get());
  EXPECT_EQ(p.hdr->nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(p.hdr->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL), NLM_F_CREATE | NLM_F_EXCL);
  EXPECT_EQ(p.ifi->ifi_index, 100);
  EXPECT_TRUE(p.ifi->ifi_flags & IFF_UP);
  EXPECT_STREQ(nla_get_string(p.tb[IFLA_IFNAME]), "eth0");
  EXPECT_EQ(nla_get_u32(p.tb[IFLA_NET_NS_FD]), 7u);
  EXPECT_EQ(nla_get_u32(p.tb[IFLA_MTU]), 1400u);
  nlattr* info[IFLA_INFO_MAX + 1] = {};
  ASSERT_EQ(nla_parse_nested(info, IFLA_INFO_MAX, p.tb[IFLA_LINKINFO], nullptr), 0);
  EXPECT_STREQ(nla_get_string(info[IFLA_INFO_KIND]), "veth");
  nlattr* data[VETH_INFO_MAX + 1] = {};
  ASSERT_EQ(nla_parse_nested(data, VETH_INFO_MAX, info[IFLA_INFO_DATA], nullptr), 0);
  ASSERT_NE(data[VETH_INFO_PEER], nullptr);
  // The peer: its own ifinfomsg, then its attributes.
  auto* peer_ifi = static_cast<ifinfomsg*>(nla_data(data[VETH_INFO_PEER]));
  EXPECT_EQ(peer_ifi->ifi_index, 10000);
  EXPECT_FALSE(peer_ifi->ifi_flags & IFF_UP) << "IFF_UP on the peer at creation is refused (ENOTCONN)";
  nlattr* ptb[IFLA_MAX + 1] = {};
  ASSERT_EQ(nla_parse(ptb, IFLA_MAX, reinterpret_cast<nlattr*>(static_cast<char*>(nla_data(data[VETH_INFO_PEER])) + sizeof(ifinfomsg)),
                      nla_len(data[VETH_INFO_PEER]) - static_cast<int>(sizeof(ifinfomsg)), nullptr),
            0);
  EXPECT_STREQ(nla_get_string(ptb[IFLA_IFNAME]), "h1_eth0");
  EXPECT_EQ(nla_get_u32(ptb[IFLA_NET_NS_FD]), 9u);
}

TEST(EncodeLinkSet, MasterUpAndAliasInOneChange) {
  NlMsg msg = encode(LinkSetSpec{"h1_eth0", 10000, true, 100, 0, "h1:eth0"});
  Parsed p = parse_link(msg.get());
  EXPECT_EQ(p.hdr->nlmsg_flags & NLM_F_CREATE, 0);
  EXPECT_EQ(p.ifi->ifi_index, 10000);
  EXPECT_TRUE(p.ifi->ifi_flags & IFF_UP);
  EXPECT_TRUE(p.ifi->ifi_change & IFF_UP);
  EXPECT_EQ(nla_get_u32(p.tb[IFLA_MASTER]), 100u);
  EXPECT_STREQ(nla_get_string(p.tb[IFLA_IFALIAS]), "h1:eth0");
}

TEST(EncodeBridge, KindAndIndex) {
  NlMsg msg = encode(BridgeSpec{"lan", 100, 9000, true});
  Parsed p = parse_link(msg.get());
  EXPECT_EQ(p.ifi->ifi_index, 100);
  EXPECT_EQ(nla_get_u32(p.tb[IFLA_MTU]), 9000u);
  nlattr* info[IFLA_INFO_MAX + 1] = {};
  ASSERT_EQ(nla_parse_nested(info, IFLA_INFO_MAX, p.tb[IFLA_LINKINFO], nullptr), 0);
  EXPECT_STREQ(nla_get_string(info[IFLA_INFO_KIND]), "bridge");
}

TEST(EncodeAddress, Ipv6IsNoDad) {
  NlMsg v6 = encode(AddrSpec{100, "fd00::1/64"});
  auto* h = nlmsg_hdr(v6.get());
  auto* ifa = static_cast<ifaddrmsg*>(nlmsg_data(h));
  EXPECT_EQ(ifa->ifa_family, AF_INET6);
  EXPECT_EQ(ifa->ifa_prefixlen, 64);
  EXPECT_EQ(ifa->ifa_index, 100u);
  EXPECT_TRUE(ifa->ifa_flags & IFA_F_NODAD);
  NlMsg v4 = encode(AddrSpec{100, "192.168.50.2/24"});
  EXPECT_EQ(static_cast<ifaddrmsg*>(nlmsg_data(nlmsg_hdr(v4.get())))->ifa_prefixlen, 24);
  EXPECT_THROW(encode(AddrSpec{100, "nonsense"}), Error);
}

TEST(EncodeRoute, OwnProtocolGatewayAndMetric) {
  NlMsg msg = encode(RouteSpec{"0.0.0.0/0", "192.168.50.1", 0, 100});
  auto* h = nlmsg_hdr(msg.get());
  auto* rtm = static_cast<rtmsg*>(nlmsg_data(h));
  EXPECT_EQ(rtm->rtm_family, AF_INET);
  EXPECT_EQ(rtm->rtm_dst_len, 0);
  EXPECT_EQ(rtm->rtm_protocol, kNetlabRouteProtocol);
  EXPECT_EQ(rtm->rtm_table, RT_TABLE_MAIN);
  EXPECT_EQ(rtm->rtm_type, RTN_UNICAST);
  nlattr* tb[RTA_MAX + 1] = {};
  ASSERT_EQ(nlmsg_parse(h, sizeof(rtmsg), tb, RTA_MAX, nullptr), 0);
  ASSERT_NE(tb[RTA_GATEWAY], nullptr);
  EXPECT_EQ(nla_get_u32(tb[RTA_PRIORITY]), 100u);
}

}  // namespace
}  // namespace netlab::nl

#include <linux/pkt_sched.h>

#include "netlink/qdisc.hpp"

namespace netlab::nl {
namespace {

TEST(EncodeNetem, StructFirstThen64BitDelaysAndRate) {
  NetemSpec q;
  q.ifindex = 100;
  q.delay_ns = 20'000'000;
  q.jitter_ns = 5'000'000;
  q.loss_percent = 100;
  q.rate_bits_per_sec = 10'000'000;
  NlMsg msg = encode(q);
  auto* h = nlmsg_hdr(msg.get());
  EXPECT_EQ(h->nlmsg_type, RTM_NEWQDISC);
  EXPECT_EQ(h->nlmsg_flags & (NLM_F_CREATE | NLM_F_REPLACE), NLM_F_CREATE | NLM_F_REPLACE);
  auto* tcm = static_cast<tcmsg*>(nlmsg_data(h));
  EXPECT_EQ(tcm->tcm_ifindex, 100);
  EXPECT_EQ(tcm->tcm_parent, TC_H_ROOT);
  nlattr* tb[TCA_MAX + 1] = {};
  ASSERT_EQ(nlmsg_parse(h, sizeof(tcmsg), tb, TCA_MAX, nullptr), 0);
  EXPECT_STREQ(nla_get_string(tb[TCA_KIND]), "netem");
  auto* qopt = static_cast<tc_netem_qopt*>(nla_data(tb[TCA_OPTIONS]));
  EXPECT_EQ(qopt->loss, 0xffffffffu);
  EXPECT_EQ(qopt->limit, 10000u);
  nlattr* ntb[TCA_NETEM_MAX + 1] = {};
  ASSERT_EQ(nla_parse(ntb, TCA_NETEM_MAX,
                      reinterpret_cast<nlattr*>(static_cast<char*>(nla_data(tb[TCA_OPTIONS])) + NLA_ALIGN(sizeof(tc_netem_qopt))),
                      nla_len(tb[TCA_OPTIONS]) - static_cast<int>(NLA_ALIGN(sizeof(tc_netem_qopt))), nullptr),
            0);
  int64_t latency = 0, jitter = 0;
  std::memcpy(&latency, nla_data(ntb[TCA_NETEM_LATENCY64]), 8);
  std::memcpy(&jitter, nla_data(ntb[TCA_NETEM_JITTER64]), 8);
  EXPECT_EQ(latency, 20'000'000);
  EXPECT_EQ(jitter, 5'000'000);
  EXPECT_EQ(static_cast<tc_netem_rate*>(nla_data(ntb[TCA_NETEM_RATE]))->rate, 10'000'000u / 8);
}

}  // namespace
}  // namespace netlab::nl
