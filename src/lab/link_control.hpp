// Live link control on a deployed lab: pulling a cable (both veth ends down)
// and plugging it back, found from the topology saved at deploy time and the
// names and indexes the plan gave the ends.
#pragma once

#include <string>

#include "lab/plan.hpp"

namespace netlab::lab {

/// Sets both ends of the link of `endpoint` ("node:iface") up or down.
/// Throws LabConflict(ENOENT) for an unknown lab or endpoint, Error for the kernel.
void set_link_state(const HostFacts& facts, const std::string& lab, const std::string& endpoint, bool up);

}  // namespace netlab::lab
