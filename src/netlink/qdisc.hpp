// Link impairments as qdiscs on the egress of one interface: a rate limit is a
// TBF at the root (handle 1:); delay, jitter, loss, duplication, corruption and
// reordering are a netem, at the root or, with a rate, as TBF's child (a:),
// the layout Mininet's TCLink uses. TBF is kept for the rate even where netem
// could shape, because many kernels (this project's VM among them) ship TBF but
// not netem, and a bandwidth limit alone should not need netem.
// Both are encoded with libnl's nlmsg/nla calls: libnl-route's netem and tbf
// objects cover neither 64-bit delays nor 64-bit rates.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "netlink/socket.hpp"

namespace netlab::nl {

struct Impairment {
  uint64_t delay_ns = 0;
  uint64_t jitter_ns = 0;
  double loss_percent = 0;
  double duplicate_percent = 0;
  double corrupt_percent = 0;
  double reorder_percent = 0;
  uint64_t rate_bits_per_sec = 0;  // 0 = unlimited
  std::string distribution;        // of the jitter: "" (uniform), normal, pareto, paretonormal

  bool needs_netem() const;
  bool empty() const { return !needs_netem() && rate_bits_per_sec == 0; }
  /// "delay 20ms jitter 5ms loss 1% rate 10mbit", "none" when empty.
  std::string str() const;
  bool operator==(const Impairment&) const = default;
};

inline constexpr uint32_t kImpairRootHandle = 0x00010000;   // 1:

/// The delay distribution table iproute2 ships for `name` (normal, pareto,
/// paretonormal, experimental): $TC_LIB_DIR, /usr/lib/<multiarch>/tc or
/// /usr/lib/tc, `NAME.dist`, a list of 16-bit values. Data read, nothing run.
std::vector<int16_t> delay_distribution(const std::string& name);
inline constexpr uint32_t kImpairNetemHandle = 0x000a0000;  // a: (tc writes handles in hex) under class 1:1
inline constexpr uint32_t kNetemLimitPackets = 10000;       // delayed packets wait here

/// The requests that put `imp` on the egress of `ifindex` (created or replaced),
/// root first. Empty when `imp` is empty.
std::vector<NlMsg> encode_impairment(uint32_t ifindex, const Impairment& imp);
/// Removes the root qdisc of an interface (back to the default, dropping any child).
NlMsg encode_qdisc_delete(uint32_t ifindex);

/// TBF's bucket and queue for a rate: the bucket holds 5 ms of traffic and never
/// less than ten full frames (TBF drops a frame larger than its bucket); the
/// queue holds 50 ms beyond the bucket, so TCP sees a shaper, not a wall.
uint32_t tbf_burst_bytes(uint64_t rate_bits_per_sec);
uint32_t tbf_limit_bytes(uint64_t rate_bits_per_sec);

struct QdiscInfo {
  uint32_t ifindex = 0;
  uint32_t handle = 0;
  uint32_t parent = 0;
  std::string kind;
  Impairment carries;  // the part of an impairment this qdisc implements
};

std::vector<QdiscInfo> dump_qdiscs(RtnlSocket& sock);
/// The impairment in force on `ifindex`: its netlab-shaped root qdisc and child.
Impairment impairment_of(const std::vector<QdiscInfo>& qdiscs, uint32_t ifindex);

}  // namespace netlab::nl
