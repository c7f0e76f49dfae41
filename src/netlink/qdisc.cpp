#include "netlink/qdisc.hpp"

#include <cstdlib>

#include <sstream>

#include <fstream>

#include <fmt/format.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

#include "util/error.hpp"

namespace netlab::nl {

namespace {

constexpr double kProbabilityScale = std::numeric_limits<uint32_t>::max();

// netem probabilities are fractions of 2^32 - 1, rounded as tc rounds them
// (rint), so a request carries the bytes `tc ... netem loss 1.5%` sends.
uint32_t probability(double percent) {
  double p = std::clamp(percent, 0.0, 100.0) / 100.0;
  return static_cast<uint32_t>(std::rint(p * kProbabilityScale));
}

// Scheduler ticks of 64 ns, as tc writes delay and jitter into tc_netem_qopt.
uint32_t ticks(uint64_t ns) { return static_cast<uint32_t>(std::min<uint64_t>(ns / 64, UINT32_MAX)); }
// tc sends the 64-bit attribute never; netlab sends it only for what the
// ticks cannot carry (a sub-microsecond part, or beyond 2^32 ticks).
bool needs_ns64(uint64_t ns) { return ns % 1000 != 0 || ns / 64 > UINT32_MAX; }

double percent_of(uint32_t probability) {
  // Rounded to what a topology can say (0.001%), so a value read back equals the one set.
  return std::round(probability / kProbabilityScale * 100.0 * 1000.0) / 1000.0;
}

NlMsg qdisc_msg(int type, int flags, uint32_t ifindex, uint32_t handle, uint32_t parent, size_t size = 0) {
  NlMsg msg(size ? nlmsg_alloc_size(size) : nlmsg_alloc_simple(type, flags));
  if (size && msg) {
    nlmsghdr* h = nlmsg_hdr(msg.get());
    h->nlmsg_type = static_cast<uint16_t>(type);
    h->nlmsg_flags = static_cast<uint16_t>(flags | NLM_F_REQUEST);
  }
  tcmsg tcm{};
  tcm.tcm_family = AF_UNSPEC;
  tcm.tcm_ifindex = static_cast<int>(ifindex);
  tcm.tcm_handle = handle;
  tcm.tcm_parent = parent;
  if (!msg || nlmsg_append(msg.get(), &tcm, sizeof tcm, NLMSG_ALIGNTO) < 0)
    throw Error(ENOMEM, "encoding a qdisc request for ifindex {}", ifindex);
  return msg;
}

void put(nl_msg* m, int type, size_t len, const void* data) {
  if (nla_put(m, type, static_cast<int>(len), data) < 0) throw Error(ENOMEM, "encoding a qdisc attribute {}", type);
}

NlMsg encode_netem(uint32_t ifindex, uint32_t parent, uint32_t handle, const Impairment& imp) {
  std::vector<int16_t> dist;
  if (!imp.distribution.empty()) dist = delay_distribution(imp.distribution);
  NlMsg msg = qdisc_msg(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, ifindex, handle, parent,
                        dist.empty() ? 0 : 4096 + dist.size() * sizeof(int16_t));
  nl_msg* m = msg.get();
  if (nla_put_string(m, TCA_KIND, "netem") < 0) throw Error(ENOMEM, "encoding netem");
  nlattr* opts = nla_nest_start(m, TCA_OPTIONS);
  // Laid out as iproute2's tc lays it out (tests/testdata/netem/cases.json holds
  // tc's bytes): the struct first and unnested, delay and jitter in ticks, then
  // TCA_NETEM_REORDER before TCA_NETEM_CORRUPT.
  tc_netem_qopt q{};
  q.latency = ticks(imp.delay_ns);
  q.limit = kNetemLimitPackets;
  q.loss = probability(imp.loss_percent);
  q.gap = imp.reorder_percent > 0 ? 1 : 0;  // reordering needs a gap (tc's default)
  q.duplicate = probability(imp.duplicate_percent);
  q.jitter = ticks(imp.jitter_ns);
  if (!opts || nlmsg_append(m, &q, sizeof q, NLMSG_ALIGNTO) < 0) throw Error(ENOMEM, "encoding netem");
  auto s64 = [&](int type, uint64_t v) {
    int64_t signed_v = static_cast<int64_t>(v);
    put(m, type, sizeof signed_v, &signed_v);
  };
  if (imp.delay_ns && needs_ns64(imp.delay_ns)) s64(TCA_NETEM_LATENCY64, imp.delay_ns);
  if (imp.jitter_ns && needs_ns64(imp.jitter_ns)) s64(TCA_NETEM_JITTER64, imp.jitter_ns);
  if (imp.reorder_percent > 0) {
    tc_netem_reorder r{probability(imp.reorder_percent), 0};
    put(m, TCA_NETEM_REORDER, sizeof r, &r);
  }
  if (imp.corrupt_percent > 0) {
    tc_netem_corrupt c{probability(imp.corrupt_percent), 0};
    put(m, TCA_NETEM_CORRUPT, sizeof c, &c);
  }
  // Last, as tc puts it: the jitter's distribution table.
  if (!dist.empty()) put(m, TCA_NETEM_DELAY_DIST, dist.size() * sizeof(int16_t), dist.data());
  nla_nest_end(m, opts);
  return msg;
}

NlMsg encode_tbf(uint32_t ifindex, uint64_t rate_bits) {
  NlMsg msg = qdisc_msg(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, ifindex, kImpairRootHandle, TC_H_ROOT);
  nl_msg* m = msg.get();
  if (nla_put_string(m, TCA_KIND, "tbf") < 0) throw Error(ENOMEM, "encoding tbf");
  uint64_t bytes_per_sec = rate_bits / 8;
  uint32_t burst = tbf_burst_bytes(rate_bits);
  tc_tbf_qopt q{};
  q.rate.rate = static_cast<uint32_t>(std::min<uint64_t>(bytes_per_sec, std::numeric_limits<uint32_t>::max()));
  // Ethernet link layer: the kernel then needs no rate table from us.
  q.rate.linklayer = TC_LINKLAYER_ETHERNET;
  q.limit = tbf_limit_bytes(rate_bits);
  // The bucket as time in scheduler ticks (64 ns): what tc shows as "burst".
  // TCA_TBF_BURST below is the exact size the kernel uses.
  double burst_ns = static_cast<double>(burst) * 1e9 / static_cast<double>(bytes_per_sec);
  q.buffer = static_cast<uint32_t>(std::min(burst_ns / 64.0, static_cast<double>(std::numeric_limits<uint32_t>::max())));
  nlattr* opts = nla_nest_start(m, TCA_OPTIONS);
  if (!opts) throw Error(ENOMEM, "encoding tbf");
  put(m, TCA_TBF_PARMS, sizeof q, &q);
  if (bytes_per_sec >= std::numeric_limits<uint32_t>::max()) put(m, TCA_TBF_RATE64, sizeof bytes_per_sec, &bytes_per_sec);
  put(m, TCA_TBF_BURST, sizeof burst, &burst);
  nla_nest_end(m, opts);
  return msg;
}

std::string duration_text(uint64_t ns) {
  if (ns % 1'000'000 == 0) return fmt::format("{}ms", ns / 1'000'000);
  if (ns % 1'000 == 0) return fmt::format("{}us", ns / 1'000);
  return fmt::format("{}ns", ns);
}

std::string rate_text(uint64_t bits) {
  if (bits % 1'000'000'000 == 0) return fmt::format("{}gbit", bits / 1'000'000'000);
  if (bits % 1'000'000 == 0) return fmt::format("{}mbit", bits / 1'000'000);
  if (bits % 1'000 == 0) return fmt::format("{}kbit", bits / 1'000);
  return fmt::format("{}bit", bits);
}

Impairment parse_netem(nlattr* options) {
  Impairment imp;
  if (nla_len(options) < static_cast<int>(sizeof(tc_netem_qopt))) return imp;
  tc_netem_qopt q;
  std::memcpy(&q, nla_data(options), sizeof q);
  imp.loss_percent = percent_of(q.loss);
  imp.duplicate_percent = percent_of(q.duplicate);
  // 32-bit latency/jitter in the struct are in ticks; the 64-bit attributes are exact.
  imp.delay_ns = static_cast<uint64_t>(q.latency) * 64;
  imp.jitter_ns = static_cast<uint64_t>(q.jitter) * 64;
  int offset = NLA_ALIGN(static_cast<int>(sizeof q));
  nlattr* tb[TCA_NETEM_MAX + 1] = {};
  auto* attrs = reinterpret_cast<nlattr*>(static_cast<char*>(nla_data(options)) + offset);
  if (nla_parse(tb, TCA_NETEM_MAX, attrs, nla_len(options) - offset, nullptr) < 0) return imp;
  auto s64 = [](nlattr* a) {
    int64_t v = 0;
    std::memcpy(&v, nla_data(a), sizeof v);
    return static_cast<uint64_t>(v);
  };
  if (tb[TCA_NETEM_LATENCY64]) imp.delay_ns = s64(tb[TCA_NETEM_LATENCY64]);
  if (tb[TCA_NETEM_JITTER64]) imp.jitter_ns = s64(tb[TCA_NETEM_JITTER64]);
  if (tb[TCA_NETEM_CORRUPT])
    imp.corrupt_percent = percent_of(static_cast<tc_netem_corrupt*>(nla_data(tb[TCA_NETEM_CORRUPT]))->probability);
  if (tb[TCA_NETEM_REORDER])
    imp.reorder_percent = percent_of(static_cast<tc_netem_reorder*>(nla_data(tb[TCA_NETEM_REORDER]))->probability);
  if (tb[TCA_NETEM_RATE64]) imp.rate_bits_per_sec = nla_get_u64(tb[TCA_NETEM_RATE64]) * 8;
  else if (tb[TCA_NETEM_RATE]) imp.rate_bits_per_sec = static_cast<uint64_t>(static_cast<tc_netem_rate*>(nla_data(tb[TCA_NETEM_RATE]))->rate) * 8;
  return imp;
}

Impairment parse_tbf(nlattr* options) {
  Impairment imp;
  nlattr* tb[TCA_TBF_MAX + 1] = {};
  if (nla_parse_nested(tb, TCA_TBF_MAX, options, nullptr) < 0 || !tb[TCA_TBF_PARMS]) return imp;
  tc_tbf_qopt q;
  std::memcpy(&q, nla_data(tb[TCA_TBF_PARMS]), sizeof q);
  uint64_t bytes = q.rate.rate;
  if (tb[TCA_TBF_RATE64]) bytes = nla_get_u64(tb[TCA_TBF_RATE64]);
  imp.rate_bits_per_sec = bytes * 8;
  return imp;
}

}  // namespace

bool Impairment::needs_netem() const {
  return delay_ns || jitter_ns || loss_percent > 0 || duplicate_percent > 0 || corrupt_percent > 0 ||
         reorder_percent > 0;
}

std::string Impairment::str() const {
  std::vector<std::string> parts;
  if (delay_ns) parts.push_back("delay " + duration_text(delay_ns));
  if (jitter_ns) parts.push_back("jitter " + duration_text(jitter_ns));
  if (!distribution.empty()) parts.push_back("distribution " + distribution);
  if (loss_percent > 0) parts.push_back(fmt::format("loss {}%", loss_percent));
  if (duplicate_percent > 0) parts.push_back(fmt::format("duplicate {}%", duplicate_percent));
  if (corrupt_percent > 0) parts.push_back(fmt::format("corrupt {}%", corrupt_percent));
  if (reorder_percent > 0) parts.push_back(fmt::format("reorder {}%", reorder_percent));
  if (rate_bits_per_sec) parts.push_back("rate " + rate_text(rate_bits_per_sec));
  if (parts.empty()) return "none";
  std::string s = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) s += " " + parts[i];
  return s;
}

uint32_t tbf_burst_bytes(uint64_t rate_bits_per_sec) {
  uint64_t five_ms = rate_bits_per_sec / 8 / 200;
  return static_cast<uint32_t>(std::clamp<uint64_t>(five_ms, 10 * 1514, 64u << 20));
}

uint32_t tbf_limit_bytes(uint64_t rate_bits_per_sec) {
  uint64_t fifty_ms = rate_bits_per_sec / 8 / 20;
  return static_cast<uint32_t>(std::min<uint64_t>(fifty_ms + tbf_burst_bytes(rate_bits_per_sec), 256u << 20));
}

std::vector<NlMsg> encode_impairment(uint32_t ifindex, const Impairment& imp) {
  std::vector<NlMsg> out;
  if (imp.rate_bits_per_sec) {
    out.push_back(encode_tbf(ifindex, imp.rate_bits_per_sec));
    if (imp.needs_netem()) {
      Impairment rest = imp;
      rest.rate_bits_per_sec = 0;
      out.push_back(encode_netem(ifindex, TC_H_MAKE(kImpairRootHandle, 1), kImpairNetemHandle, rest));
    }
  } else if (imp.needs_netem()) {
    out.push_back(encode_netem(ifindex, TC_H_ROOT, kImpairRootHandle, imp));
  }
  return out;
}

NlMsg encode_qdisc_delete(uint32_t ifindex) { return qdisc_msg(RTM_DELQDISC, 0, ifindex, 0, TC_H_ROOT); }

std::vector<QdiscInfo> dump_qdiscs(RtnlSocket& sock) {
  std::vector<QdiscInfo> out;
  NlMsg req = qdisc_msg(RTM_GETQDISC, 0, 0, 0, 0);
  sock.dump(std::move(req), [&](nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWQDISC) return;
    auto* tcm = static_cast<tcmsg*>(nlmsg_data(h));
    nlattr* tb[TCA_MAX + 1] = {};
    if (nlmsg_parse(h, sizeof(tcmsg), tb, TCA_MAX, nullptr) < 0 || !tb[TCA_KIND]) return;
    QdiscInfo q;
    q.ifindex = static_cast<uint32_t>(tcm->tcm_ifindex);
    q.handle = tcm->tcm_handle;
    q.parent = tcm->tcm_parent;
    q.kind = nla_get_string(tb[TCA_KIND]);
    if (tb[TCA_OPTIONS]) {
      if (q.kind == "netem") q.carries = parse_netem(tb[TCA_OPTIONS]);
      if (q.kind == "tbf") q.carries = parse_tbf(tb[TCA_OPTIONS]);
    }
    out.push_back(std::move(q));
  });
  return out;
}

Impairment impairment_of(const std::vector<QdiscInfo>& qdiscs, uint32_t ifindex) {
  Impairment imp;
  const QdiscInfo* root = nullptr;
  for (const auto& q : qdiscs)
    if (q.ifindex == ifindex && q.parent == TC_H_ROOT) root = &q;
  if (!root || root->handle != kImpairRootHandle) return imp;
  if (root->kind == "netem") return root->carries;
  if (root->kind != "tbf") return imp;
  imp.rate_bits_per_sec = root->carries.rate_bits_per_sec;
  for (const auto& q : qdiscs) {
    if (q.ifindex == ifindex && q.kind == "netem" && q.parent == TC_H_MAKE(kImpairRootHandle, 1)) {
      Impairment rest = q.carries;
      rest.rate_bits_per_sec = imp.rate_bits_per_sec;
      return rest;
    }
  }
  return imp;
}

std::vector<int16_t> delay_distribution(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name.find("..") != std::string::npos)
    throw Error(EINVAL, "delay distribution \"{}\" is not a name", name);
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("TC_LIB_DIR"); env && *env) dirs.emplace_back(env);
  for (const char* d : {"/usr/lib/x86_64-linux-gnu/tc", "/usr/lib/aarch64-linux-gnu/tc", "/usr/lib64/tc", "/usr/lib/tc"})
    dirs.emplace_back(d);
  for (const auto& d : dirs) {
    std::ifstream in(d + "/" + name + ".dist");
    if (!in) continue;
    std::vector<int16_t> table;
    for (std::string line; std::getline(in, line);) {
      if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
      std::istringstream words(line);
      for (long v; words >> v;) table.push_back(static_cast<int16_t>(v));
    }
    if (table.empty() || table.size() > 16384)
      throw Error(EINVAL, "delay distribution table {}/{}.dist has {} values", d, name, table.size());
    return table;
  }
  throw Error(ENOENT, "delay distribution \"{}\": no {}.dist in {} (iproute2 ships them)", name, name,
              dirs.size() > 1 ? "/usr/lib/<multiarch>/tc or /usr/lib/tc" : dirs[0]);
}

}  // namespace netlab::nl
