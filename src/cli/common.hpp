// Helpers shared by the verbs that act on labs: host facts from options and
// environment, the real backend factory, loading a topology with diagnostics.
#pragma once

#include <optional>
#include <string>

#include "cli/options.hpp"
#include "lab/lifecycle.hpp"
#include "topology/model.hpp"

namespace netlab::cli {

/// Adds --state-dir to a verb's options.
void add_state_dir_option(VerbSpec& spec);

/// --state-dir / NETLAB_STATE_DIR, NETLAB_CGROUP_PARENT (default "netlab").
lab::HostFacts host_facts_from(const po::variables_map& vm);

lab::BackendFactory real_backend_factory(const lab::HostFacts& facts);

/// Loads a topology; prints every diagnostic (with source lines) to stderr.
std::optional<topo::Lab> load_topology(const std::string& path);

/// The lab a verb acts on: the name given, else the only deployed lab; prints why not.
std::optional<std::string> resolve_lab_name(const lab::HostFacts& facts, const std::string& given);

/// Maps an operational error to an exit code: EEXIST/EBUSY/ENOENT on a lab → user error.
int exit_code_for(const Error& e);

}  // namespace netlab::cli
