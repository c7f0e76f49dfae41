// Live link control on a deployed lab: pulling a cable (both veth ends down)
// and plugging it back, and changing a link's impairments in place. Links are
// found from the topology saved at deploy time and the names and indexes the
// plan gave their ends; impairments in force are read back from the kernel.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lab/plan.hpp"
#include "netlink/qdisc.hpp"

namespace netlab::lab {

/// Sets both ends of the link of `endpoint` ("node:iface") up or down. In one
/// host's part of a multi-host lab, a link to another host is its VXLAN end
/// here only (the CLI reaches the far end on its host).
/// Throws LabConflict(ENOENT) for an unknown lab or endpoint, Error for the kernel.
void set_link_state(const HostFacts& facts, const std::string& lab, const std::string& endpoint, bool up);

/// A change to a link's impairments: the values given replace the ones in
/// force, the others stay, unless `clear` starts from none.
struct ImpairmentChange {
  std::optional<uint64_t> delay_ns, jitter_ns, rate_bps;
  std::optional<double> loss, duplicate, corrupt, reorder;
  bool clear = false;
  bool one_way = false;  // only the egress of `endpoint`, not of the other end
  nl::Impairment applied_to(nl::Impairment current) const;
};

struct EndImpairment {
  std::string end;  // "a:eth0", or the fabric end "lan" port name
  nl::Impairment before, after;
};

/// Changes the impairments of the link of `endpoint` on the egress of both ends
/// (or of `endpoint` only), without touching anything else of the lab.
/// Throws LabConflict(EINVAL) for a change that leaves jitter or reorder without delay.
std::vector<EndImpairment> set_link_impairment(const HostFacts& facts, const std::string& lab,
                                               const std::string& endpoint, const ImpairmentChange& change);

}  // namespace netlab::lab
