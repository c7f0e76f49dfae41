// Link impairments as a netem qdisc at the root of one interface (its egress):
// delay, jitter, loss, duplication, corruption, reordering and a rate limit, in
// one RTM_NEWQDISC (create or replace). netem's options are a struct followed
// by attributes, which libnl-route's netem object does not cover completely
// (64-bit delays, rate), so the message is built with libnl's nlmsg/nla calls.
#pragma once

#include <cstdint>
#include <string>

#include "netlink/socket.hpp"

namespace netlab::nl {

struct NetemSpec {
  uint32_t ifindex = 0;
  uint64_t delay_ns = 0;
  uint64_t jitter_ns = 0;
  double loss_percent = 0;
  double duplicate_percent = 0;
  double corrupt_percent = 0;
  double reorder_percent = 0;
  uint64_t rate_bits_per_sec = 0;  // 0 = unlimited
  uint32_t limit_packets = 10000;  // queue length: delayed packets wait here
  std::string str() const;
};

NlMsg encode(const NetemSpec& spec);
/// Removes the root qdisc of an interface (back to the default).
NlMsg encode_qdisc_delete(uint32_t ifindex);

}  // namespace netlab::nl
