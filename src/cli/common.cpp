#include "cli/common.hpp"

#include "lab/diff.hpp"

#include <cerrno>
#include <cstdlib>
#include <iostream>

#include "cli/exit_codes.hpp"
#include "lab/real_backend.hpp"
#include "topology/parse.hpp"
#include "util/strings.hpp"

namespace netlab::cli {

void add_state_dir_option(VerbSpec& spec) {
  spec.options.add_options()("state-dir", po::value<std::string>(),
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

std::optional<std::string> resolve_lab_name(const lab::HostFacts& facts, const std::string& given) {
  if (!given.empty()) return given;
  auto labs = lab::list_labs(facts);
  if (labs.size() == 1) return labs.front();
  if (labs.empty())
    std::cerr << "netlab: no lab is deployed (state directory " << facts.state_dir << ")\n";
  else
    std::cerr << "netlab: " << labs.size() << " labs are deployed (" << join(labs, ", ")
              << "); name one\n";
  return std::nullopt;
}

int exit_code_for(const Error& e) {
  if (dynamic_cast<const lab::LabConflict*>(&e) || dynamic_cast<const lab::ApplyRefused*>(&e)) return kExitUserError;
  return kExitSystemError;
}

}  // namespace netlab::cli
