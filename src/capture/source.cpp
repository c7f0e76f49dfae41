#include "capture/source.hpp"

#include <fcntl.h>

#include <cerrno>
#include <map>

#include "netlink/netns.hpp"
#include "util/error.hpp"
#include "util/parallel.hpp"

namespace netlab::capture {

namespace {

// libpcap's activation results as errnos, so callers can tell "no such
// interface" from "not allowed" the same way as for every other Error.
int errno_of(int pcap_status) {
  switch (pcap_status) {
    case PCAP_ERROR_NO_SUCH_DEVICE: return ENODEV;
    case PCAP_ERROR_PERM_DENIED:
    case PCAP_ERROR_PROMISC_PERM_DENIED: return EPERM;
    case PCAP_ERROR_IFACE_NOT_UP: return ENETDOWN;
    default: return EIO;
  }
}

PcapPtr activate(const Endpoint& end, const HandleOptions& opt) {
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  PcapPtr p(pcap_create(end.ifname.c_str(), errbuf));
  if (!p) throw Error(ENOMEM, "capture on {}: {}", end.label, errbuf);
  pcap_set_snaplen(p.get(), opt.snaplen);
  pcap_set_promisc(p.get(), opt.promisc ? 1 : 0);
  pcap_set_timeout(p.get(), opt.timeout_ms);
  pcap_set_immediate_mode(p.get(), opt.immediate ? 1 : 0);
  pcap_set_buffer_size(p.get(), opt.buffer_bytes);
  pcap_set_tstamp_precision(p.get(), PCAP_TSTAMP_PRECISION_NANO);
  int rc = pcap_activate(p.get());
  if (rc < 0) {
    if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
      throw Error(ENODEV, "capture on {}: no interface {} in namespace {}", end.label, end.ifname, end.netns_path);
    throw Error(errno_of(rc), "capture on {}: {}", end.label, pcap_geterr(p.get()));
  }
  if (pcap_setnonblock(p.get(), 1, errbuf) < 0) throw Error(EIO, "capture on {}: {}", end.label, errbuf);
  return p;
}

struct ProgramDeleter {
  void operator()(bpf_program* prog) const {
    pcap_freecode(prog);
    delete prog;
  }
};
using ProgramPtr = std::unique_ptr<bpf_program, ProgramDeleter>;

// The filter compiled for one link type, without a live handle.
ProgramPtr compile(const std::string& filter, int linktype, int snaplen) {
  PcapPtr dead(pcap_open_dead(linktype, snaplen));
  if (!dead) throw Error(ENOMEM, "compiling capture filter \"{}\"", filter);
  ProgramPtr prog(new bpf_program{});
  if (pcap_compile(dead.get(), prog.get(), filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) < 0) {
    std::string why = pcap_geterr(dead.get());
    prog.release();  // nothing to free: compilation failed
    throw Error(EINVAL, "capture filter \"{}\": {}", filter, why);
  }
  return prog;
}

}  // namespace

Source::Source(Endpoint end, PcapPtr handle) : end_(std::move(end)), handle_(std::move(handle)) {
  fd_ = pcap_get_selectable_fd(handle_.get());
  // libpcap opens its packet socket without SOCK_CLOEXEC: a command run
  // alongside the capture must not inherit (and keep alive) every socket.
  ::fcntl(fd_, F_SETFD, FD_CLOEXEC);
}

Source::Counters Source::counters() const {
  pcap_stat st{};
  if (pcap_stats(handle_.get(), &st) < 0) return {};
  // ps_ifdrop is left out on purpose: libpcap reads it from /sys/class/net of
  // the mount namespace, which shows the host's interfaces, not the node's.
  return {st.ps_recv, st.ps_drop};
}

// Opening a packet ring (PACKET_RX_RING) and closing a packet socket each wait
// for an RCU grace period (synchronize_net), 10-25 ms on this machine: 200
// handles one after another took 2.4 s to open and 5 s to close. Threads
// waiting at once share grace periods, so both are done by a pool.
constexpr unsigned kOpeners = 32;

void close_all(std::vector<PcapPtr>& handles) {
  parallel_for(handles.size(), kOpeners, [&](size_t i) { handles[i].reset(); });
}

std::vector<Source> open_sources(const std::vector<Endpoint>& ends, const HandleOptions& opt,
                                 const std::string& filter) {
  // Endpoints grouped by namespace, in order of first appearance, a few per
  // group (a fabric holds every bridge port): each group is opened by one
  // thread that enters its namespace once.
  constexpr size_t kGroup = 4;
  std::vector<std::vector<size_t>> groups;
  std::map<std::string, size_t> open_group;  // netns path -> its group still filling
  for (size_t i = 0; i < ends.size(); ++i) {
    auto it = open_group.find(ends[i].netns_path);
    if (it == open_group.end() || groups[it->second].size() == kGroup) {
      open_group[ends[i].netns_path] = groups.size();
      groups.emplace_back();
      it = open_group.find(ends[i].netns_path);
    }
    groups[it->second].push_back(i);
  }
  std::vector<PcapPtr> handles(ends.size());
  std::vector<std::exception_ptr> errors(groups.size());
  parallel_for(groups.size(), kOpeners, [&](size_t g) {
    try {
      const auto& first = ends[groups[g][0]];
      nl::Netns ns = with_context(fmt::format("capture on {}", first.label),
                                  [&] { return nl::Netns::open(first.netns_path); });
      nl::NetnsSwitch inside(ns);  // the packet sockets are made, and bound, in `ns`
      for (size_t i : groups[g]) handles[i] = activate(ends[i], opt);
    } catch (...) {
      errors[g] = std::current_exception();
    }
  });
  for (auto& e : errors) {
    if (!e) continue;
    close_all(handles);
    std::rethrow_exception(e);
  }
  std::map<int, ProgramPtr> programs;
  std::vector<Source> out;
  out.reserve(ends.size());
  for (size_t i = 0; i < ends.size(); ++i) {
    out.emplace_back(ends[i], std::move(handles[i]));
    if (filter.empty()) continue;
    int lt = out.back().linktype();
    if (!programs.count(lt)) programs[lt] = compile(filter, lt, opt.snaplen);
    if (pcap_setfilter(out.back().handle(), programs[lt].get()) < 0)
      throw Error(EINVAL, "capture on {}: attaching filter: {}", ends[i].label, pcap_geterr(out.back().handle()));
  }
  return out;
}

void close_sources(std::vector<Source>& sources) {
  parallel_for(sources.size(), kOpeners, [&](size_t i) { sources[i].close(); });
  sources.clear();
}

}  // namespace netlab::capture
