#include "cli/common.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <iostream>

#include "cli/exit_codes.hpp"
#include "lab/real_backend.hpp"
#include "topology/parse.hpp"
#include "util/strings.hpp"

namespace netlab::cli {

void add_state_dir_option(VerbSpec& spec) {
  spec.options.add_options()("state-dir", po::value<std::string>()->value_name("DIR"),
                             "state directory (default $NETLAB_STATE_DIR or /run/netlab)");
}

lab::HostFacts host_facts_from(const po::variables_map& vm) {
  lab::HostFacts f;
  f.state_dir = state_dir_from(vm);
  if (const char* p = std::getenv("NETLAB_CGROUP_PARENT"); p && *p) f.cgroup_parent = p;
  return f;
}

lab::BackendFactory real_backend_factory(const lab::HostFacts& facts) {
  return [facts](const topo::Lab* lab) { return lab::make_real_backend(lab, facts); };
}

std::optional<topo::Lab> load_topology(const std::string& path) {
  Diagnostics diags;
  auto lab = topo::load_file(path, diags);
  if (!diags.all().empty()) {
    std::string source;
    try {
      source = read_file(path);
    } catch (const Error&) {
    }
    std::cerr << diags.render(source);
  }
  return lab;
}

std::string lab_hint(const lab::HostFacts& facts, const std::string& name) {
  std::string best = closest_match(name, lab::list_labs(facts));
  return best.empty() || best == name ? "" : " (did you mean \"" + best + "\"?)";
}

std::optional<std::string> resolve_lab_name(const lab::HostFacts& facts, const std::string& given) {
  auto labs = lab::list_labs(facts);
  if (!given.empty()) {
    if (std::find(labs.begin(), labs.end(), given) != labs.end()) return given;
    std::cerr << "netlab: lab \"" << given << "\" is not deployed" << lab_hint(facts, given);
    if (labs.empty()) std::cerr << " (no lab is deployed in " << facts.state_dir << ")";
    std::cerr << "\n";
    return std::nullopt;
  }
  if (labs.size() == 1) return labs.front();
  if (labs.empty())
    std::cerr << "netlab: no lab is deployed (state directory " << facts.state_dir << ")\n";
  else
    std::cerr << "netlab: " << labs.size() << " labs are deployed (" << join(labs, ", ")
              << "); name one\n";
  return std::nullopt;
}

int exit_code_for(const Error& e) {
  return dynamic_cast<const lab::LabConflict*>(&e) ? kExitUserError : kExitSystemError;
}

std::string message_for(const Error& e) {
  if (!dynamic_cast<const lab::LabConflict*>(&e)) return e.what();
  std::string out;
  for (const auto& step : e.context()) {
    if (step.empty()) continue;
    if (!out.empty()) out += ": ";
    out += step;
  }
  return out;
}

bool require_root(const std::string& verb) {
  if (::geteuid() == 0) return true;
  std::cerr << "netlab " << verb
            << ": netlab needs root to build and change labs (namespaces, cgroups, /run/netns); "
               "run it with sudo\n";
  return false;
}

}  // namespace netlab::cli
