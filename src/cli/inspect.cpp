// netlab inspect [LAB] [--json]
#include <iostream>

#include "cli/common.hpp"
#include "cli/exit_codes.hpp"
#include "lab/inspect.hpp"

namespace netlab::cli {

int run_inspect(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab inspect [LAB] [--json] [--state-dir DIR]";
  spec.summary = "Show a deployed lab as the kernel reports it (docs/inspect.md describes the JSON).";
  spec.options.add_options()("lab", po::value<std::string>()->default_value(""), "lab name")(
      "json", po::bool_switch(), "machine-readable output");
  spec.positional.add("lab", 1);
  add_state_dir_option(spec);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;
  lab::HostFacts facts = host_facts_from(vm);
  auto name = resolve_lab_name(facts, vm["lab"].as<std::string>());
  if (!name) return kExitUserError;
  try {
    auto info = lab::inspect_lab(facts, *name);
    std::cout << (vm["json"].as<bool>() ? info.dump(2) + "\n" : lab::render_inspect(info));
    return kExitOk;
  } catch (const Error& e) {
    std::cerr << "netlab: inspect: " << e.what() << "\n";
    return exit_code_for(e);
  }
}

}  // namespace netlab::cli
