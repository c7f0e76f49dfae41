// Where captured packets go: a pcap file (libpcap's dumper; one interface
// only), a pcapng file with one interface block per endpoint (any number), or
// one text line per packet on stdout. "-" is stdout; a stream is flushed after
// every packet so `| wireshark -k -i -` sees each one as it comes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "capture/source.hpp"

namespace netlab::capture {

enum class Format { kText, kPcap, kPcapng };

struct SinkSpec {
  Format format = Format::kText;
  std::string path;  // "-" = stdout (for kText always stdout)
};

class Sink {
 public:
  virtual ~Sink() = default;
  /// Declares the sources in order; packet() names them by that index.
  virtual void add(const Source& s) = 0;
  virtual void packet(size_t source, const pcap_pkthdr* h, const u_char* data) = 0;
  /// After each batch of packets: what a stream must flush.
  virtual void flush_stream() = 0;
  /// Last call: statistics per source (in add() order), then everything written.
  virtual void finish(const std::vector<Source::Counters>& counters) = 0;
};

/// Opens the output (creating or truncating a file). Throws Error naming the path.
/// Writes throw Error(EPIPE) once the reader of a pipe is gone.
std::unique_ptr<Sink> make_sink(const SinkSpec& spec);

/// The format a path asks for: pcapng for "*.pcapng" or when `many` endpoints share it.
Format format_for(const std::string& path, bool many);

}  // namespace netlab::capture
