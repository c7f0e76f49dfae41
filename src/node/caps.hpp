// The capability bounding set of a node: Docker's default set plus what a
// network node needs (CAP_NET_ADMIN, CAP_NET_RAW), CAP_SYS_ADMIN only if asked.
// Never CAP_SYS_MODULE, CAP_SYS_TIME, CAP_SYS_BOOT, CAP_SYS_RAWIO, CAP_MKNOD.
#pragma once

#include <cstdint>
#include <vector>

namespace netlab::node {

/// Capability numbers a node keeps.
std::vector<int> node_capabilities(bool sys_admin);

/// Drops every other capability from the calling process's bounding set and
/// from its permitted and effective sets (returns -errno on failure, 0 on success).
int restrict_bounding_set(bool sys_admin);

}  // namespace netlab::node
