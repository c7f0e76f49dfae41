// netlab shell [LAB] NODE: an interactive login shell in the node, on this terminal.
#include <iostream>

#include "cli/exit_codes.hpp"
#include "cli/node_target.hpp"
#include "cli/options.hpp"

namespace netlab::cli {

int run_shell(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab shell [LAB] NODE";
  spec.summary = "Open an interactive shell (/bin/sh -l) inside NODE. LAB may be omitted when one lab is deployed.";
  spec.options.add_options()("target", po::value<std::vector<std::string>>()->value_name("[LAB] NODE"),
                             "the node (and its lab, when more than one is deployed)")(
      "local", po::bool_switch(), "multi-host lab: only a node of this host (others are reached over ssh)");
  spec.positional.add("target", -1);
  add_state_dir_option(spec);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;
  std::vector<std::string> target;
  if (vm.count("target")) target = vm["target"].as<std::vector<std::string>>();
  if (target.empty()) return usage_error(spec, "which node? give [LAB] NODE");
  if (target.size() > 2) return usage_error(spec, "too many arguments: give [LAB] NODE (netlab exec runs a command)");
  std::string lab = target.size() == 2 ? target[0] : "";
  return run_in_node(host_facts_from(vm), lab, target.back(), {"/bin/sh", "-l"}, /*interactive=*/true, vm["local"].as<bool>());
}

}  // namespace netlab::cli
