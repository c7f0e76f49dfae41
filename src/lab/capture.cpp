#include "lab/capture.hpp"

#include <unistd.h>

#include <cerrno>

#include "lab/lifecycle.hpp"
#include "lab/state.hpp"
#include "util/strings.hpp"

namespace netlab::lab {

namespace {

topo::Lab saved_topology(const HostFacts& facts, const std::string& lab) {
  LabState state = read_lab_state(facts, lab);  // "lab X is not deployed"
  if (!state.topology) throw LabConflict(ENOENT, "lab {} has no saved topology", lab);
  return std::move(*state.topology);
}

capture::Endpoint node_end(const HostFacts& facts, const std::string& lab, const std::string& node,
                           const std::string& iface) {
  return {node + ":" + iface, node_pin(facts, lab, node), iface};
}

// The bridge port of link `l` (bridge end `b`, node end `n`), as the plan named it.
capture::Endpoint port_end(const HostFacts& facts, const std::string& lab, const topo::Link& link, size_t l) {
  const auto& n = link.ends[0].kind == topo::Endpoint::Kind::kInterface ? link.ends[0] : link.ends[1];
  const auto& b = link.ends[0].kind == topo::Endpoint::Kind::kInterface ? link.ends[1] : link.ends[0];
  return {b.bridge + ":" + n.str(), fabric_pin(facts, lab), fabric_end_name(n.node, n.iface, l)};
}

std::vector<std::string> node_names(const topo::Lab& t) {
  std::vector<std::string> out;
  for (const auto& n : t.nodes) out.push_back(n.name);
  for (const auto& b : t.bridges) out.push_back(b.name);
  return out;
}

[[noreturn]] void unknown(const topo::Lab& t, const std::string& what, const std::string& name) {
  std::string hint = closest_match(name, node_names(t));
  throw LabConflict(ENOENT, "lab {} has no {} \"{}\"{}", t.name, what, name,
                    hint.empty() ? "" : " (did you mean \"" + hint + "\"?)");
}

capture::Endpoint resolve(const HostFacts& facts, const topo::Lab& t, const std::string& target) {
  auto parts = split(target, ':');
  if (parts.size() == 1) {
    if (t.find_bridge(target) >= 0) return {target, fabric_pin(facts, t.name), target};
    if (t.find_node(target) >= 0)
      throw LabConflict(EINVAL, "\"{}\" is a node: name one of its interfaces (\"{}:eth0\")", target, target);
    unknown(t, "node or bridge", target);
  }
  if (parts.size() == 2) {
    int n = t.find_node(parts[0]);
    if (n < 0) unknown(t, "node", parts[0]);
    // Any interface of the node's namespace may be captured ("lo" too); the
    // kernel has the last word, and capture_lab turns its ENODEV into a hint.
    return node_end(facts, t.name, parts[0], parts[1]);
  }
  if (parts.size() == 3) {
    if (t.find_bridge(parts[0]) < 0) unknown(t, "bridge", parts[0]);
    std::string node_iface = parts[1] + ":" + parts[2];
    for (size_t l = 0; l < t.links.size(); ++l) {
      const auto& e = t.links[l].ends;
      bool has_bridge = e[0].str() == parts[0] || e[1].str() == parts[0];
      bool has_iface = e[0].str() == node_iface || e[1].str() == node_iface;
      if (has_bridge && has_iface) return port_end(facts, t.name, t.links[l], l);
    }
    throw LabConflict(ENOENT, "bridge {} of lab {} has no port towards {}", parts[0], t.name, node_iface);
  }
  throw LabConflict(EINVAL, "\"{}\": a capture target is NODE:IFACE, BRIDGE or BRIDGE:NODE:IFACE", target);
}

std::vector<capture::Endpoint> link_ends(const HostFacts& facts, const topo::Lab& t) {
  std::vector<capture::Endpoint> out;
  for (size_t l = 0; l < t.links.size(); ++l) {
    const auto& link = t.links[l];
    for (const auto& e : link.ends) {
      if (e.kind == topo::Endpoint::Kind::kInterface) out.push_back(node_end(facts, t.name, e.node, e.iface));
      else out.push_back(port_end(facts, t.name, link, l));
    }
  }
  return out;
}

}  // namespace

capture::Endpoint capture_endpoint(const HostFacts& facts, const std::string& lab, const std::string& target) {
  return resolve(facts, saved_topology(facts, lab), target);
}

std::vector<capture::Endpoint> all_link_ends(const HostFacts& facts, const std::string& lab) {
  return link_ends(facts, saved_topology(facts, lab));
}

capture::Summary capture_lab(const HostFacts& facts, const std::string& lab, const std::vector<std::string>& targets,
                             const capture::Options& options) {
  topo::Lab t = saved_topology(facts, lab);
  std::vector<capture::Endpoint> ends;
  if (targets.empty()) {
    ends = link_ends(facts, t);
    if (ends.empty()) throw LabConflict(ENOENT, "lab {} has no links to capture on", lab);
  }
  for (const auto& target : targets) ends.push_back(resolve(facts, t, target));
  capture::Options o = options;
  // Destroy removes the fabric's pin: then the capture ends (within a second)
  // and lets go of the namespaces its sockets hold.
  std::string fabric = fabric_pin(facts, lab);
  o.still_there = [fabric] { return ::access(fabric.c_str(), F_OK) == 0; };
  try {
    return capture::run(ends, o);
  } catch (const Error& e) {
    // The user's mistakes, not the system's: a missing interface, a bad filter.
    if (e.errnum() == ENODEV || e.errnum() == EINVAL) throw LabConflict(e.errnum(), "{}", join(e.context(), ": "));
    throw;
  }
}

}  // namespace netlab::lab
