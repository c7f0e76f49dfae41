// One capture handle (libpcap) on one interface of one network namespace. The
// handle's packet socket is created by the calling thread while it has
// entered the namespace (setns acts on that thread only), so it stays bound
// there: no helper process, no tcpdump. A BPF filter is compiled once per
// link type by libpcap and attached to every handle. Knows nothing of labs.
#pragma once

#include <pcap/pcap.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace netlab::capture {

/// What to capture on: `ifname` inside the namespace pinned at `netns_path`,
/// shown to people (and named in pcapng) as `label` ("r1:eth0", "lan").
struct Endpoint {
  std::string label;
  std::string netns_path;
  std::string ifname;
};

struct HandleOptions {
  int snaplen = 262144;
  bool promisc = true;     // needed to see a bridge's forwarded traffic on the bridge itself
  bool immediate = false;  // deliver each packet at once (TPACKET_V2) instead of in blocks (V3)
  int buffer_bytes = 8 << 20;
  int timeout_ms = 100;    // how long a partly filled block waits before it is delivered
};

struct PcapDeleter {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
using PcapPtr = std::unique_ptr<pcap_t, PcapDeleter>;

class Source {
 public:
  Source(Endpoint end, PcapPtr handle);

  const Endpoint& endpoint() const { return end_; }
  const std::string& label() const { return end_.label; }
  pcap_t* handle() const { return handle_.get(); }
  int fd() const { return fd_; }
  int linktype() const { return pcap_datalink(handle_.get()); }
  /// Packets the filter accepted and the kernel dropped (ring full) so far.
  struct Counters {
    uint64_t accepted = 0, dropped = 0;
  };
  Counters counters() const;
  /// Closes the handle (its socket and ring); the Source keeps its endpoint.
  void close() {
    handle_.reset();
    fd_ = -1;
  }

 private:
  Endpoint end_;
  PcapPtr handle_;
  int fd_ = -1;
};

/// Opens a nonblocking handle on every endpoint, entering each namespace once
/// (endpoints of one namespace are opened together, namespaces by a pool of
/// threads), and attaches `filter`
/// ("" = none). Throws Error naming the endpoint: ENOENT for a namespace that
/// is gone, ENODEV for an interface the namespace lacks, EINVAL for a filter
/// libpcap cannot compile.
std::vector<Source> open_sources(const std::vector<Endpoint>& ends, const HandleOptions& opt,
                                 const std::string& filter);

/// Closes every handle at once (each close waits for an RCU grace period) and empties `sources`.
void close_sources(std::vector<Source>& sources);

}  // namespace netlab::capture
