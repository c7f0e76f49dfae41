// Internal to lab/: the probes of checks.cpp (ping, connect with its
// listener, command, route), each run in the check's own child process, and
// the helpers checks.cpp shares with them. Not part of the public API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lab/checks.hpp"

namespace netlab::lab::detail {

struct Outcome {
  bool ok = false;
  std::string got;
};

/// A node name in `to` stands for that node's first address (IPv4 first).
std::string resolve_target(const topo::Lab& lab, const std::string& to);
/// The index of the node that has `addr` on one of its interfaces, or -1.
int owner_of(const topo::Lab& lab, const std::string& addr);

Outcome ping_check(const LabState& state, const topo::Lab& lab, const topo::Check& c);
/// In a process of its own: listens on `port` in the node's netns (see check_probes.cpp).
std::string listen_once(const HostFacts& facts, const std::string& lab, const std::string& node, int type,
                        uint16_t port, int wait_ms, int ready_fd, int stop_fd);
Outcome connect_outcome(const topo::Check& c, bool connected, const std::string& detail,
                        const std::optional<std::string>& listener);
Outcome connect_check(const HostFacts& facts, const topo::Lab& lab, const topo::Check& c);
Outcome command_check(const LabState& state, const topo::Lab& lab, const topo::Check& c);
Outcome route_check(const HostFacts& facts, const topo::Lab& lab, const topo::Check& c);

}  // namespace netlab::lab::detail
