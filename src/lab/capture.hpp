// Capture on a deployed lab: names people use ("h1:eth0", a bridge "lan", a
// bridge's port "lan:h1:eth0", or every link end at once) resolved to the
// namespace pins and interface names deploy's plan gave them, then handed to
// capture::run. Works on nodes whose init has exited: their namespaces stay
// pinned until destroy.
#pragma once

#include <string>
#include <vector>

#include "capture/session.hpp"
#include "lab/plan.hpp"

namespace netlab::lab {

/// The endpoint of one target: "NODE:IFACE", "BRIDGE" (in the fabric), or
/// "BRIDGE:NODE:IFACE" (the bridge's port towards NODE:IFACE). Throws
/// LabConflict(ENOENT) for a lab, node, bridge or port the lab does not have.
capture::Endpoint capture_endpoint(const HostFacts& facts, const std::string& lab, const std::string& target);

/// Every link end of the lab, in topology order: both ends of a point-to-point
/// link; the node end and the bridge port of a bridged one.
std::vector<capture::Endpoint> all_link_ends(const HostFacts& facts, const std::string& lab);

/// `netlab capture`: the targets' endpoints (none = every link end), captured
/// with `options`. Errors name the lab and the target.
capture::Summary capture_lab(const HostFacts& facts, const std::string& lab, const std::vector<std::string>& targets,
                             const capture::Options& options);

}  // namespace netlab::lab
