// netlab graph FILE [--format dot|mermaid]
#include <iostream>

#include "cli/common.hpp"
#include "cli/exit_codes.hpp"
#include "topology/graph.hpp"

namespace netlab::cli {

int run_graph(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab graph FILE [--format dot|mermaid]";
  spec.summary = "Print the topology as a graph: nodes, bridges, links with interfaces and addresses.";
  spec.options.add_options()
      ("file", po::value<std::string>()->required()->value_name("FILE"), "topology file")
      ("format,f", po::value<std::string>()->default_value("dot")->value_name("FORMAT"), "dot or mermaid");
  spec.positional.add("file", 1);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;
  std::string format = vm["format"].as<std::string>();
  if (format != "dot" && format != "mermaid") {
    return usage_error(spec, "unknown format \"" + format + "\" (dot or mermaid)");
  }
  auto lab = load_topology(vm["file"].as<std::string>());
  if (!lab) return kExitUserError;
  std::cout << topo::render_graph(*lab, format == "dot" ? topo::GraphFormat::kDot : topo::GraphFormat::kMermaid);
  return kExitOk;
}

}  // namespace netlab::cli
