// Drawing a topology: Graphviz dot or Mermaid text, nodes and bridges as
// vertices, links labelled with interface names and addresses.
#pragma once

#include <string>

#include "topology/model.hpp"

namespace netlab::topo {

enum class GraphFormat { kDot, kMermaid };

std::string render_graph(const Lab& lab, GraphFormat format);

}  // namespace netlab::topo
