#include "capture/decode.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <ctime>

namespace netlab::capture {

namespace {

// A bounded view of the captured bytes: every read says whether it fits.
struct Bytes {
  const uint8_t* p;
  size_t n;
  bool has(size_t off, size_t len) const { return off <= n && len <= n - off; }
  uint8_t u8(size_t off) const { return p[off]; }
  uint16_t u16(size_t off) const { return static_cast<uint16_t>(p[off] << 8 | p[off + 1]); }
  uint32_t u32(size_t off) const { return static_cast<uint32_t>(u16(off)) << 16 | u16(off + 2); }
  Bytes from(size_t off) const { return off <= n ? Bytes{p + off, n - off} : Bytes{p, 0}; }
};

std::string mac_text(const uint8_t* m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]);
}

std::string ip4_text(const uint8_t* a) { return fmt::format("{}.{}.{}.{}", a[0], a[1], a[2], a[3]); }

std::string ip6_text(const uint8_t* a) {
  char buf[INET6_ADDRSTRLEN];
  return inet_ntop(AF_INET6, a, buf, sizeof buf) ? buf : "?";
}

std::string tcp_flags(uint8_t f) {
  std::string s;
  if (f & 0x02) s += 'S';
  if (f & 0x01) s += 'F';
  if (f & 0x08) s += 'P';
  if (f & 0x04) s += 'R';
  if (f & 0x20) s += 'U';
  if (f & 0x40) s += 'E';
  if (f & 0x80) s += 'W';
  if (f & 0x10) s += '.';
  return s.empty() ? "none" : s;
}

// TCP and UDP after "IP a > b": the ports join the addresses, as tcpdump does.
std::string transport(const std::string& src, const std::string& dst, int proto, Bytes l4, size_t l4_len) {
  if (proto == 6) {
    if (!l4.has(0, 20)) return fmt::format("{} > {}: tcp [|tcp]", src, dst);
    size_t hlen = static_cast<size_t>(l4.u8(12) >> 4) * 4;
    size_t payload = l4_len > hlen ? l4_len - hlen : 0;
    std::string out = fmt::format("{}.{} > {}.{}: Flags [{}], seq {}", src, l4.u16(0), dst, l4.u16(2),
                                  tcp_flags(l4.u8(13)), l4.u32(4));
    if (l4.u8(13) & 0x10) out += fmt::format(", ack {}", l4.u32(8));
    return out + fmt::format(", win {}, length {}", l4.u16(14), payload);
  }
  if (!l4.has(0, 8)) return fmt::format("{} > {}: udp [|udp]", src, dst);
  size_t ulen = l4.u16(4);
  return fmt::format("{}.{} > {}.{}: UDP, length {}", src, l4.u16(0), dst, l4.u16(2), ulen >= 8 ? ulen - 8 : 0);
}

std::string icmp4(Bytes m, size_t len) {
  if (!m.has(0, 4)) return "ICMP [|icmp]";
  uint8_t type = m.u8(0), code = m.u8(1);
  if ((type == 8 || type == 0) && m.has(4, 4))
    return fmt::format("ICMP echo {}, id {}, seq {}, length {}", type == 8 ? "request" : "reply", m.u16(4),
                       m.u16(6), len);
  if (type == 3) {
    // The quoted datagram names what was unreachable: "10.0.2.2 udp port 9 unreachable".
    Bytes q = m.from(8);
    if (code == 3 && q.has(0, 20) && (q.u8(0) >> 4) == 4) {
      size_t qh = static_cast<size_t>(q.u8(0) & 0x0f) * 4;
      uint8_t qp = q.u8(9);
      if ((qp == 17 || qp == 6) && q.has(qh, 4))
        return fmt::format("ICMP {} {} port {} unreachable, length {}", ip4_text(q.p + 16), qp == 17 ? "udp" : "tcp",
                           q.u16(qh + 2), len);
    }
    static const char* kWhat[] = {"net", "host", "protocol", "port"};
    if (code < 4) return fmt::format("ICMP {} unreachable, length {}", kWhat[code], len);
    return fmt::format("ICMP destination unreachable (code {}), length {}", code, len);
  }
  if (type == 11) return fmt::format("ICMP time exceeded in-transit, length {}", len);
  return fmt::format("ICMP type {}, code {}, length {}", type, code, len);
}

std::string igmp(uint8_t type, size_t len) {
  switch (type) {
    case 0x11: return fmt::format("igmp query, length {}", len);
    case 0x16: return fmt::format("igmp v2 report, length {}", len);
    case 0x17: return fmt::format("igmp leave, length {}", len);
    case 0x22: return fmt::format("igmp v3 report, length {}", len);
    default: return fmt::format("igmp type 0x{:02x}, length {}", type, len);
  }
}

std::string icmp6(Bytes m, size_t len) {
  if (!m.has(0, 4)) return "ICMP6 [|icmp6]";
  uint8_t type = m.u8(0);
  switch (type) {
    case 128:
    case 129:
      if (!m.has(4, 4)) break;
      return fmt::format("ICMP6, echo {}, id {}, seq {}, length {}", type == 128 ? "request" : "reply", m.u16(4),
                         m.u16(6), len);
    case 133: return fmt::format("ICMP6, router solicitation, length {}", len);
    case 134: return fmt::format("ICMP6, router advertisement, length {}", len);
    case 135:
      if (!m.has(8, 16)) return "ICMP6, neighbor solicitation [|icmp6]";
      return fmt::format("ICMP6, neighbor solicitation, who has {}, length {}", ip6_text(m.p + 8), len);
    case 136:
      if (!m.has(8, 16)) return "ICMP6, neighbor advertisement [|icmp6]";
      return fmt::format("ICMP6, neighbor advertisement, tgt is {}, length {}", ip6_text(m.p + 8), len);
    case 143: return fmt::format("ICMP6, multicast listener report v2, length {}", len);
    case 1: return fmt::format("ICMP6, destination unreachable, length {}", len);
    case 3: return fmt::format("ICMP6, time exceeded in-transit, length {}", len);
    default: break;
  }
  return fmt::format("ICMP6, type {}, length {}", type, len);
}

std::string ipv4(Bytes b, size_t wire_len) {
  if (!b.has(0, 20)) return "IP [|ip]";
  size_t hlen = static_cast<size_t>(b.u8(0) & 0x0f) * 4;
  if (hlen < 20) return fmt::format("IP bad header length {}", hlen);
  if (!b.has(0, hlen)) return "IP [|ip]";
  size_t total = b.u16(2);
  if (total < hlen) total = wire_len;  // TSO or a lying header: fall back to what the wire had
  size_t l4_len = total - hlen;
  std::string src = ip4_text(b.p + 12), dst = ip4_text(b.p + 16);
  int proto = b.u8(9);
  uint16_t frag = b.u16(6);
  if ((frag & 0x1fff) != 0)  // not the first fragment: no transport header here
    return fmt::format("IP {} > {}: ip-proto-{}, length {} (fragment offset {})", src, dst, proto, l4_len,
                       (frag & 0x1fff) * 8);
  Bytes l4 = b.from(hlen);
  if (proto == 1) return fmt::format("IP {} > {}: {}", src, dst, icmp4(l4, l4_len));
  if (proto == 6 || proto == 17) return "IP " + transport(src, dst, proto, l4, l4_len);
  if (proto == 2 && l4.has(0, 1)) return fmt::format("IP {} > {}: {}", src, dst, igmp(l4.u8(0), l4_len));
  return fmt::format("IP {} > {}: ip-proto-{}, length {}", src, dst, proto, l4_len);
}

std::string ipv6(Bytes b) {
  if (!b.has(0, 40)) return "IP6 [|ip6]";
  std::string src = ip6_text(b.p + 8), dst = ip6_text(b.p + 24);
  size_t payload = b.u16(4);
  int next = b.u8(6);
  size_t off = 40;
  // Hop-by-hop, routing, destination options and fragment headers come before
  // the transport header; a bounded walk (a hostile chain is at most 8 deep).
  for (int hops = 0; hops < 8 && (next == 0 || next == 43 || next == 60 || next == 44); ++hops) {
    if (!b.has(off, 8)) return fmt::format("IP6 {} > {}: [|ip6]", src, dst);
    size_t ext = next == 44 ? 8 : (static_cast<size_t>(b.u8(off + 1)) + 1) * 8;
    if (next == 44 && (b.u16(off + 2) & 0xfff8) != 0)
      return fmt::format("IP6 {} > {}: frag, length {}", src, dst, payload);
    next = b.u8(off);
    off += ext;
    payload = payload > ext ? payload - ext : 0;
  }
  Bytes l4 = b.from(off);
  if (next == 58) return fmt::format("IP6 {} > {}: {}", src, dst, icmp6(l4, payload));
  if (next == 6 || next == 17) return "IP6 " + transport(src, dst, next, l4, payload);
  return fmt::format("IP6 {} > {}: ip-proto-{}, length {}", src, dst, next, payload);
}

std::string arp(Bytes b, size_t len) {
  // Ethernet/IPv4 ARP only: htype 1, ptype 0x0800, hlen 6, plen 4.
  if (!b.has(0, 28)) return fmt::format("ARP, length {} [|arp]", len);
  if (b.u16(0) != 1 || b.u16(2) != 0x0800 || b.u8(4) != 6 || b.u8(5) != 4)
    return fmt::format("ARP, hardware type {}, protocol 0x{:04x}, length {}", b.u16(0), b.u16(2), len);
  uint16_t op = b.u16(6);
  if (op == 1) return fmt::format("ARP, Request who-has {} tell {}, length {}", ip4_text(b.p + 24), ip4_text(b.p + 14), len);
  if (op == 2) return fmt::format("ARP, Reply {} is-at {}, length {}", ip4_text(b.p + 14), mac_text(b.p + 8), len);
  return fmt::format("ARP, opcode {}, length {}", op, len);
}

std::string ethernet(Bytes b, size_t len) {
  if (!b.has(0, 14)) return fmt::format("[|ether], length {}", len);
  size_t off = 12;
  std::string prefix;
  uint16_t type = b.u16(off);
  for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88a8); ++tags) {
    if (!b.has(off, 6)) return prefix + "[|vlan]";
    prefix += fmt::format("vlan {}, ", b.u16(off + 2) & 0x0fff);
    off += 4;
    type = b.u16(off);
  }
  off += 2;
  size_t rest = len > off ? len - off : 0;
  Bytes payload = b.from(off);
  if (type == 0x0800) return prefix + ipv4(payload, rest);
  if (type == 0x86dd) return prefix + ipv6(payload);
  if (type == 0x0806) return prefix + arp(payload, rest);
  if (type < 0x0600) return prefix + fmt::format("802.3, length {}", len);
  return prefix + fmt::format("ethertype 0x{:04x}, length {}", type, len);
}

}  // namespace

std::string decode(int linktype, const uint8_t* data, size_t caplen, size_t len) {
  if (linktype != kLinktypeEthernet) return fmt::format("linktype {}, length {}", linktype, len);
  return ethernet(Bytes{data, caplen}, len);
}

std::string format_time(uint64_t ns) {
  time_t secs = static_cast<time_t>(ns / 1'000'000'000);
  tm t{};
  localtime_r(&secs, &t);
  return fmt::format("{:02}:{:02}:{:02}.{:06}", t.tm_hour, t.tm_min, t.tm_sec, ns % 1'000'000'000 / 1000);
}

}  // namespace netlab::capture
