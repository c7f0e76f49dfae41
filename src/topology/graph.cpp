#include "topology/graph.hpp"

#include <fmt/format.h>

#include "util/strings.hpp"

namespace netlab::topo {

namespace {

std::string end_label(const Lab& lab, const Endpoint& e) {
  if (e.kind == Endpoint::Kind::kBridge) return "";
  const auto& iface = lab.nodes[e.node_index].interfaces[e.iface_index];
  std::vector<std::string> parts{iface.name};
  for (const auto& a : iface.addresses) parts.push_back(a.str());
  return join(parts, " ");
}

std::string vertex(const Endpoint& e) { return e.kind == Endpoint::Kind::kBridge ? e.bridge : e.node; }

std::string node_label(const Node& n) {
  std::string label = n.name;
  if (n.forwarding) label += " (router)";
  if (!n.nat.empty()) label += " NAT";
  return label;
}

}  // namespace

std::string render_graph(const Lab& lab, GraphFormat format) {
  std::string out;
  if (format == GraphFormat::kDot) {
    out += fmt::format("graph \"{}\" {{\n  node [shape=box];\n", lab.name);
    for (const auto& b : lab.bridges) {
      std::string label = "bridge " + b.name;
      if (b.host) label += "\\nhost " + b.host->iface + " " + (b.host->addresses.empty() ? "" : b.host->addresses[0].str());
      out += fmt::format("  \"{}\" [shape=ellipse, label=\"{}\"];\n", b.name, label);
    }
    for (const auto& n : lab.nodes) out += fmt::format("  \"{}\" [label=\"{}\"];\n", n.name, node_label(n));
    for (const auto& l : lab.links) {
      out += fmt::format("  \"{}\" -- \"{}\" [taillabel=\"{}\", headlabel=\"{}\"];\n", vertex(l.ends[0]),
                         vertex(l.ends[1]), end_label(lab, l.ends[0]), end_label(lab, l.ends[1]));
    }
    out += "}\n";
  } else {
    out += "graph LR\n";
    // Mermaid ids must be unique across kinds; prefix them.
    auto id = [](const Endpoint& e) { return (e.kind == Endpoint::Kind::kBridge ? "b_" : "n_") + vertex(e); };
    for (const auto& b : lab.bridges) out += fmt::format("  b_{}((\"bridge {}\"))\n", b.name, b.name);
    for (const auto& n : lab.nodes) out += fmt::format("  n_{}[\"{}\"]\n", n.name, node_label(n));
    for (const auto& l : lab.links) {
      std::string label = end_label(lab, l.ends[0]);
      std::string other = end_label(lab, l.ends[1]);
      if (!other.empty()) label += (label.empty() ? "" : " — ") + other;
      if (label.empty())
        out += fmt::format("  {} --- {}\n", id(l.ends[0]), id(l.ends[1]));
      else
        out += fmt::format("  {} ---|\"{}\"| {}\n", id(l.ends[0]), label, id(l.ends[1]));
    }
  }
  return out;
}

}  // namespace netlab::topo
