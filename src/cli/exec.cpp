// netlab exec [LAB] NODE -- CMD [ARGS...]
#include <iostream>

#include "cli/exit_codes.hpp"
#include "cli/node_target.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"

namespace netlab::cli {

int run_exec(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab exec [LAB] NODE -- CMD [ARGS...]";
  spec.summary =
      "Run CMD inside NODE: its namespaces, cgroup and root filesystem. The exit code is CMD's;\n"
      "stdin, stdout and stderr pass through. LAB may be omitted when one lab is deployed.";
  spec.options.add_options()("target", po::value<std::vector<std::string>>()->value_name("[LAB] NODE"),
                             "the node (and its lab, when more than one is deployed)")(
      "local", po::bool_switch(), "multi-host lab: only a node of this host (others are reached over ssh)");
  spec.positional.add("target", -1);
  add_state_dir_option(spec);
  auto dash = std::find(args.begin(), args.end(), "--");
  Args before(args.begin(), dash);
  std::vector<std::string> command;
  if (dash != args.end()) command.assign(dash + 1, args.end());
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, before, vm); rc >= 0) return rc;
  std::vector<std::string> target;
  if (vm.count("target")) target = vm["target"].as<std::vector<std::string>>();
  if (target.empty()) return usage_error(spec, "which node? give [LAB] NODE -- CMD");
  if (dash == args.end()) {
    // Where the -- belongs: after LAB NODE when the first word is a deployed lab.
    auto labs = lab::list_labs(host_facts_from(vm));
    size_t cmd_at = std::find(labs.begin(), labs.end(), target[0]) != labs.end() ? 2 : 1;
    std::string hint = "netlab exec";
    for (size_t i = 0; i < target.size(); ++i) hint += (i == cmd_at ? " -- " : " ") + target[i];
    return usage_error(spec, "no -- before the command (write: " + hint + ")");
  }
  if (target.size() > 2) return usage_error(spec, "too many words before --: give [LAB] NODE");
  if (command.empty()) return usage_error(spec, "no command after --");
  std::string lab = target.size() == 2 ? target[0] : "";
  return run_in_node(host_facts_from(vm), lab, target.back(), command, false, vm["local"].as<bool>());
}

}  // namespace netlab::cli
