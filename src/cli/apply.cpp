// netlab apply FILE [--dry-run]
#include <iostream>

#include "cli/common.hpp"
#include "cli/exit_codes.hpp"
#include "cli/whole_lab.hpp"
#include "lab/apply_lab.hpp"

namespace netlab::cli {

int run_apply(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab apply FILE [--dry-run] [--state-dir DIR]";
  spec.summary =
      "Change the running lab named in FILE to match FILE, touching only what differs (docs/apply.md). "
      "On failure every change is undone.";
  spec.options.add_options()
      ("file", po::value<std::string>()->required(), "topology file")
      ("dry-run,n", po::bool_switch(), "print the change plan (every step, in order) and change nothing");
  spec.positional.add("file", 1);
  add_state_dir_option(spec);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;

  auto topology = load_topology(vm["file"].as<std::string>());
  if (!topology) return kExitUserError;
  lab::HostFacts facts = host_facts_from(vm);
  // Not built yet: applying one file to several hosts' parts at once (each
  // part's diff, and a rollback of every part when one fails).
  if (!topology->hosts.empty() || deployed_whole_lab(facts, topology->name)) {
    std::cerr << "netlab: apply: lab " << topology->name
              << " spans several hosts, and apply does not change multi-host labs yet: destroy it (netlab destroy "
              << topology->file << ") and deploy the edited file\n";
    return kExitUserError;
  }
  try {
    if (vm["dry-run"].as<bool>()) {
      std::cout << lab::render_change_plan(lab::plan_apply(*topology, facts));
      return kExitOk;
    }
    lab::ApplyOptions options;
    lab::apply_options_from_env(options);
    auto r = lab::apply_lab(*topology, facts, real_backend_factory(facts), options);
    if (r.recovered) std::cout << "lab " << topology->name << ": an interrupted apply was rolled back first\n";
    if (r.plan.steps.empty()) {
      std::cout << "lab " << topology->name << " already matches " << topology->file << ": nothing to change\n";
      return kExitOk;
    }
    std::cout << "lab " << topology->name << " applied: " << r.plan.steps.size() << " steps ("
              << r.plan.added.size() << " nodes added, " << r.plan.removed.size() << " removed, "
              << r.plan.recreated.size() << " recreated, " << r.plan.restarted.size() << " restarted, "
              << r.plan.programs.size() << " programs restarted), "
              << r.kernel_requests << " netlink requests in " << fmt::format("{:.3f}", r.seconds) << " s\n";
    return kExitOk;
  } catch (const lab::DeployError& e) {
    std::cerr << "netlab: " << e.what() << "\n";
    if (e.rollback().ok()) {
      std::cerr << "netlab: rolled back; lab " << topology->name << " is as it was before this apply\n";
    } else {
      std::cerr << "netlab: rollback could not restore:\n";
      for (const auto& f : e.rollback().failures) std::cerr << "  " << f << "\n";
      std::cerr << "netlab: the next `netlab apply` retries it; `netlab destroy --lab " << topology->name
                << "` removes the lab\n";
    }
    return exit_code_for(e);
  } catch (const Error& e) {
    std::cerr << "netlab: apply: " << e.what() << "\n";
    return exit_code_for(e);
  }
}

}  // namespace netlab::cli
