// netlab inspect [LAB] [--json] [--raw] [--stats]
#include <iostream>

#include "cli/common.hpp"
#include "cli/exit_codes.hpp"
#include "cli/whole_lab.hpp"
#include "lab/inspect.hpp"
#include "lab/stats.hpp"

namespace netlab::cli {

int run_inspect(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab inspect [LAB] [--stats] [--json] [--raw] [--local] [--state-dir DIR]";
  spec.summary =
      "Show a deployed lab as the kernel reports it: nodes, interfaces (DOWN after netlab link\n"
      "down), NAT and firewall, bridges. docs/inspect.md describes the JSON. A multi-host lab is shown\n"
      "whole (the other hosts' parts over ssh, a HOST column, \"host\" in the JSON) unless --local.";
  spec.options.add_options()
      ("lab", po::value<std::string>()->default_value("")->value_name("LAB"), "lab name (may be omitted when one lab is deployed)")
      ("json", po::bool_switch(), "machine-readable output")
      ("raw", po::bool_switch(), "with --json: each nft chain's rules as the kernel's bytecode dump")
      ("stats", po::bool_switch(), "per interface rx/tx packets, bytes, drops and errors (nodes, bridges, ports)")
      ("local", po::bool_switch(), "multi-host lab: only this host's part");
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
    bool stats = vm["stats"].as<bool>();
    auto whole = vm["local"].as<bool>() ? std::optional<WholeLab>() : deployed_whole_lab(facts, *name);
    if (whole && whole->reachable().empty()) {
      // Parts run by another orchestrator (no ssh targets): this host's part, said so.
      std::cerr << "netlab: lab " << *name << " spans " << whole->lab.hosts.size()
                << " hosts and no other host has an ssh target: showing this host's part only\n";
      whole.reset();
    }
    if (whole) {
      std::vector<std::string> extra;
      if (stats) extra.push_back("--stats");
      if (vm["raw"].as<bool>()) extra.push_back("--raw");
      bool ok = true;
      auto info = inspect_whole_lab(*whole, facts, extra, &ok);
      if (vm["json"].as<bool>()) std::cout << info.dump(2) << "\n";
      else std::cout << (stats ? lab::render_stats(info) : lab::render_inspect(info));
      return ok ? kExitOk : kExitSystemError;
    }
    auto info = stats ? lab::interface_stats(facts, *name) : lab::inspect_lab(facts, *name, vm["raw"].as<bool>());
    if (vm["json"].as<bool>()) std::cout << info.dump(2) << "\n";
    else std::cout << (stats ? lab::render_stats(info) : lab::render_inspect(info));
    return kExitOk;
  } catch (const Error& e) {
    std::cerr << "netlab: inspect: " << message_for(e) << "\n";
    return exit_code_for(e);
  }
}

}  // namespace netlab::cli
