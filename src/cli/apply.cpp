// netlab apply FILE [--dry-run] [--local]
#include <iostream>
#include <iterator>

#include "cli/apply_hosts.hpp"
#include "cli/common.hpp"
#include "cli/exit_codes.hpp"
#include "cli/whole_lab.hpp"
#include "topology/parse.hpp"

namespace netlab::cli {

int run_apply(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab apply FILE [--dry-run] [--local] [--state-dir DIR]";
  spec.summary =
      "Change the running lab named in FILE to match FILE, touching only what differs (docs/apply.md); "
      "a multi-host lab on every host (the others over ssh) unless --local. "
      "On failure every change is undone.";
  spec.options.add_options()
      ("file", po::value<std::string>()->required(), "topology file (- reads it from stdin)")
      ("dry-run,n", po::bool_switch(), "print the change plan (every step, in order) and change nothing")
      ("local", po::bool_switch(), "multi-host lab: only this host's part (the other hosts are left alone)")
      ("source-name", po::value<std::string>()->default_value("<stdin>")->value_name("NAME"),
       "with FILE -: the name the topology goes by in messages");
  spec.positional.add("file", 1);
  add_state_dir_option(spec);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;

  std::string file = vm["file"].as<std::string>();
  std::optional<std::string> text;
  std::optional<topo::Lab> topology;
  if (file == "-") {
    text = std::string(std::istreambuf_iterator<char>(std::cin), {});
    Diagnostics diags;
    topology = topo::load_string(*text, vm["source-name"].as<std::string>(), diags);
    if (!diags.all().empty()) std::cerr << diags.render(*text);
  } else {
    topology = load_topology(file);
  }
  if (!topology) return kExitUserError;
  lab::HostFacts facts = host_facts_from(vm);
  bool dry_run = vm["dry-run"].as<bool>();
  if (vm["local"].as<bool>()) return apply_part(*topology, text, facts, dry_run, std::cout, std::cerr);
  if (!topology->hosts.empty() || deployed_whole_lab(facts, topology->name))
    return apply_whole_lab(*topology, text, facts, dry_run);
  return apply_here(*topology, text, facts, dry_run, std::cout, std::cerr);
}

}  // namespace netlab::cli
