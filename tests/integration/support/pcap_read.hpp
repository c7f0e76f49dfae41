// Reading captures back in tests: pcap and pcapng through libpcap, pcapng
// block by block (libpcap 1.10 does not say which interface a packet came
// from), and the fields of an ICMP echo. Plus a netlab run in the background
// with its stdout and stderr as pipes (streams, Ctrl-C).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netlab::testing {

struct Packet {
  std::string iface;  // pcapng: the interface block's if_name; pcap: ""
  uint64_t ts_ns = 0;
  std::vector<uint8_t> data;
};

/// Every packet of a pcap or pcapng file, read by libpcap. nullopt (and a
/// gtest failure) if libpcap cannot read it.
std::optional<std::vector<Packet>> read_with_libpcap(const std::string& path);
/// The same from an open stream (a pipe): pcap_fopen_offline. Reads `max` packets at most.
std::optional<std::vector<Packet>> read_stream(FILE* f, size_t max);

/// A pcapng file parsed by hand: interface names in order, packets with theirs.
struct Pcapng {
  std::vector<std::string> interfaces;
  std::vector<Packet> packets;
};
std::optional<Pcapng> read_pcapng(const std::string& path);

/// An IPv4 ICMP packet in an Ethernet frame.
struct Icmp {
  int type = -1;  // 8 echo request, 0 echo reply, 3 unreachable
  int id = -1, seq = -1, ttl = -1;
};
std::optional<Icmp> icmp_of(const Packet& p);
/// The IPv4 protocol of an Ethernet frame (-1 if not IPv4) and the UDP destination port.
int ip_proto_of(const Packet& p);
int udp_dport_of(const Packet& p);

/// `netlab ARGS` running in the background, stdout and stderr on pipes.
struct Background {
  pid_t pid = -1;
  int out = -1, err = -1;
  std::string err_text;  // what wait_stderr read so far
  /// Reads stderr until it contains `text` (true) or `timeout_ms` passes.
  bool wait_stderr(const std::string& text, int timeout_ms = 10000);
  /// Reads the rest of stderr, waits for the exit; returns the exit code.
  int finish();
};
Background start_netlab(const std::vector<std::string>& args, const std::vector<std::string>& env);

}  // namespace netlab::testing
