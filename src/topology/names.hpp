// The one validator for every name that becomes a path, an interface or a
// cgroup: lab, node and bridge names from a topology, `--lab` and
// `exec LAB NODE` on the command line, and the lab API's entry points all ask
// here. The naming (docs/architecture.md, "Names") makes the objects of two
// distinct (lab, object) pairs distinct by construction:
//   - lab names are [a-z0-9]+ (no '-'), so /run/netns/<lab>-<node> splits at
//     its first '-' and the host-side default <lab>-<bridge> likewise;
//   - the fabric pin netlab-<lab> would be lab "netlab"'s node <lab>: "netlab"
//     is reserved, as are "images" (the state dir's image store) and "tasks"
//     (a file in every cgroup v1 group, where a node's group would be made);
//   - interface names the kernel or a fresh namespace already uses (lo, all,
//     default, the fallback tunnels) are refused for bridges and interfaces.
#pragma once

#include <string>
#include <string_view>

namespace netlab::topo {

enum class NameKind { kLab, kNode, kBridge };

/// Limits derived from names (documented in docs/topology.md).
inline constexpr size_t kMaxLabName = 12;     // fabric netns, nft table, host iface names
inline constexpr size_t kMaxNodeName = 32;    // /run/netns/<lab>-<node>, hostname, cgroup
inline constexpr size_t kMaxIfaceName = 15;   // IFNAMSIZ - 1 (bridges too)

/// Why `name` cannot be a `kind` name ("lab name \"a-b\" must match [a-z0-9]+ ..."),
/// or "" when it can.
std::string name_problem(NameKind kind, std::string_view name);

/// Why `name` cannot be an interface name (a node's interface, or the host side
/// of a bridge), or "" when it can. `what` starts the message ("interface").
std::string iface_problem(std::string_view name, std::string_view what = "interface name");

/// True for names a fresh network namespace may already hold or the kernel
/// refuses (lo, all, default, gre0, sit0, tunl0, ...).
bool reserved_iface(std::string_view name);

}  // namespace netlab::topo
