// netlab ls [--json]: deployed labs with node counts and age.
#include <sys/stat.h>

#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/common.hpp"
#include "cli/exit_codes.hpp"
#include "lab/journal.hpp"
#include "lab/node_status.hpp"

namespace netlab::cli {

int run_ls(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab ls [--json] [--state-dir DIR]";
  spec.summary = "List deployed labs.";
  spec.options.add_options()("json", po::bool_switch(), "machine-readable output");
  add_state_dir_option(spec);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;
  lab::HostFacts facts = host_facts_from(vm);

  nlohmann::json labs = nlohmann::json::array();
  for (const auto& name : lab::list_labs(facts)) {
    nlohmann::json entry = {{"name", name}, {"nodes", 0}, {"age_seconds", 0}, {"state", "unknown"}};
    std::string jpath = lab::journal_path(facts, name);
    struct stat st{};
    if (::stat(jpath.c_str(), &st) == 0) {
      entry["age_seconds"] = static_cast<int64_t>(std::time(nullptr) - st.st_mtime);
      try {
        auto contents = lab::load_journal(jpath);
        int nodes = 0, running = 0;
        for (const auto& a : contents.actions)
          if (auto* s = std::get_if<lab::StartNode>(&a)) {
            ++nodes;
            if (s->pid) ++running;
          }
        entry["nodes"] = nodes;
        entry["state"] = running == nodes && nodes > 0 ? "deployed" : "partial";
        entry["cmds"] = lab::cmd_summary(facts, name);
      } catch (const Error& e) {
        entry["state"] = std::string("unreadable: ") + e.what();
      }
    }
    labs.push_back(entry);
  }
  if (vm["json"].as<bool>()) {
    std::cout << labs.dump(2) << "\n";
    return kExitOk;
  }
  if (labs.empty()) {
    std::cout << "no lab is deployed\n";
    return kExitOk;
  }
  std::cout << fmt::format("{:<14} {:>6} {:>10}  {:<10} {}\n", "LAB", "NODES", "AGE", "STATE", "CMDS");
  for (const auto& l : labs) {
    // CMDS: how many nodes' `cmd` run, and which have ended ("3 running; r2 exited 1").
    std::string cmds = "-";
    if (l.contains("cmds")) {
      const auto& c = l["cmds"];
      cmds = fmt::format("{} running", c["running"].get<int>());
      for (const auto& e : c["ended"])
        cmds += fmt::format("; {} {}", e["node"].get<std::string>(), e["text"].get<std::string>());
    }
    std::cout << fmt::format("{:<14} {:>6} {:>9}s  {:<10} {}\n", l["name"].get<std::string>(),
                             l["nodes"].get<int>(), l["age_seconds"].get<int64_t>(),
                             l["state"].get<std::string>(), cmds);
  }
  return kExitOk;
}

}  // namespace netlab::cli
