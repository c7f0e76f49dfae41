#include "util/log.hpp"
#include "lab/netem_probe.hpp"

#include <fmt/format.h>

#include <optional>
#include <spdlog/spdlog.h>

#include "netlink/netns.hpp"
#include "netlink/qdisc.hpp"
#include "netlink/socket.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

namespace netlab::lab {

std::string netem_keys(const AddQdisc& q) {
  std::vector<std::string> keys;
  if (q.delay_ns) keys.push_back("delay");
  if (q.jitter_ns) keys.push_back("jitter");
  if (!q.distribution.empty()) keys.push_back("distribution");
  if (q.loss > 0) keys.push_back("loss");
  if (q.corrupt > 0) keys.push_back("corrupt");
  if (q.duplicate > 0) keys.push_back("duplicate");
  if (q.reorder > 0) keys.push_back("reorder");
  return join(keys, ", ");
}

bool kernel_has_netem() {
  static std::optional<bool> cached;
  if (cached) return *cached;
  // A throwaway namespace: its lo (ifindex 1) gets the qdisc, and both vanish
  // with the descriptors below. Costs about a millisecond, once per process.
  std::optional<nl::RtnlSocket> sock;
  nl::Netns probe = nl::Netns::create([&] { sock.emplace(nl::RtnlSocket::open("netem probe")); });
  nl::Impairment imp;
  imp.delay_ns = 1'000'000;
  nl::Batch b;
  b.add(std::move(nl::encode_impairment(1, imp).front()), "adding a netem qdisc to lo");
  auto acks = sock->commit(b);
  int err = acks.empty() ? 0 : acks.front().errnum;
  if (err && err != ENOENT && err != EOPNOTSUPP)
    log::debug("netem probe: {}", describe_errno(err));
  cached = err == 0;
  return *cached;
}

void check_netem(const Plan& plan, const nl::Netns&) {
  const AddQdisc* first = nullptr;
  size_t count = 0;
  for (const auto& a : plan.actions) {
    if (auto* q = std::get_if<AddQdisc>(&a); q && !netem_keys(*q).empty()) {
      if (!first) first = q;
      ++count;
    }
  }
  if (!first || kernel_has_netem()) return;
  std::string where = first->link.empty() ? fmt::format("{}:{}", first->ns, first->ifname) : first->link;
  std::string keys = netem_keys(*first);
  throw Error(EOPNOTSUPP,
              "link {}{}: {} need{} the netem qdisc, which this kernel lacks (CONFIG_NET_SCH_NETEM, "
              "module sch_netem: try `modprobe sch_netem`); only `rate` works without it; nothing was built",
              where, count > 1 ? fmt::format(" (and {} more impaired link ends)", count - 1) : "", keys,
              keys.find(',') == std::string::npos ? "s" : "");
}

}  // namespace netlab::lab
