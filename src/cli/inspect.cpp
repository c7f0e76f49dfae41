// netlab inspect [LAB] [--json] [--raw]
#include <iostream>

#include "cli/common.hpp"
#include "cli/exit_codes.hpp"
#include "lab/inspect.hpp"

namespace netlab::cli {

int run_inspect(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab inspect [LAB] [--json] [--raw] [--state-dir DIR]";
  spec.summary =
      "Show a deployed lab as the kernel reports it: nodes, interfaces (DOWN after netlab link\n"
      "down), NAT and firewall, bridges. docs/inspect.md describes the JSON.";
  spec.options.add_options()
      ("lab", po::value<std::string>()->default_value("")->value_name("LAB"), "lab name (may be omitted when one lab is deployed)")
      ("json", po::bool_switch(), "machine-readable output")
      ("raw", po::bool_switch(), "with --json: each nft chain's rules as the kernel's bytecode dump");
  spec.positional.add("lab", 1);
  add_state_dir_option(spec);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;
  if (vm["raw"].as<bool>() && !vm["json"].as<bool>()) return usage_error(spec, "--raw goes with --json");
  lab::HostFacts facts = host_facts_from(vm);
  auto name = resolve_lab_name(facts, vm["lab"].as<std::string>());
  if (!name) return kExitUserError;
  if (!require_root("inspect")) return kExitUserError;
  try {
    auto info = lab::inspect_lab(facts, *name, vm["raw"].as<bool>());
    std::cout << (vm["json"].as<bool>() ? info.dump(2) + "\n" : lab::render_inspect(info));
    return kExitOk;
  } catch (const Error& e) {
    std::cerr << "netlab: inspect: " << message_for(e) << "\n";
    return exit_code_for(e);
  }
}

}  // namespace netlab::cli
