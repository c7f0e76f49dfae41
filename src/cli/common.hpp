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

/// The lab a verb acts on: the name given if it is deployed, else the only deployed
/// lab; prints why not ("lab natwg is not deployed (did you mean natgw?)").
std::optional<std::string> resolve_lab_name(const lab::HostFacts& facts, const std::string& given);

/// " (did you mean \"natgw\"?)" when a deployed lab's name is close to `name`, else "".
std::string lab_hint(const lab::HostFacts& facts, const std::string& name);

/// Maps an operational error to an exit code: EEXIST/EBUSY/ENOENT on a lab → user error.
int exit_code_for(const Error& e);

/// The message for the user: a lab-level refusal (LabConflict) reads as a sentence,
/// without the errno it carries for code ("lab x is not deployed", not "...(ENOENT)").
std::string message_for(const Error& e);

/// True when netlab runs as root; otherwise says that `verb` needs root and returns
/// false (checked before anything is touched).
bool require_root(const std::string& verb);

}  // namespace netlab::cli
