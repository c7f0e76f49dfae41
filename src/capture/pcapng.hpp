// A minimal pcapng writer (libpcap 1.10 reads pcapng but cannot write it): one
// Section Header Block, one Interface Description Block per interface with its
// name ("r1:eth0") and nanosecond timestamps, Enhanced Packet Blocks, and an
// Interface Statistics Block per interface at the end (what the filter
// accepted, what the kernel dropped). Host byte order, as the format allows.
// Blocks are buffered and written to a file descriptor; knows nothing of
// capture handles or namespaces.
#pragma once

#include <cstdint>
#include <string>

namespace netlab::capture {

class PcapngWriter {
 public:
  /// Writes the section header at once. `fd` stays the caller's.
  explicit PcapngWriter(int fd, const std::string& application = "netlab");
  ~PcapngWriter();
  PcapngWriter(const PcapngWriter&) = delete;
  PcapngWriter& operator=(const PcapngWriter&) = delete;

  /// Declares an interface; returns its id (0, 1, ...), the index EPBs name.
  uint32_t add_interface(const std::string& name, int linktype, uint32_t snaplen);
  /// One packet: `caplen` bytes captured of `len` on the wire, `ts_ns` since the epoch.
  void add_packet(uint32_t interface, uint64_t ts_ns, const uint8_t* data, uint32_t caplen, uint32_t len);
  /// Interface statistics at `ts_ns`: packets the filter accepted, packets the kernel dropped.
  void add_statistics(uint32_t interface, uint64_t ts_ns, uint64_t accepted, uint64_t dropped);
  /// Writes what is buffered. Throws Error (EPIPE when the reader went away, ENOSPC, ...).
  void flush();

  size_t buffered() const { return buf_.size(); }

 private:
  void block(uint32_t type, const std::string& body);
  int fd_;
  uint32_t interfaces_ = 0;
  std::string buf_;
};

/// Block type numbers (pcapng spec, section 4).
inline constexpr uint32_t kPcapngSectionHeader = 0x0A0D0D0A;
inline constexpr uint32_t kPcapngInterface = 1;
inline constexpr uint32_t kPcapngStatistics = 5;
inline constexpr uint32_t kPcapngEnhancedPacket = 6;

}  // namespace netlab::capture
