// netlab link up|down [LAB] NODE:IFACE — plug or pull a cable (both veth ends).
#include <iostream>

#include "cli/common.hpp"
#include "cli/exit_codes.hpp"
#include "lab/link_control.hpp"

namespace netlab::cli {

int run_link(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab link up|down [LAB] NODE:IFACE [--state-dir DIR]";
  spec.summary =
      "Take both ends of a deployed link down (like pulling the cable) or bring them up again.\n"
      "(Changing impairments live, `link set`, needs netem and is not built yet.)";
  spec.options.add_options()("words", po::value<std::vector<std::string>>(), "up|down [LAB] NODE:IFACE");
  spec.positional.add("words", -1);
  add_state_dir_option(spec);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;
  std::vector<std::string> w;
  if (vm.count("words")) w = vm["words"].as<std::vector<std::string>>();
  if (w.size() < 2 || w.size() > 3 || (w[0] != "up" && w[0] != "down")) {
    std::cerr << "usage: " << spec.usage << "\n";
    return kExitUserError;
  }
  lab::HostFacts facts = host_facts_from(vm);
  auto name = resolve_lab_name(facts, w.size() == 3 ? w[1] : "");
  if (!name) return kExitUserError;
  try {
    lab::set_link_state(facts, *name, w.back(), w[0] == "up");
    std::cout << "link " << w.back() << " of lab " << *name << " is " << w[0] << "\n";
    return kExitOk;
  } catch (const Error& e) {
    std::cerr << "netlab: link " << w[0] << ": " << e.what() << "\n";
    return exit_code_for(e);
  }
}

}  // namespace netlab::cli
