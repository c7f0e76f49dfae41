#include "topology/model.hpp"

#include <fmt/format.h>

namespace netlab::topo {

std::string Image::str() const {
  switch (kind) {
    case ImageKind::kBusybox: return "busybox";
    case ImageKind::kHost: return "host";
    case ImageKind::kPath: return path;
  }
  return "?";
}

const Interface* Node::find_interface(const std::string& n) const {
  for (const auto& i : interfaces)
    if (i.name == n) return &i;
  return nullptr;
}

bool Impairments::empty() const {
  return !delay && !jitter && !loss && !rate && !corrupt && !duplicate && !reorder;
}

std::string Endpoint::str() const {
  return kind == Kind::kBridge ? bridge : fmt::format("{}:{}", node, iface);
}

int Lab::find_node(const std::string& n) const {
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].name == n) return static_cast<int>(i);
  return -1;
}

int Lab::find_bridge(const std::string& n) const {
  for (size_t i = 0; i < bridges.size(); ++i)
    if (bridges[i].name == n) return static_cast<int>(i);
  return -1;
}

}  // namespace netlab::topo
