// netlab destroy FILE | --lab NAME | --all
#include <iostream>

#include "cli/common.hpp"
#include "cli/exit_codes.hpp"
#include "cli/interrupt.hpp"
#include "cli/whole_lab.hpp"
#include "util/strings.hpp"

namespace netlab::cli {

namespace {

int destroy_one(const std::string& name, const lab::HostFacts& facts) {
  auto r = lab::destroy_lab(name, facts, real_backend_factory(facts));
  if (r.nothing_to_do && r.report.ok()) {
    std::cout << "lab " << name << ": nothing to do (not deployed)" << lab_hint(facts, name) << "\n";
    return kExitOk;
  }
  if (!r.report.ok()) {
    std::cerr << "netlab: lab " << name << ": " << r.report.failures.size()
              << " objects could not be removed:\n";
    for (const auto& f : r.report.failures) std::cerr << "  " << f << "\n";
    std::cerr << "netlab: the journal is kept; running destroy again is safe\n";
    return kExitPartial;
  }
  std::cout << "lab " << name << " destroyed: " << r.report.removed << " objects in "
            << fmt::format("{:.2f}", r.seconds) << " s\n";
  return kExitOk;
}

}  // namespace

int run_destroy(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab destroy FILE | --lab NAME | --all [--local] [--state-dir DIR]";
  spec.summary =
      "Remove a lab and everything it created, from its journal alone. A multi-host lab is removed\n"
      "from every host (the others over ssh) unless --local.";
  spec.options.add_options()
      ("file", po::value<std::string>()->value_name("FILE"), "topology file (its `name` selects the lab)")
      ("lab", po::value<std::string>()->value_name("LAB"), "lab name")
      ("all", po::bool_switch(), "every deployed lab")
      ("local", po::bool_switch(), "multi-host lab: only this host's part (the other hosts are left alone)");
  spec.positional.add("file", 1);
  add_state_dir_option(spec);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;
  lab::HostFacts facts = host_facts_from(vm);
  // Exactly one way of naming the labs: two would leave one of them silently ignored.
  std::vector<std::string> given;
  if (vm.count("file")) given.push_back("FILE");
  if (vm.count("lab")) given.push_back("--lab");
  if (vm["all"].as<bool>()) given.push_back("--all");
  if (given.size() > 1)
    return usage_error(spec, join(given, " and ") + " both name labs; give exactly one of FILE, --lab NAME, --all");
  if (given.empty()) return usage_error(spec, "which lab? give FILE, --lab NAME or --all");
  if (!require_root("destroy")) return kExitUserError;
  InterruptGuard interrupt("netlab: interrupted; destroy goes on to its end");  // a destroy runs to its end; a signal only sets the exit code

  bool local = vm["local"].as<bool>();
  std::vector<std::string> names;
  std::optional<WholeLab> from_file;  // destroy FILE of a multi-host lab: every host, deployed here or not
  if (vm["all"].as<bool>()) {
    names = lab::list_labs(facts);
    if (names.empty()) std::cout << "no lab is deployed\n";
  } else if (vm.count("lab")) {
    names.push_back(vm["lab"].as<std::string>());
  } else if (vm.count("file")) {
    auto topology = load_topology(vm["file"].as<std::string>());
    if (!topology) return kExitUserError;
    names.push_back(topology->name);
    if (!topology->hosts.empty() && !local) from_file = whole_lab_of(*topology, facts);
  }
  int rc = kExitOk;
  for (const auto& name : names) {
    try {
      std::optional<WholeLab> whole = from_file;
      if (!whole && !local) whole = deployed_whole_lab(facts, name);
      rc = std::max(rc, whole ? destroy_whole_lab(*whole, facts) : destroy_one(name, facts));
    } catch (const Error& e) {
      std::cerr << "netlab: destroy " << name << ": " << message_for(e) << "\n";
      rc = std::max(rc, exit_code_for(e));
    }
  }
  if (int sig = interrupt.signal()) {
    std::cerr << "netlab: " << InterruptGuard::name(sig) << " received; destroy finished first\n";
    return 128 + sig;
  }
  return rc;
}

}  // namespace netlab::cli
