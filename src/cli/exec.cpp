// netlab exec [LAB] NODE -- CMD [ARGS...]
#include <iostream>

#include "cli/exit_codes.hpp"
#include "cli/node_target.hpp"

namespace netlab::cli {

int run_exec(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab exec [LAB] NODE -- CMD [ARGS...]";
  spec.summary =
      "Run CMD inside NODE: its namespaces, cgroup and root filesystem. The exit code is CMD's;\n"
      "stdin, stdout and stderr pass through. LAB may be omitted when one lab is deployed.";
  spec.options.add_options()("target", po::value<std::vector<std::string>>(), "[LAB] NODE");
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
  if (target.empty() || target.size() > 2 || command.empty()) {
    std::cerr << "usage: " << spec.usage << "\n";
    return kExitUserError;
  }
  std::string lab = target.size() == 2 ? target[0] : "";
  return run_in_node(host_facts_from(vm), lab, target.back(), command);
}

}  // namespace netlab::cli
