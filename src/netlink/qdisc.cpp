#include "netlink/qdisc.hpp"

#include <fmt/format.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>

#include <cerrno>
#include <cmath>
#include <limits>

#include "util/error.hpp"

namespace netlab::nl {

namespace {

// netem probabilities are fractions of 2^32 - 1.
uint32_t probability(double percent) {
  double p = std::clamp(percent, 0.0, 100.0) / 100.0;
  return static_cast<uint32_t>(std::llround(p * std::numeric_limits<uint32_t>::max()));
}

NlMsg qdisc_msg(int type, int flags, uint32_t ifindex) {
  NlMsg msg(nlmsg_alloc_simple(type, flags));
  tcmsg tcm{};
  tcm.tcm_family = AF_UNSPEC;
  tcm.tcm_ifindex = static_cast<int>(ifindex);
  tcm.tcm_handle = 0x00010000;  // 1:
  tcm.tcm_parent = TC_H_ROOT;
  if (!msg || nlmsg_append(msg.get(), &tcm, sizeof tcm, NLMSG_ALIGNTO) < 0)
    throw Error(ENOMEM, "encoding a qdisc request for ifindex {}", ifindex);
  return msg;
}

}  // namespace

std::string NetemSpec::str() const {
  std::string s = fmt::format("netem on ifindex {}", ifindex);
  if (delay_ns) s += fmt::format(" delay {}us", delay_ns / 1000);
  if (jitter_ns) s += fmt::format(" jitter {}us", jitter_ns / 1000);
  if (loss_percent > 0) s += fmt::format(" loss {}%", loss_percent);
  if (rate_bits_per_sec) s += fmt::format(" rate {}bit", rate_bits_per_sec);
  return s;
}

NlMsg encode(const NetemSpec& spec) {
  NlMsg msg = qdisc_msg(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, spec.ifindex);
  nl_msg* m = msg.get();
  if (nla_put_string(m, TCA_KIND, "netem") < 0) throw Error(ENOMEM, "encoding {}", spec.str());
  nlattr* opts = nla_nest_start(m, TCA_OPTIONS);
  tc_netem_qopt q{};
  q.limit = spec.limit_packets;
  q.loss = probability(spec.loss_percent);
  q.duplicate = probability(spec.duplicate_percent);
  q.gap = spec.reorder_percent > 0 ? 1 : 0;  // reordering needs a gap (tc's default)
  // The struct comes first and unnested, as the kernel's netem parser expects.
  if (!opts || nlmsg_append(m, &q, sizeof q, NLMSG_ALIGNTO) < 0) throw Error(ENOMEM, "encoding {}", spec.str());
  auto s64 = [&](int type, int64_t v) {
    if (nla_put(m, type, sizeof v, &v) < 0) throw Error(ENOMEM, "encoding {}", spec.str());
  };
  if (spec.delay_ns) s64(TCA_NETEM_LATENCY64, static_cast<int64_t>(spec.delay_ns));
  if (spec.jitter_ns) s64(TCA_NETEM_JITTER64, static_cast<int64_t>(spec.jitter_ns));
  if (spec.corrupt_percent > 0) {
    tc_netem_corrupt c{probability(spec.corrupt_percent), 0};
    nla_put(m, TCA_NETEM_CORRUPT, sizeof c, &c);
  }
  if (spec.reorder_percent > 0) {
    tc_netem_reorder r{probability(spec.reorder_percent), 0};
    nla_put(m, TCA_NETEM_REORDER, sizeof r, &r);
  }
  if (spec.rate_bits_per_sec) {
    uint64_t bytes = spec.rate_bits_per_sec / 8;
    tc_netem_rate r{};
    r.rate = static_cast<uint32_t>(std::min<uint64_t>(bytes, std::numeric_limits<uint32_t>::max()));
    nla_put(m, TCA_NETEM_RATE, sizeof r, &r);
    if (bytes >= std::numeric_limits<uint32_t>::max()) nla_put_u64(m, TCA_NETEM_RATE64, bytes);
  }
  nla_nest_end(m, opts);
  return msg;
}

NlMsg encode_qdisc_delete(uint32_t ifindex) { return qdisc_msg(RTM_DELQDISC, 0, ifindex); }

}  // namespace netlab::nl
