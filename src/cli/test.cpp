// netlab test FILE [--keep] [--junit OUT.xml] [--json] [--jobs N]
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "cli/common.hpp"
#include "cli/exit_codes.hpp"
#include "lab/checks.hpp"
#include "lab/state.hpp"

namespace netlab::cli {

int run_test(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab test FILE [--keep] [--junit OUT.xml] [--json] [--jobs N] [--state-dir DIR]";
  spec.summary =
      "Run the topology's [[checks]]: deploy the lab if it is not up (and destroy it afterwards\n"
      "unless --keep), run the checks in parallel group by group (a check's `group`; a `within`\n"
      "check retries until it passes), print a table. Exit 4 when a check fails or is skipped.";
  spec.options.add_options()
      ("file", po::value<std::string>()->required(), "topology file")
      ("keep", po::bool_switch(), "leave a lab this command deployed running")
      ("junit", po::value<std::string>(), "write JUnit XML to this file")
      ("json", po::bool_switch(), "print the results as JSON")
      ("jobs,j", po::value<int>()->default_value(static_cast<int>(std::max(2L, sysconf(_SC_NPROCESSORS_ONLN)))),
       "checks run at once");
  spec.positional.add("file", 1);
  add_state_dir_option(spec);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;
  auto topology = load_topology(vm["file"].as<std::string>());
  if (!topology) return kExitUserError;
  lab::HostFacts facts = host_facts_from(vm);
  auto factory = real_backend_factory(facts);
  bool deployed_here = false;
  std::vector<lab::CheckResult> results;
  try {
    auto labs = lab::list_labs(facts);
    if (std::find(labs.begin(), labs.end(), topology->name) == labs.end()) {
      lab::deploy_lab(*topology, facts, factory);
      deployed_here = true;
    }
    results = lab::run_checks(*topology, facts, vm["jobs"].as<int>());
  } catch (const Error& e) {
    std::cerr << "netlab: test: " << e.what() << "\n";
    if (deployed_here && !vm["keep"].as<bool>()) lab::destroy_lab(topology->name, facts, factory);
    return exit_code_for(e);
  }
  if (vm["json"].as<bool>()) std::cout << lab::results_json(results).dump(2) << "\n";
  else std::cout << lab::render_results(results);
  if (vm.count("junit")) {
    std::ofstream(vm["junit"].as<std::string>()) << lab::results_junit(topology->name, results);
  }
  int rc = kExitOk;
  for (const auto& r : results)
    if (r.skipped) {
      rc = kExitChecksFailed;
      std::cerr << "netlab: check \"" << r.name << "\" on " << r.node << " " << r.got << "\n";
    } else if (!r.passed) {
      rc = kExitChecksFailed;
      std::cerr << "netlab: check \"" << r.name << "\" on " << r.node << " failed: expected " << r.expected
                << ", got " << r.got << "\n";
    }
  if (deployed_here && !vm["keep"].as<bool>()) {
    auto d = lab::destroy_lab(topology->name, facts, factory);
    if (!d.report.ok()) {
      for (const auto& f : d.report.failures) std::cerr << "netlab: " << f << "\n";
      return kExitPartial;
    }
  }
  return rc;
}

}  // namespace netlab::cli
