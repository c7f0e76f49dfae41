// netlab deploy FILE [--dry-run] [--reconfigure]
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/common.hpp"
#include "cli/exit_codes.hpp"
#include "cli/interrupt.hpp"
#include "cli/multihost.hpp"
#include "cli/progress.hpp"
#include "lab/node_status.hpp"
#include "lab/plan.hpp"

namespace netlab::cli {

int run_deploy(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab deploy FILE [--dry-run] [--reconfigure] [--host NAME] [--state-dir DIR]";
  spec.summary =
      "Build the lab described by FILE (with --host, only that host's part of a multi-host lab).\n"
      "On failure, or when interrupted (Ctrl-C, SIGTERM), everything already built is undone.";
  spec.options.add_options()
      ("file", po::value<std::string>()->required()->value_name("FILE"), "topology file")
      ("dry-run,n", po::bool_switch(), "print the plan (every action, in order) and change nothing")
      ("reconfigure", po::bool_switch(), "destroy the lab first if it is deployed")
      ("host", po::value<std::string>()->default_value(""), "multi-host lab: deploy only this host's part");
  spec.positional.add("file", 1);
  add_state_dir_option(spec);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;

  auto topology = load_topology(vm["file"].as<std::string>());
  if (!topology) return kExitUserError;
  if (deploys_over_ssh(*topology, vm["host"].as<std::string>(), vm["dry-run"].as<bool>()))
    return deploy_over_ssh(*topology, vm["file"].as<std::string>(), std::cout, vm["reconfigure"].as<bool>());
  if (!select_host_part(*topology, vm["host"].as<std::string>(), vm["dry-run"].as<bool>(), std::cout))
    return kExitUserError;
  lab::HostFacts facts = host_facts_from(vm);
  if (vm["dry-run"].as<bool>()) {
    std::cout << lab::render_plan(lab::plan(*topology, facts));
    return kExitOk;
  }
  if (!require_root("deploy")) return kExitUserError;
  InterruptGuard interrupt;
  Progress progress(topology->nodes.size(), topology->links.size());
  try {
    if (vm["reconfigure"].as<bool>()) {
      auto r = lab::destroy_lab(topology->name, facts, real_backend_factory(facts));
      if (!r.report.ok()) {
        for (const auto& f : r.report.failures) std::cerr << "netlab: " << f << "\n";
        std::cerr << "netlab: lab " << topology->name << " could not be removed; not redeploying\n";
        return kExitPartial;
      }
    }
    lab::ApplyOptions options;
    lab::apply_options_from_env(options);
    options.progress = progress.callback();
    options.cancel = interrupt.flag();
    auto r = lab::deploy_lab(*topology, facts, real_backend_factory(facts), options);
    progress.finish();
    std::cout << "lab " << topology->name << " deployed: " << topology->nodes.size() << " nodes, "
              << topology->links.size() << " links, " << r.actions << " actions, " << r.kernel_requests
              << " netlink requests in " << fmt::format("{:.2f}", r.seconds) << " s\n";
    try {
      for (const auto& w : lab::ended_command_warnings(facts, topology->name))
        std::cerr << "netlab: warning: " << w << "\n";
    } catch (const Error& e) {
      std::cerr << "netlab: warning: cannot read the nodes' state: " << e.what() << "\n";
    }
    if (int sig = interrupt.signal()) {
      // The signal came after the last phase: the lab is complete and stays.
      std::cerr << "netlab: " << InterruptGuard::name(sig) << " arrived after lab " << topology->name
                << " was up; it stays deployed (netlab destroy --lab " << topology->name << " removes it)\n";
      return 128 + sig;
    }
    return kExitOk;
  } catch (const lab::DeployError& e) {
    progress.finish();
    int sig = interrupt.signal();
    if (sig) std::cerr << "netlab: deploy of lab " << topology->name << " interrupted by " << InterruptGuard::name(sig) << "\n";
    else std::cerr << "netlab: " << message_for(e) << "\n";
    if (e.rollback().ok()) {
      std::cerr << "netlab: rolled back " << e.rollback().removed << " objects; nothing of lab "
                << topology->name << " remains\n";
    } else {
      std::cerr << "netlab: rollback could not remove:\n";
      for (const auto& f : e.rollback().failures) std::cerr << "  " << f << "\n";
      std::cerr << "netlab: run `netlab destroy --lab " << topology->name << "` to retry\n";
    }
    return sig ? 128 + sig : exit_code_for(e);
  } catch (const Error& e) {
    progress.finish();
    std::cerr << "netlab: deploy: " << message_for(e) << "\n";
    return interrupt.signal() ? 128 + interrupt.signal() : exit_code_for(e);
  }
}

}  // namespace netlab::cli
