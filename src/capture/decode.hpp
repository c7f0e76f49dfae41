// One line per packet, the way tcpdump prints it by default (numeric): the
// link layer's payload decoded as Ethernet (with 802.1Q tags), ARP, IPv4, IPv6
// (skipping extension headers), ICMP, ICMPv6, TCP and UDP. Written for hostile
// input: every field is bounds-checked against the captured length, a short
// capture ends the line with "[|proto]", and no byte of payload is ever printed
// as text. Knows nothing of namespaces, handles or files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace netlab::capture {

/// libpcap's link-layer type numbers that decode() understands.
inline constexpr int kLinktypeEthernet = 1;  // DLT_EN10MB

/// "IP 10.0.1.2 > 10.0.2.2: ICMP echo request, id 7, seq 1, length 64". `caplen`
/// bytes are at `data`; `len` is the packet's length on the wire.
std::string decode(int linktype, const uint8_t* data, size_t caplen, size_t len);

/// "12:34:56.789012" (local time, microseconds) for a timestamp in ns since the epoch.
std::string format_time(uint64_t ns);

}  // namespace netlab::capture
