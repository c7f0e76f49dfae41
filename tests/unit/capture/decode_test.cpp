// The packet decoder on byte vectors: each protocol's line as tcpdump would
// print it (-n), and every truncation of a packet decodes without reading past
// the captured bytes.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "capture/decode.hpp"

namespace netlab::capture {
namespace {

using Bytes = std::vector<uint8_t>;

void u16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void u32(Bytes& b, uint32_t v) {
  u16(b, static_cast<uint16_t>(v >> 16));
  u16(b, static_cast<uint16_t>(v));
}
void append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }

Bytes eth(uint16_t type) {
  Bytes b = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
  u16(b, type);
  return b;
}

Bytes ipv4(uint8_t proto, const Bytes& payload, uint16_t frag = 0) {
  Bytes b = {0x45, 0};
  u16(b, static_cast<uint16_t>(20 + payload.size()));
  u16(b, 0x1234);
  u16(b, frag);
  b.push_back(64);
  b.push_back(proto);
  u16(b, 0);
  append(b, {10, 0, 1, 2, 10, 0, 2, 2});
  append(b, payload);
  return b;
}

Bytes ipv6(uint8_t next, const Bytes& payload) {
  Bytes b = {0x60, 0, 0, 0};
  u16(b, static_cast<uint16_t>(payload.size()));
  b.push_back(next);
  b.push_back(64);
  Bytes src(16, 0), dst(16, 0);
  src[0] = 0xfd, src[15] = 2, dst[0] = 0xfd, dst[15] = 1;
  append(b, src);
  append(b, dst);
  append(b, payload);
  return b;
}

std::string line(const Bytes& frame) { return decode(kLinktypeEthernet, frame.data(), frame.size(), frame.size()); }

Bytes echo(uint8_t type, uint16_t id, uint16_t seq, size_t data) {
  Bytes m = {type, 0, 0, 0};
  u16(m, id);
  u16(m, seq);
  m.resize(m.size() + data, 0xab);
  return m;
}

Bytes icmp_ping_frame() {
  Bytes f = eth(0x0800);
  append(f, ipv4(1, echo(8, 7, 1, 56)));
  return f;
}

TEST(Decode, IcmpEchoRequestAndReply) {
  EXPECT_EQ(line(icmp_ping_frame()), "IP 10.0.1.2 > 10.0.2.2: ICMP echo request, id 7, seq 1, length 64");
  Bytes f = eth(0x0800);
  append(f, ipv4(1, echo(0, 7, 1, 56)));
  EXPECT_EQ(line(f), "IP 10.0.1.2 > 10.0.2.2: ICMP echo reply, id 7, seq 1, length 64");
}

TEST(Decode, IcmpPortUnreachableNamesTheQuotedDatagram) {
  Bytes udp;
  u16(udp, 40000), u16(udp, 9), u16(udp, 12), u16(udp, 0);
  Bytes quoted = ipv4(17, udp);
  std::swap_ranges(quoted.begin() + 12, quoted.begin() + 16, quoted.begin() + 16);  // 10.0.2.2 -> 10.0.1.2
  Bytes m = {3, 3, 0, 0, 0, 0, 0, 0};
  append(m, quoted);
  Bytes f = eth(0x0800);
  append(f, ipv4(1, m));
  EXPECT_EQ(line(f), "IP 10.0.1.2 > 10.0.2.2: ICMP 10.0.1.2 udp port 9 unreachable, length 36");
}

TEST(Decode, Udp) {
  Bytes udp;
  u16(udp, 5000), u16(udp, 6000), u16(udp, 8 + 100), u16(udp, 0);
  udp.resize(udp.size() + 100);
  Bytes f = eth(0x0800);
  append(f, ipv4(17, udp));
  EXPECT_EQ(line(f), "IP 10.0.1.2.5000 > 10.0.2.2.6000: UDP, length 100");
}

TEST(Decode, TcpSynAndAckWithData) {
  Bytes tcp;
  u16(tcp, 40000), u16(tcp, 80), u32(tcp, 1000), u32(tcp, 0);
  tcp.push_back(0x50), tcp.push_back(0x02), u16(tcp, 64240), u16(tcp, 0), u16(tcp, 0);
  Bytes f = eth(0x0800);
  append(f, ipv4(6, tcp));
  EXPECT_EQ(line(f), "IP 10.0.1.2.40000 > 10.0.2.2.80: Flags [S], seq 1000, win 64240, length 0");
  tcp[13] = 0x18;  // PSH|ACK
  tcp[8] = 0, tcp[11] = 77;
  tcp.resize(tcp.size() + 10);
  Bytes g = eth(0x0800);
  append(g, ipv4(6, tcp));
  EXPECT_EQ(line(g), "IP 10.0.1.2.40000 > 10.0.2.2.80: Flags [P.], seq 1000, ack 77, win 64240, length 10");
}

TEST(Decode, ArpRequestAndReply) {
  Bytes arp;
  u16(arp, 1), u16(arp, 0x0800), arp.push_back(6), arp.push_back(4), u16(arp, 1);
  append(arp, {0x02, 0, 0, 0, 0, 0x01, 10, 0, 1, 2, 0, 0, 0, 0, 0, 0, 10, 0, 1, 1});
  Bytes f = eth(0x0806);
  append(f, arp);
  EXPECT_EQ(line(f), "ARP, Request who-has 10.0.1.1 tell 10.0.1.2, length 28");
  f[14 + 7] = 2;
  EXPECT_EQ(line(f), "ARP, Reply 10.0.1.2 is-at 02:00:00:00:00:01, length 28");
}

TEST(Decode, Icmp6EchoAndNeighborDiscovery) {
  Bytes f = eth(0x86dd);
  append(f, ipv6(58, echo(128, 3, 9, 56)));
  EXPECT_EQ(line(f), "IP6 fd00::2 > fd00::1: ICMP6, echo request, id 3, seq 9, length 64");
  Bytes ns = {135, 0, 0, 0, 0, 0, 0, 0};
  Bytes target(16, 0);
  target[0] = 0xfd, target[15] = 1;
  append(ns, target);
  Bytes g = eth(0x86dd);
  append(g, ipv6(58, ns));
  EXPECT_EQ(line(g), "IP6 fd00::2 > fd00::1: ICMP6, neighbor solicitation, who has fd00::1, length 24");
}

TEST(Decode, Ipv6SkipsHopByHopToReachTheTransport) {
  Bytes hbh = {58, 0, 5, 2, 0, 0, 1, 0};  // next = ICMPv6, router alert
  Bytes mld = {143, 0, 0, 0, 0, 0, 0, 0};
  append(hbh, mld);
  Bytes f = eth(0x86dd);
  append(f, ipv6(0, hbh));
  EXPECT_EQ(line(f), "IP6 fd00::2 > fd00::1: ICMP6, multicast listener report v2, length 8");
}

TEST(Decode, VlanTagFragmentOtherEthertypeOtherLinktype) {
  Bytes f = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x81, 0x00, 0x00, 0x0a, 0x08, 0x00};
  append(f, ipv4(1, echo(8, 7, 1, 56)));
  EXPECT_EQ(line(f), "vlan 10, IP 10.0.1.2 > 10.0.2.2: ICMP echo request, id 7, seq 1, length 64");
  Bytes g = eth(0x0800);
  append(g, ipv4(17, Bytes(100, 0), 0x0010));
  EXPECT_EQ(line(g), "IP 10.0.1.2 > 10.0.2.2: ip-proto-17, length 100 (fragment offset 128)");
  Bytes igmp = eth(0x0800);
  append(igmp, ipv4(2, {0x22, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0, 224, 0, 0, 251}));
  EXPECT_EQ(line(igmp), "IP 10.0.1.2 > 10.0.2.2: igmp v3 report, length 16");
  Bytes h = eth(0x88cc);
  h.resize(60);
  EXPECT_EQ(line(h), "ethertype 0x88cc, length 60");
  EXPECT_EQ(decode(113, h.data(), h.size(), 80), "linktype 113, length 80");
}

TEST(Decode, ShortCaptureSaysWhereItWasCut) {
  Bytes f = icmp_ping_frame();
  EXPECT_EQ(decode(kLinktypeEthernet, f.data(), 20, f.size()), "IP [|ip]");
  EXPECT_EQ(decode(kLinktypeEthernet, f.data(), 36, f.size()), "IP 10.0.1.2 > 10.0.2.2: ICMP [|icmp]");
  EXPECT_EQ(decode(kLinktypeEthernet, f.data(), 10, f.size()), "[|ether], length 98");
}

// Every prefix of every packet, and random bytes: never a read past caplen
// (run under ASan in the fuzz build), always one line.
TEST(Decode, EveryTruncationAndRandomBytesDecodeSafely) {
  std::vector<Bytes> frames{icmp_ping_frame()};
  Bytes tcp(20, 0);
  tcp[12] = 0xf0;  // a header length beyond the packet
  Bytes t = eth(0x0800);
  append(t, ipv4(6, tcp));
  frames.push_back(t);
  Bytes deep = eth(0x86dd);
  append(deep, ipv6(0, Bytes(64, 0)));  // a chain of hop-by-hop headers, each pointing to the next
  frames.push_back(deep);
  for (const auto& f : frames)
    for (size_t n = 0; n <= f.size(); ++n) {
      Bytes copy(f.begin(), f.begin() + static_cast<long>(n));  // exactly n bytes: ASan sees overreads
      std::string s = decode(kLinktypeEthernet, copy.data(), copy.size(), f.size());
      EXPECT_FALSE(s.empty());
      EXPECT_EQ(s.find('\n'), std::string::npos);
    }
  std::mt19937 rng(42);
  for (int i = 0; i < 2000; ++i) {
    Bytes r(rng() % 120);
    for (auto& b : r) b = static_cast<uint8_t>(rng());
    if (r.size() > 13 && i % 2) r[12] = 0x08, r[13] = i % 4 ? 0x00 : 0x06;
    EXPECT_FALSE(decode(kLinktypeEthernet, r.data(), r.size(), r.size() + i % 3).empty());
  }
}

TEST(Decode, TimeIsLocalWithMicroseconds) {
  std::string t = format_time(1'700'000'000'123'456'789ull);
  ASSERT_EQ(t.size(), 15u);
  EXPECT_EQ(t.substr(8), ".123456");
}

}  // namespace
}  // namespace netlab::capture
