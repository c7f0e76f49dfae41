// Internal to lab/: what diff.cpp compares to decide whether a node, a link,
// a host attachment or a bridge's tunnel stays as it runs: each as text (a
// "print") or as an equality. Pure: no kernel, no files. Not part of the public API.
#pragma once

#include <map>
#include <string>

#include "lab/diff_view.hpp"
#include "topology/model.hpp"

namespace netlab::lab::detail {

/// What a node's init was started with and cannot change in place: a change
/// restarts the init in the node's network namespace.
std::string init_print(const topo::Node& n);
/// What the node's program runs: a change restarts the program (its init stays).
std::string program_print(const topo::Node& n);
/// The sysctls a node's init writes at its start, in its order (forwarding
/// first, then the table, which may override it).
std::map<std::string, std::string> node_sysctls(const topo::Node& n);
/// What a node's network namespace was made with: a change recreates the node.
std::string namespace_print(const topo::Node& n);
/// A node's limits: a change rewrites them in its cgroup (or restarts it).
std::string limits_print(const topo::Node& n);
/// A link that stays as it runs (its fabric end's name may differ).
bool same_veth(const CreateVeth& a, const CreateVeth& b);
/// A route by what it says.
std::string route_key(const AddRoute& r);
/// A bridge's attachment to the host, as text: what must be equal for it to stay.
std::string attachment_print(const View::HostAttachment& h);
/// A cross-host link's VXLAN device that stays as it runs.
bool same_vxlan(const CreateVxlan& a, const CreateVxlan& b);
/// A bridge's VXLAN port to other hosts (multi-host part), as text: "" = none.
std::string bridge_tunnel_print(const topo::Lab& lab, const std::string& bridge);

}  // namespace netlab::lab::detail
