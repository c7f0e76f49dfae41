// User namespaces for nodes that ask for one (`userns = true`): the host range
// their root is mapped to, and the maps netlab writes for a new node.
//
// Every userns node shares one range, as Docker's userns-remap does: a node's
// root is an unprivileged host uid, so nothing of the host is its to change.
// The range is the subordinate range of user "netlab" (else "root") in
// /etc/subuid and /etc/subgid, and 1000000000 + 65536 without one: far above
// the ranges adduser hands out from 100000.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>

#include "util/fd.hpp"

namespace netlab::node {

struct IdRange {
  uint32_t host_uid = 0;
  uint32_t host_gid = 0;
  uint32_t count = 0;
  bool operator==(const IdRange&) const = default;
};

inline constexpr IdRange kDefaultIdRange{1'000'000'000, 1'000'000'000, 65536};

/// The first range of `names` (in order of preference) in a subuid/subgid
/// file's text ("name:start:count" lines); nullopt when none is listed.
std::optional<std::pair<uint32_t, uint32_t>> find_subordinate_range(const std::string& text,
                                                                     std::initializer_list<const char*> names);

/// The range userns nodes use on this host (reads /etc/subuid and /etc/subgid).
IdRange userns_id_range(const std::string& subuid_path = "/etc/subuid", const std::string& subgid_path = "/etc/subgid");

/// Writes /proc/<pid>/uid_map and gid_map: 0..count-1 inside to the host range.
void write_id_maps(pid_t pid, const IdRange& range);

/// A contained node's namespaces: a new user namespace mapped to `range` and a
/// new network namespace that belongs to it (so the node's root governs that
/// network and nothing else). Returns the network namespace; the user
/// namespace is reachable from it (ioctl NS_GET_USERNS) and lives as long as
/// it. Made by a short-lived child that shares netlab's memory and
/// descriptors (nothing is copied), so it is cheap and safe from any thread.
Fd make_contained_netns(const IdRange& range);

}  // namespace netlab::node
