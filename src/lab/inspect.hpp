// inspect: a deployed lab as the kernel reports it now — each node's state,
// pid, image, limits and usage (from its cgroup), interfaces with addresses
// and peers (read over netlink in the node's namespace), bridges and their
// ports (in the fabric). The JSON shape is stable and documented in
// docs/inspect.md; the table is the same data for people.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "lab/plan.hpp"

namespace netlab::lab {

/// Throws LabConflict(ENOENT) when the lab is not deployed. `raw` adds each nft
/// chain's rules as the kernel's bytecode dump.
nlohmann::json inspect_lab(const HostFacts& facts, const std::string& lab, bool raw = false);

/// The same data as a table.
std::string render_inspect(const nlohmann::json& info);

}  // namespace netlab::lab
