// capture::run — a capture session over any number of endpoints: one
// nonblocking libpcap handle each (opened inside its namespace), one poll()
// over their selectable descriptors plus a signalfd (SIGINT, SIGTERM, SIGHUP)
// and, with a command, its pidfd. It stops on a count, a duration, a signal,
// the command's end, or the reader of stdout going away; then it collects the
// packets still in the rings and the kernel's drop counts. Descriptors: one
// per endpoint plus a handful. Knows nothing of labs or topologies.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "capture/sink.hpp"
#include "capture/source.hpp"

namespace netlab::capture {

struct Options {
  SinkSpec output;                   // text lines, or pcap/pcapng to a file or "-"
  std::string filter;                // BPF filter expression, "" = everything
  uint64_t count = 0;                // stop after this many packets (all endpoints), 0 = no limit
  uint64_t duration_ns = 0;          // stop after this long, 0 = no limit
  std::vector<std::string> command;  // run on the host once capturing; stop when it ends
  HandleOptions handle;              // snaplen, promisc, buffer per endpoint...
  std::function<void()> on_ready;    // every handle is open (before the command starts)
  /// Asked about once a second: false ends the capture ("gone"). The packet
  /// sockets hold their namespaces, so a capture never sees its lab destroyed
  /// by itself; this is how it learns (and lets go of the namespaces).
  std::function<bool()> still_there;
};

struct EndStats {
  std::string label;
  uint64_t captured = 0;  // written to the output
  uint64_t accepted = 0;  // passed the filter in the kernel (pcap_stats ps_recv)
  uint64_t dropped = 0;   // dropped by the kernel: the ring was full (ps_drop)
  std::string error;      // the interface failed mid-capture ("" = none)
};

struct Summary {
  std::vector<EndStats> ends;
  uint64_t captured = 0;
  std::string stopped_by;            // "count", "duration", "signal", "command", "output closed",
                                     // "interfaces gone", "gone" (still_there said no)
  std::optional<int> command_status; // exit code or 128 + signal
};

/// Throws Error for what prevents the capture from starting (namespace gone,
/// no such interface, bad filter, unwritable output, command not found).
Summary run(const std::vector<Endpoint>& ends, const Options& options);

}  // namespace netlab::capture
