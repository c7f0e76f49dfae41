// netlab help [VERB], netlab version (also --version).
#include <iostream>

#include "cli/exit_codes.hpp"
#include "cli/options.hpp"

#ifndef NETLAB_VERSION
#define NETLAB_VERSION "unknown"
#endif

namespace netlab::cli {

int run_help(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab help [VERB]";
  spec.summary = "Show the list of verbs, or the help of VERB (the same as netlab VERB --help).";
  spec.options.add_options()("verb", po::value<std::string>()->value_name("VERB"), "a verb");
  spec.positional.add("verb", 1);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;
  if (!vm.count("verb")) {
    print_usage(std::cout);
    return kExitOk;
  }
  std::string name = vm["verb"].as<std::string>();
  for (const auto& v : verb_table())
    if (name == v.name) {
      print_verb_help(describe_verb(v), std::cout);
      return kExitOk;
    }
  std::string best = suggest_verb(name);
  return usage_error(spec, "unknown verb \"" + name + "\"" +
                               (best.empty() ? "" : " (did you mean \"" + best + "\"?)"));
}

int run_version(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab version [--json]";
  spec.summary = "Print netlab's version.";
  spec.options.add_options()("json", po::bool_switch(), "machine-readable output");
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;
  if (vm["json"].as<bool>())
    std::cout << "{\"name\": \"netlab\", \"version\": \"" NETLAB_VERSION "\"}\n";
  else
    std::cout << "netlab " NETLAB_VERSION "\n";
  return kExitOk;
}

}  // namespace netlab::cli
