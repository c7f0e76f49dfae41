// The netlink layer against the kernel: namespaces, one-request veths with both
// ends placed and indexed, bridges, addresses, routes, read-back (and the same
// read back by iproute2), errors that name the object and keep the errno, and a
// batch whose k-th request fails while the others still apply.
#include <net/if.h>

#include "netlink/addr.hpp"
#include "netlink/dump.hpp"
#include "netlink/link.hpp"
#include "netlink/netns.hpp"
#include "util/error.hpp"
#include "support/fresh_ns.hpp"
#include "support/netlab_cli.hpp"

namespace netlab::testing {
namespace {

class NetlinkTest : public FreshNamespaceTest {};

const nl::LinkInfo* find(const std::vector<nl::LinkInfo>& links, const std::string& name) {
  for (const auto& l : links)
    if (l.name == name) return &l;
  return nullptr;
}

TEST_F(NetlinkTest, VethInOneRequestWithBothEndsPlacedIndexedAndBridged) {
  auto here = nl::Netns::current();
  auto fabric = nl::Netns::create();
  auto node = nl::Netns::create();
  nl::pin(fabric, "/run/netns/fab");
  nl::pin(node, "/run/netns/n1");
  EXPECT_NE(fabric.inode(), node.inode());
  EXPECT_NE(here.inode(), fabric.inode());

  auto fsock = nl::RtnlSocket::open_in(fabric, "fab");
  auto nsock = nl::RtnlSocket::open_in(node, "n1");
  fsock.request(nl::encode(nl::BridgeSpec{"br0", 100, 0, true}), "creating bridge br0");
  nl::VethSpec v;
  v.name = "eth0";
  v.ns_fd = node.fd();
  v.ifindex = 100;
  v.peer_name = "n1_eth0";
  v.peer_ns_fd = fabric.fd();
  v.peer_ifindex = 10000;
  v.mac = "02:00:00:00:00:01";
  fsock.request(nl::encode(v), "creating " + v.str());
  fsock.request(nl::encode(nl::LinkSetSpec{"n1_eth0", 10000, true, 100, 0, "n1:eth0"}), "enslaving n1_eth0");
  EXPECT_EQ(fsock.requests_sent(), 3u);

  auto flinks = nl::dump_links(fsock);
  const auto* br = find(flinks, "br0");
  const auto* port = find(flinks, "n1_eth0");
  ASSERT_TRUE(br && port);
  EXPECT_EQ(br->ifindex, 100u);
  EXPECT_EQ(br->kind, "bridge");
  EXPECT_EQ(port->ifindex, 10000u);
  EXPECT_EQ(port->master, 100u);
  EXPECT_TRUE(port->up);
  EXPECT_EQ(port->kind, "veth");
  EXPECT_EQ(port->alias, "n1:eth0");
  auto nlinks = nl::dump_links(nsock);
  const auto* eth0 = find(nlinks, "eth0");
  ASSERT_TRUE(eth0);
  EXPECT_EQ(eth0->ifindex, 100u);
  EXPECT_TRUE(eth0->up);
  EXPECT_EQ(eth0->mac, "02:00:00:00:00:01");
  EXPECT_EQ(eth0->link, 10000u);  // the peer's index, in the fabric
  // iproute2 agrees.
  auto j = ip_json("fab", "-d link show dev n1_eth0");
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["master"], "br0");
  EXPECT_EQ(j[0]["ifindex"], 10000);
  EXPECT_EQ(ip_json("n1", "link show dev eth0")[0]["ifindex"], 100);
  // One queue each way on both ends, as asked (the kernel's default is one per
  // possible CPU, trimmed after registration behind an RCU grace period).
  auto n1 = ip_json("n1", "-d link show dev eth0");
  for (const auto* end : {&j[0], &n1[0]}) {
    EXPECT_EQ((*end)["num_tx_queues"], 1) << end->dump();
    EXPECT_EQ((*end)["num_rx_queues"], 1) << end->dump();
  }
  // Nothing was created in the test's own namespace.
  EXPECT_EQ(snapshot().links, std::vector<std::string>{"lo"});
  nl::unpin("/run/netns/fab", 0);
  nl::unpin("/run/netns/n1", 0);
  nl::unpin("/run/netns/n1", 0);  // already gone: fine
}

TEST_F(NetlinkTest, AddressesAndRoutesReadBackAndIPv6IsUsableAtOnce) {
  auto a = nl::Netns::create(), b = nl::Netns::create();
  for (auto* ns : {&a, &b}) nl::write_sysctl(*ns, "net.ipv6.conf.default.accept_dad", "0");  // as deploy does
  nl::pin(a, "/run/netns/a");
  nl::pin(b, "/run/netns/b");
  auto as = nl::RtnlSocket::open_in(a, "a");
  auto bs = nl::RtnlSocket::open_in(b, "b");
  nl::VethSpec v{"eth0", a.fd(), 100, "", "eth0", b.fd(), 100, "", 0};
  as.request(nl::encode(v), "creating veth");
  nl::Batch ab;
  ab.add(nl::encode(nl::LinkSetSpec{"lo", 1, true, 0, 0, ""}), "lo up");
  ab.add(nl::encode(nl::AddrSpec{100, "10.1.0.1/24"}), "v4");
  ab.add(nl::encode(nl::AddrSpec{100, "fd00:1::1/64"}), "v6");
  ab.add(nl::encode(nl::RouteSpec{"0.0.0.0/0", "10.1.0.2", 0, 0}), "default");
  ab.add(nl::encode(nl::RouteSpec{"198.51.100.0/24", "", 100, 50}), "on device");
  ab.add(nl::encode(nl::RouteSpec{"::/0", "fd00:1::2", 0, 0}), "default6");
  as.commit_or_throw(ab);
  nl::Batch bb;
  bb.add(nl::encode(nl::LinkSetSpec{"eth0", 100, true, 0, 0, ""}), "eth0 up");
  bb.add(nl::encode(nl::AddrSpec{100, "10.1.0.2/24"}), "v4");
  bb.add(nl::encode(nl::AddrSpec{100, "fd00:1::2/64"}), "v6");
  bs.commit_or_throw(bb);

  auto addrs = nl::dump_addresses(as);
  bool v4 = false, v6 = false;
  for (const auto& x : addrs) {
    v4 |= x.prefix == "10.1.0.1/24" && x.ifindex == 100;
    v6 |= x.prefix == "fd00:1::1/64" && x.ifindex == 100;
  }
  EXPECT_TRUE(v4 && v6);
  auto routes = nl::dump_routes(as);
  int found = 0;
  for (const auto& r : routes) {
    if (r.dst == "0.0.0.0/0" && r.gateway == "10.1.0.2" && r.protocol == nl::kNetlabRouteProtocol) ++found;
    if (r.dst == "198.51.100.0/24" && r.oif == 100 && r.metric == 50) ++found;
    if (r.dst == "::/0" && r.gateway == "fd00:1::2") ++found;
  }
  EXPECT_EQ(found, 3);
  auto got = nl::lookup_route(as, "198.51.100.7");
  EXPECT_EQ(got.oif, 100u);
  EXPECT_EQ(nl::lookup_route(as, "203.0.113.9").gateway, "10.1.0.2");
  // Cross-check with iproute2 and with packets, v6 right away (no DAD wait).
  auto j = ip_json("a", "-4 route show default");
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["gateway"], "10.1.0.2");
  EXPECT_TRUE(ping("a", "10.1.0.2"));
  EXPECT_TRUE(ping("a", "fd00:1::2"));
  EXPECT_FALSE(ping("a", "10.9.9.9"));  // routed to b, which has no route onward
  nl::unpin("/run/netns/a", 0);
  nl::unpin("/run/netns/b", 0);
}

TEST_F(NetlinkTest, ErrorsNameTheObjectAndABatchReportsEachRequest) {
  auto ns = nl::Netns::create();
  auto sock = nl::RtnlSocket::open_in(ns, "x");
  sock.request(nl::encode(nl::BridgeSpec{"br0", 0, 0, true}), "creating bridge br0");
  try {
    sock.request(nl::encode(nl::BridgeSpec{"br0", 0, 0, true}), "creating bridge br0");
    FAIL() << "a second br0 was created";
  } catch (const Error& e) {
    EXPECT_EQ(e.errnum(), EEXIST);
    EXPECT_EQ(std::string(e.what()).rfind("creating bridge br0 in netns x: File exists (EEXIST)", 0), 0u) << e.what();
  }
  nl::Batch b;
  b.add(nl::encode(nl::BridgeSpec{"br1", 0, 0, true}), "creating bridge br1");
  b.add(nl::encode(nl::BridgeSpec{"br0", 0, 0, true}), "creating bridge br0 again");
  b.add(nl::encode(nl::BridgeSpec{"br2", 0, 0, true}), "creating bridge br2");
  auto acks = sock.commit(b);
  ASSERT_EQ(acks.size(), 3u);
  EXPECT_EQ(acks[0].errnum, 0);
  EXPECT_EQ(acks[1].errnum, EEXIST);
  EXPECT_EQ(acks[1].what, "creating bridge br0 again");
  EXPECT_EQ(acks[2].errnum, 0);  // the failure hid nothing after it
  auto links = nl::dump_links(sock);
  EXPECT_TRUE(find(links, "br1") && find(links, "br2"));
  // The kernel's extended ack is kept: an address on a missing interface.
  try {
    sock.request(nl::encode(nl::AddrSpec{999, "10.0.0.1/24"}), "adding address");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.errnum(), ENODEV);
  }
}

TEST_F(NetlinkTest, HostEndGetsItsAliasAndIsFoundByReadBack) {
  auto fabric = nl::Netns::create();
  auto host = nl::Netns::current();
  auto fsock = nl::RtnlSocket::open_in(fabric, "fab");
  nl::VethSpec v;
  v.name = "host_0";
  v.ns_fd = fabric.fd();
  v.ifindex = 10005;
  v.peer_name = "lab-mgmt";
  v.peer_ns_fd = host.fd();
  fsock.request(nl::encode(v), "creating veth");
  auto hsock = nl::RtnlSocket::open("host");
  // The kernel ignores IFLA_IFALIAS at creation: the marker comes with the next request.
  hsock.request(nl::encode(nl::LinkSetSpec{"lab-mgmt", 0, true, 0, 0, "netlab:lab:mgmt"}), "marking");
  const auto links = nl::dump_links(hsock);
  const auto* h = find(links, "lab-mgmt");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->link, 10005u);
  EXPECT_EQ(h->alias, "netlab:lab:mgmt");
  hsock.request(nl::encode(nl::LinkDeleteSpec{"lab-mgmt", h->ifindex}), "deleting");
  EXPECT_EQ(snapshot().links, std::vector<std::string>{"lo"});
}

}  // namespace
}  // namespace netlab::testing
