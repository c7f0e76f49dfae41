// netlab test FILE [--keep] [--junit OUT.xml] [--json] [--jobs N]
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/common.hpp"
#include "cli/exit_codes.hpp"
#include "cli/interrupt.hpp"
#include "cli/whole_lab.hpp"
#include "lab/checks.hpp"
#include "lab/state.hpp"
#include "util/strings.hpp"

namespace netlab::cli {

namespace {

// A deployed lab runs the checks of FILE only if it was deployed from the same text:
// checks of an edited file against the old lab would pass or fail for the wrong reason.
bool same_as_deployed(const topo::Lab& topology, const lab::HostFacts& facts) {
  std::string saved_path = lab::saved_topology_path(facts, topology.name);
  std::string saved, current;
  try {
    saved = read_file(saved_path);
  } catch (const Error&) {
    std::cerr << "netlab test: warning: lab " << topology.name
              << " has no saved topology; cannot tell whether it was deployed from " << topology.file << "\n";
    return true;
  }
  try {
    current = read_file(topology.file);
  } catch (const Error& e) {
    std::cerr << "netlab test: " << e.what() << "\n";
    return false;
  }
  if (saved == current) return true;
  std::cerr << "netlab test: " << topology.file << " differs from the topology lab " << topology.name
            << " was deployed from (" << saved_path << ");\n"
            << "  redeploy it (netlab deploy --reconfigure " << topology.file << ") or destroy it (netlab destroy --lab "
            << topology.name << "), then test again\n";
  return false;
}

// Prints the results (table or JSON, and --junit); 4 when a check failed or was skipped.
int report(const topo::Lab& topology, const std::vector<lab::CheckResult>& results, const po::variables_map& vm,
           std::ofstream& junit) {
  if (vm["json"].as<bool>()) std::cout << lab::results_json(results).dump(2) << "\n";
  else std::cout << lab::render_results(results);
  int rc = kExitOk;
  if (junit.is_open()) {
    junit << lab::results_junit(topology.name, results);
    junit.close();
    if (!junit) {
      std::cerr << "netlab test: writing --junit " << vm["junit"].as<std::string>() << " failed\n";
      rc = kExitSystemError;
    }
  }
  for (const auto& r : results) {
    std::string where = r.host.empty() ? r.node : r.node + " (host " + r.host + ")";
    if (r.skipped) {
      rc = std::max(rc, kExitChecksFailed);
      std::cerr << "netlab: check \"" << r.name << "\" on " << where << " " << r.got << "\n";
    } else if (!r.passed) {
      rc = std::max(rc, kExitChecksFailed);
      std::cerr << "netlab: check \"" << r.name << "\" on " << where << " failed: expected " << r.expected
                << ", got " << r.got << "\n";
    }
  }
  return rc;
}

// `test FILE --host NAME`: the checks of host NAME's nodes, in its part
// deployed here (as `netlab test FILE` of a multi-host lab runs on each host).
struct HostPartRun {
  int group_index = -1;      // --group-index
  int listen_for = -1;       // --listen-for: serve that check's listener, nothing else
  bool remote_listeners = false;
};

int test_host_part(const topo::Lab& topology, const std::string& host, const HostPartRun& run,
                   const lab::HostFacts& facts, int jobs, std::vector<lab::CheckResult>& results) {
  int h = topology.find_host(host);
  if (topology.hosts.empty() || h < 0) {
    std::cerr << "netlab test: --host " << host << ": lab " << topology.name
              << (topology.hosts.empty() ? " has no [hosts.NAME] tables\n" : " has no such host\n");
    return kExitUserError;
  }
  auto labs = lab::list_labs(facts);
  if (std::find(labs.begin(), labs.end(), topology.name) == labs.end() ||
      lab::read_part_host(facts, topology.name) != host) {
    std::cerr << "netlab test: host " << host << "'s part of lab " << topology.name
              << " is not deployed here (netlab deploy " << topology.file << " --host " << host << ")\n";
    return kExitUserError;
  }
  if (!same_as_deployed(topology, facts)) return kExitUserError;
  if (run.listen_for >= 0) {
    if (run.listen_for >= static_cast<int>(topology.checks.size()) ||
        topology.checks[run.listen_for].kind != topo::CheckKind::kConnect) {
      std::cerr << "netlab test: --listen-for " << run.listen_for << ": lab " << topology.name
                << " has no connect check of that index\n";
      return kExitUserError;
    }
    try {
      lab::serve_listener(facts, topology, topology.checks[run.listen_for], 1, 0);
    } catch (const Error& e) {
      std::cerr << "netlab test: " << message_for(e) << "\n";
      return exit_code_for(e);
    }
    return -1;  // nothing more to print
  }
  std::vector<lab::CheckResult> refused;
  topo::Lab mine = topology;
  mine.checks.clear();
  for (auto& hc : lab::checks_of_host(topology, h, run.group_index, run.remote_listeners ? nullptr : &refused))
    mine.checks.push_back(std::move(hc.check));
  try {
    results = lab::run_checks(mine, facts, jobs);
  } catch (const Error& e) {
    std::cerr << "netlab test: " << message_for(e) << "\n";
    return exit_code_for(e);
  }
  results.insert(results.end(), refused.begin(), refused.end());
  return kExitOk;
}

}  // namespace

int run_test(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab test FILE [--keep] [--junit OUT.xml] [--json] [--jobs N] [--host NAME] [--state-dir DIR]";
  spec.summary =
      "Run the topology's [[checks]]: deploy the lab if it is not up (and destroy it afterwards\n"
      "unless --keep), run the checks in parallel group by group (a check's `group`; a `within`\n"
      "check retries until it passes), print a table. Exit 4 when a check fails or is skipped.\n"
      "A lab already up must have been deployed from the same file. Interrupted (Ctrl-C,\n"
      "SIGTERM), it destroys the lab it deployed. A multi-host lab (every host with an ssh target)\n"
      "runs each check on its node's host over ssh and reports one table (NODE@HOST).";
  spec.options.add_options()
      ("file", po::value<std::string>()->required()->value_name("FILE"), "topology file")
      ("keep", po::bool_switch(), "leave a lab this command deployed running")
      ("junit", po::value<std::string>()->value_name("OUT.xml"), "write JUnit XML to this file")
      ("json", po::bool_switch(), "print the results as JSON")
      ("jobs,j", po::value<int>()->default_value(static_cast<int>(std::max(2L, sysconf(_SC_NPROCESSORS_ONLN))))->value_name("N"),
       "checks run at once")
      ("host", po::value<std::string>()->value_name("NAME"),
       "multi-host lab: run only the checks whose node runs on host NAME, in its part deployed here")
      ("group-index", po::value<int>()->default_value(-1)->value_name("G"),
       "with --host: only the checks of the G-th group (0-based, in order of first appearance)")
      ("remote-listeners", po::bool_switch(),
       "with --host: a connect check whose listener is on another host only connects (its listener is run there)")
      ("listen-for", po::value<int>()->default_value(-1)->value_name("I"),
       "with --host: run only the listener of the I-th check (0-based), print ready and what it saw; stdin's end stops it");
  spec.positional.add("file", 1);
  add_state_dir_option(spec);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;
  if (vm["jobs"].as<int>() < 1) return usage_error(spec, "--jobs must be at least 1");
  auto topology = load_topology(vm["file"].as<std::string>());
  if (!topology) return kExitUserError;
  // The report's file is opened before anything is deployed: a bad path fails now.
  std::ofstream junit;
  if (vm.count("junit")) {
    junit.open(vm["junit"].as<std::string>());
    if (!junit) {
      std::cerr << "netlab test: cannot write --junit " << vm["junit"].as<std::string>() << ": "
                << describe_errno(errno) << "\n";
      return kExitUserError;
    }
  }
  if (!require_root("test")) return kExitUserError;
  lab::HostFacts facts = host_facts_from(vm);
  auto factory = real_backend_factory(facts);
  bool keep = vm["keep"].as<bool>();
  bool deployed_here = false;
  std::vector<lab::CheckResult> results;
  std::string host = vm.count("host") ? vm["host"].as<std::string>() : "";
  if (!host.empty() || !topology->hosts.empty()) {
    int rc = kExitOk;
    if (host.empty()) {
      rc = test_whole_lab(*topology, vm["file"].as<std::string>(), keep, vm["jobs"].as<int>(), results);
    } else {
      HostPartRun run{vm["group-index"].as<int>(), vm["listen-for"].as<int>(), vm["remote-listeners"].as<bool>()};
      rc = test_host_part(*topology, host, run, facts, vm["jobs"].as<int>(), results);
      if (rc < 0) return kExitOk;  // a listener: it printed its own answer
    }
    if (rc != kExitOk && results.empty()) return rc;
    return std::max(rc, report(*topology, results, vm, junit));
  }
  InterruptGuard interrupt;
  try {
    auto labs = lab::list_labs(facts);
    if (std::find(labs.begin(), labs.end(), topology->name) == labs.end()) {
      lab::ApplyOptions options;
      options.cancel = interrupt.flag();
      lab::deploy_lab(*topology, facts, factory, options);
      deployed_here = true;
    } else if (!same_as_deployed(*topology, facts)) {
      return kExitUserError;
    }
    // From here a signal (a CI timeout) destroys what this command deployed, at once.
    std::string name = topology->name;
    interrupt.on_interrupt([&facts, &factory, name, deployed_here, keep](int sig) {
      if (deployed_here && !keep) {
        auto d = lab::destroy_lab(name, facts, factory);
        std::cerr << "netlab test: " << InterruptGuard::name(sig) << ": "
                  << (d.report.ok() ? "destroyed lab " + name
                                    : "lab " + name + " could not be fully removed: " + join(d.report.failures, "; "))
                  << "\n";
      } else {
        std::cerr << "netlab test: " << InterruptGuard::name(sig) << ": stopped; lab " << name
                  << " (not deployed by this command, or --keep) stays\n";
      }
      ::_exit(128 + sig);
    });
    results = lab::run_checks(*topology, facts, vm["jobs"].as<int>());
  } catch (const lab::DeployError& e) {
    int sig = interrupt.signal();
    if (sig) std::cerr << "netlab test: deploy of lab " << topology->name << " interrupted by " << InterruptGuard::name(sig);
    else std::cerr << "netlab test: " << message_for(e);
    std::cerr << (e.rollback().ok() ? "; rolled back, nothing of it remains\n"
                                    : "; rollback incomplete: " + join(e.rollback().failures, "; ") + "\n");
    return sig ? 128 + sig : exit_code_for(e);
  } catch (const Error& e) {
    interrupt.on_interrupt(nullptr);
    std::cerr << "netlab test: " << message_for(e) << "\n";
    if (deployed_here && !keep) lab::destroy_lab(topology->name, facts, factory);
    return exit_code_for(e);
  }
  int rc = report(*topology, results, vm, junit);
  interrupt.on_interrupt(nullptr);  // waits for a destroy a signal started (which exits)
  if (deployed_here && !keep) {
    auto d = lab::destroy_lab(topology->name, facts, factory);
    if (!d.report.ok()) {
      for (const auto& f : d.report.failures) std::cerr << "netlab: " << f << "\n";
      return kExitPartial;
    }
  }
  if (int sig = interrupt.signal()) return 128 + sig;
  return rc;
}

}  // namespace netlab::cli
