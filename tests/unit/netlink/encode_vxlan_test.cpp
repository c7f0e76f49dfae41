// VXLAN and FDB encoding without a socket (src/netlink/link_vxlan.*).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "netlink/link_vxlan.hpp"
#include "util/error.hpp"

namespace netlab::nl {
namespace {

TEST(EncodeVxlan, OneRequestNamedInItsNamespaceWithUnicastRemoteAndNoLearning) {
  VxlanSpec v;
  v.name = "eth1";
  v.ns_fd = 7;
  v.ifindex = 101;
  v.vni = 123456;
  v.local = "192.0.2.11";
  v.remote = "192.0.2.12";
  v.port = 4790;
  v.mtu = 1450;
  NlMsg msg = encode(v);
  nlmsghdr* hdr = nlmsg_hdr(msg.get());
  EXPECT_EQ(hdr->nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(hdr->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL), NLM_F_CREATE | NLM_F_EXCL);
  auto* ifi = static_cast<ifinfomsg*>(nlmsg_data(hdr));
  EXPECT_EQ(ifi->ifi_index, 101);
  EXPECT_TRUE(ifi->ifi_flags & IFF_UP);
  nlattr* tb[IFLA_MAX + 1] = {};
  ASSERT_EQ(nlmsg_parse(hdr, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr), 0);
  EXPECT_STREQ(nla_get_string(tb[IFLA_IFNAME]), "eth1");
  EXPECT_EQ(nla_get_u32(tb[IFLA_NET_NS_FD]), 7u);
  EXPECT_EQ(nla_get_u32(tb[IFLA_MTU]), 1450u);
  nlattr* info[IFLA_INFO_MAX + 1] = {};
  ASSERT_EQ(nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], nullptr), 0);
  EXPECT_STREQ(nla_get_string(info[IFLA_INFO_KIND]), "vxlan");
  nlattr* data[IFLA_VXLAN_MAX + 1] = {};
  ASSERT_EQ(nla_parse_nested(data, IFLA_VXLAN_MAX, info[IFLA_INFO_DATA], nullptr), 0);
  EXPECT_EQ(nla_get_u32(data[IFLA_VXLAN_ID]), 123456u);
  in_addr a;
  inet_pton(AF_INET, "192.0.2.12", &a);
  ASSERT_NE(data[IFLA_VXLAN_GROUP], nullptr);  // the unicast remote, as iproute2 sends it
  EXPECT_EQ(nla_get_u32(data[IFLA_VXLAN_GROUP]), a.s_addr);
  inet_pton(AF_INET, "192.0.2.11", &a);
  EXPECT_EQ(nla_get_u32(data[IFLA_VXLAN_LOCAL]), a.s_addr);
  EXPECT_EQ(nla_get_u16(data[IFLA_VXLAN_PORT]), htons(4790));
  ASSERT_NE(data[IFLA_VXLAN_LEARNING], nullptr);
  EXPECT_EQ(nla_get_u8(data[IFLA_VXLAN_LEARNING]), 0);
}

TEST(EncodeVxlan, HeadEndReplicationDeviceHasNoRemote) {
  VxlanSpec v;
  v.name = "vx_0";
  v.vni = 99999;
  v.local = "192.0.2.11";
  v.learning = true;
  NlMsg msg = encode(v);
  nlattr* tb[IFLA_MAX + 1] = {};
  ASSERT_EQ(nlmsg_parse(nlmsg_hdr(msg.get()), sizeof(ifinfomsg), tb, IFLA_MAX, nullptr), 0);
  nlattr* info[IFLA_INFO_MAX + 1] = {};
  ASSERT_EQ(nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], nullptr), 0);
  nlattr* data[IFLA_VXLAN_MAX + 1] = {};
  ASSERT_EQ(nla_parse_nested(data, IFLA_VXLAN_MAX, info[IFLA_INFO_DATA], nullptr), 0);
  EXPECT_EQ(data[IFLA_VXLAN_GROUP], nullptr);
  EXPECT_EQ(nla_get_u8(data[IFLA_VXLAN_LEARNING]), 1);
  EXPECT_EQ(tb[IFLA_NET_NS_FD], nullptr);
}

TEST(EncodeVxlan, RejectsBadVniAndAddresses) {
  VxlanSpec v;
  v.name = "x";
  v.vni = 1u << 24;
  EXPECT_THROW(encode(v), Error);
  v.vni = 5000;
  v.remote = "192.0.2.300";
  EXPECT_THROW(encode(v), Error);
}

TEST(EncodeFdb, AllZeroEntryAppendedToTheDevicesOwnTable) {
  NlMsg msg = encode(FdbSpec{42, "00:00:00:00:00:00", "192.0.2.13"});
  nlmsghdr* hdr = nlmsg_hdr(msg.get());
  EXPECT_EQ(hdr->nlmsg_type, RTM_NEWNEIGH);
  EXPECT_EQ(hdr->nlmsg_flags & (NLM_F_CREATE | NLM_F_APPEND | NLM_F_EXCL), NLM_F_CREATE | NLM_F_APPEND);
  auto* ndm = static_cast<ndmsg*>(nlmsg_data(hdr));
  EXPECT_EQ(ndm->ndm_family, AF_BRIDGE);
  EXPECT_EQ(ndm->ndm_ifindex, 42);
  EXPECT_EQ(ndm->ndm_flags, NTF_SELF);
  EXPECT_TRUE(ndm->ndm_state & NUD_PERMANENT);
  nlattr* tb[NDA_MAX + 1] = {};
  ASSERT_EQ(nlmsg_parse(hdr, sizeof(ndmsg), tb, NDA_MAX, nullptr), 0);
  ASSERT_EQ(nla_len(tb[NDA_LLADDR]), 6);
  const unsigned char zero[6] = {};
  EXPECT_EQ(memcmp(nla_data(tb[NDA_LLADDR]), zero, 6), 0);
  in_addr a;
  inet_pton(AF_INET, "192.0.2.13", &a);
  ASSERT_EQ(nla_len(tb[NDA_DST]), 4);
  EXPECT_EQ(memcmp(nla_data(tb[NDA_DST]), &a, 4), 0);
  EXPECT_THROW(encode(FdbSpec{42, "zz", "192.0.2.13"}), Error);
}

}  // namespace
}  // namespace netlab::nl
