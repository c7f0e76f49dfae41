#include "topology/model.hpp"

#include <fmt/format.h>

namespace netlab::topo {

std::string Image::str() const {
  switch (kind) {
    case ImageKind::kBusybox: return "busybox";
    case ImageKind::kHost: return "host";
    case ImageKind::kPath:
    case ImageKind::kOci: return path;
  }
  return "?";
}

const Interface* Node::find_interface(const std::string& n) const {
  for (const auto& i : interfaces)
    if (i.name == n) return &i;
  return nullptr;
}

std::string Node::first_ipv6_use() const {
  for (const auto& i : interfaces)
    for (const auto& a : i.addresses)
      if (a.addr.is_v6()) return fmt::format("address {} on {}", a.str(), i.name);
  for (const auto& r : routes)
    if (r.to.addr.is_v6() || (r.via && r.via->is_v6())) return fmt::format("route to {}", r.to.str());
  if (firewall)
    for (const auto& p : firewall->allow_from)
      if (p.addr.is_v6()) return fmt::format("firewall prefix {}", p.str());
  for (const auto& [key, value] : sysctls)
    if (key.rfind("net.ipv6.", 0) == 0) return fmt::format("sysctl {}", key);
  return "";
}

bool Node::ipv6_enabled() const { return ipv6 ? *ipv6 : !first_ipv6_use().empty(); }

bool Impairments::empty() const {
  return !delay && !jitter && !distribution && !loss && !rate && !corrupt && !duplicate && !reorder;
}

std::string Endpoint::str() const {
  return kind == Kind::kBridge ? bridge : fmt::format("{}:{}", node, iface);
}

int Lab::find_node(const std::string& n) const {
  std::lock_guard lock(node_index_.mutex);
  auto& map = node_index_.map;
  auto hit = [&](int i) { return i >= 0 && static_cast<size_t>(i) < nodes.size() && nodes[static_cast<size_t>(i)].name == n; };
  if (auto it = map.find(n); it != map.end() && hit(it->second) && map.size() == nodes.size()) return it->second;
  map.clear();
  for (size_t i = 0; i < nodes.size(); ++i) map.emplace(nodes[i].name, static_cast<int>(i));  // the first of a name wins
  auto it = map.find(n);
  return it != map.end() && hit(it->second) ? it->second : -1;
}

int Lab::find_bridge(const std::string& n) const {
  for (size_t i = 0; i < bridges.size(); ++i)
    if (bridges[i].name == n) return static_cast<int>(i);
  return -1;
}

int Lab::find_host(const std::string& n) const {
  for (size_t i = 0; i < hosts.size(); ++i)
    if (hosts[i].name == n) return static_cast<int>(i);
  return -1;
}

}  // namespace netlab::topo
