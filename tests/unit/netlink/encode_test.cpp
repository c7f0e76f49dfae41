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

tcmsg* tc_header(const NlMsg& msg) { return static_cast<tcmsg*>(nlmsg_data(nlmsg_hdr(msg.get()))); }

std::string tc_kind(const NlMsg& msg, nlattr** options) {
  nlattr* tb[TCA_MAX + 1] = {};
  EXPECT_EQ(nlmsg_parse(nlmsg_hdr(msg.get()), sizeof(tcmsg), tb, TCA_MAX, nullptr), 0);
  *options = tb[TCA_OPTIONS];
  return tb[TCA_KIND] ? nla_get_string(tb[TCA_KIND]) : "";
}

TEST(EncodeImpairment, NetemAloneSitsAtTheRootWithDelaysInTicksAsTcPutsThem) {
  Impairment imp;
  imp.delay_ns = 20'000'000;
  imp.jitter_ns = 5'000'000;
  imp.loss_percent = 100;
  auto msgs = encode_impairment(100, imp);
  ASSERT_EQ(msgs.size(), 1u);
  auto* h = nlmsg_hdr(msgs[0].get());
  EXPECT_EQ(h->nlmsg_type, RTM_NEWQDISC);
  EXPECT_EQ(h->nlmsg_flags & (NLM_F_CREATE | NLM_F_REPLACE), NLM_F_CREATE | NLM_F_REPLACE);
  EXPECT_EQ(tc_header(msgs[0])->tcm_ifindex, 100);
  EXPECT_EQ(tc_header(msgs[0])->tcm_parent, TC_H_ROOT);
  EXPECT_EQ(tc_header(msgs[0])->tcm_handle, kImpairRootHandle);
  nlattr* options = nullptr;
  EXPECT_EQ(tc_kind(msgs[0], &options), "netem");
  auto* qopt = static_cast<tc_netem_qopt*>(nla_data(options));
  EXPECT_EQ(qopt->loss, 0xffffffffu);
  EXPECT_EQ(qopt->limit, kNetemLimitPackets);
  EXPECT_EQ(qopt->latency, 20'000'000u / 64) << "ticks of 64 ns";
  EXPECT_EQ(qopt->jitter, 5'000'000u / 64);
  EXPECT_EQ(nla_len(options), static_cast<int>(sizeof(tc_netem_qopt))) << "nothing else: tc sends no 64-bit delays";
}

TEST(EncodeImpairment, SubMicrosecondDelaysAlsoGoIn64Bits) {
  Impairment imp;
  imp.delay_ns = 1'000'100;  // ticks would lose the 100 ns
  auto msgs = encode_impairment(1, imp);
  nlattr* options = nullptr;
  ASSERT_EQ(tc_kind(msgs[0], &options), "netem");
  nlattr* ntb[TCA_NETEM_MAX + 1] = {};
  ASSERT_EQ(nla_parse(ntb, TCA_NETEM_MAX,
                      reinterpret_cast<nlattr*>(static_cast<char*>(nla_data(options)) + NLA_ALIGN(sizeof(tc_netem_qopt))),
                      nla_len(options) - static_cast<int>(NLA_ALIGN(sizeof(tc_netem_qopt))), nullptr),
            0);
  ASSERT_NE(ntb[TCA_NETEM_LATENCY64], nullptr);
  int64_t latency = 0;
  std::memcpy(&latency, nla_data(ntb[TCA_NETEM_LATENCY64]), 8);
  EXPECT_EQ(latency, 1'000'100);
  EXPECT_EQ(ntb[TCA_NETEM_JITTER64], nullptr);
  EXPECT_EQ(ntb[TCA_NETEM_RATE], nullptr) << "a rate is TBF's job";
}

TEST(EncodeImpairment, RateAloneIsATbfWithAnExactBucketAndNoNetem) {
  Impairment imp;
  imp.rate_bits_per_sec = 10'000'000;
  auto msgs = encode_impairment(7, imp);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(tc_header(msgs[0])->tcm_parent, TC_H_ROOT);
  nlattr* options = nullptr;
  ASSERT_EQ(tc_kind(msgs[0], &options), "tbf");
  nlattr* tb[TCA_TBF_MAX + 1] = {};
  ASSERT_EQ(nla_parse_nested(tb, TCA_TBF_MAX, options, nullptr), 0);
  auto* q = static_cast<tc_tbf_qopt*>(nla_data(tb[TCA_TBF_PARMS]));
  EXPECT_EQ(q->rate.rate, 10'000'000u / 8);
  EXPECT_EQ(q->rate.linklayer, TC_LINKLAYER_ETHERNET);
  EXPECT_EQ(q->limit, tbf_limit_bytes(10'000'000));
  EXPECT_GE(nla_get_u32(tb[TCA_TBF_BURST]), 1514u * 10) << "a full frame must fit the bucket";
  EXPECT_EQ(tb[TCA_TBF_RATE64], nullptr);
}

TEST(EncodeImpairment, RatesBeyond32BitsOfBytesGoIn64BitsAndBucketsStayBounded) {
  Impairment imp;
  imp.rate_bits_per_sec = 40'000'000'000ull;  // 5e9 bytes/s
  auto msgs = encode_impairment(7, imp);
  nlattr* options = nullptr;
  ASSERT_EQ(tc_kind(msgs[0], &options), "tbf");
  nlattr* tb[TCA_TBF_MAX + 1] = {};
  ASSERT_EQ(nla_parse_nested(tb, TCA_TBF_MAX, options, nullptr), 0);
  ASSERT_NE(tb[TCA_TBF_RATE64], nullptr);
  EXPECT_EQ(nla_get_u64(tb[TCA_TBF_RATE64]), 5'000'000'000ull);
  EXPECT_LE(tbf_burst_bytes(imp.rate_bits_per_sec), 64u << 20);
  EXPECT_GT(tbf_limit_bytes(imp.rate_bits_per_sec), tbf_burst_bytes(imp.rate_bits_per_sec));
}

TEST(EncodeImpairment, RateWithDelayIsTbfAtTheRootAndNetemUnderItsClass) {
  Impairment imp;
  imp.rate_bits_per_sec = 1'000'000;
  imp.delay_ns = 1'000'000;
  auto msgs = encode_impairment(9, imp);
  ASSERT_EQ(msgs.size(), 2u);
  nlattr* options = nullptr;
  EXPECT_EQ(tc_kind(msgs[0], &options), "tbf");
  EXPECT_EQ(tc_kind(msgs[1], &options), "netem");
  EXPECT_EQ(tc_header(msgs[1])->tcm_parent, TC_H_MAKE(kImpairRootHandle, 1));
  EXPECT_EQ(tc_header(msgs[1])->tcm_handle, kImpairNetemHandle);
  EXPECT_TRUE(encode_impairment(9, Impairment{}).empty());
}

TEST(Impairment, InForceIsAssembledFromTheRootAndItsNetemChildOnly) {
  Impairment rate;
  rate.rate_bits_per_sec = 10'000'000;
  Impairment delay;
  delay.delay_ns = 5'000'000;
  std::vector<QdiscInfo> qdiscs = {
      {3, kImpairRootHandle, TC_H_ROOT, "tbf", rate},
      {3, kImpairNetemHandle, TC_H_MAKE(kImpairRootHandle, 1), "netem", delay},
      {4, 0, TC_H_ROOT, "noqueue", {}},
      {5, 0x00020000, TC_H_ROOT, "tbf", rate},  // someone else's: not netlab's handle
  };
  Impairment both = delay;
  both.rate_bits_per_sec = rate.rate_bits_per_sec;
  EXPECT_EQ(impairment_of(qdiscs, 3), both);
  EXPECT_EQ(impairment_of(qdiscs, 3).str(), "delay 5ms rate 10mbit");
  EXPECT_TRUE(impairment_of(qdiscs, 4).empty());
  EXPECT_TRUE(impairment_of(qdiscs, 5).empty());
  EXPECT_EQ(Impairment{}.str(), "none");
}

}  // namespace
}  // namespace netlab::nl
