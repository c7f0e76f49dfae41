// inspect --stats: every interface's counters as the kernel keeps them
// (IFLA_STATS64 over netlink, one link dump per namespace): each node's
// interfaces, each bridge and its ports in the fabric. Nodes whose init has
// exited are read too: their namespaces stay pinned until destroy.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "lab/plan.hpp"

namespace netlab::lab {

/// {"name", "interfaces": [{"node","name","rx":{packets,bytes,dropped,errors},"tx":{...}}],
///  "bridges": [{"name","rx","tx","ports":[{"name":"h1:eth0","rx","tx"}]}]}.
/// A node whose namespace cannot be read gets {"node","error"} instead.
/// Throws LabConflict(ENOENT) when the lab is not deployed.
nlohmann::json interface_stats(const HostFacts& facts, const std::string& lab);

/// The same as a table.
std::string render_stats(const nlohmann::json& stats);

}  // namespace netlab::lab
