#include "cli/node_target.hpp"

#include <iostream>

#include <fmt/format.h>

#include "cli/exit_codes.hpp"
#include "cli/whole_lab.hpp"
#include "cluster/remote.hpp"
#include "lab/image_defaults.hpp"
#include "lab/state.hpp"
#include "node/enter.hpp"
#include "topology/names.hpp"
#include "util/strings.hpp"

namespace netlab::cli {

namespace {

// The node runs on another host of a multi-host lab: the command runs there,
// over ssh, with this terminal (shell) or stdin/stdout/stderr (exec) attached.
std::optional<int> run_on_its_host(const lab::HostFacts& facts, const std::string& lab, const std::string& node,
                                   const std::vector<std::string>& argv, bool interactive) {
  auto whole = deployed_whole_lab(facts, lab);
  if (!whole) return std::nullopt;
  int h = whole->host_of(node);
  if (h < 0 || h == whole->self) return std::nullopt;
  const topo::Host& host = whole->lab.hosts[h];
  if (host.ssh.empty()) {
    std::cerr << fmt::format("netlab: node {} of lab {} runs on host {}, which has no ssh target: run netlab {} there\n",
                             node, lab, host.name, interactive ? "shell" : "exec");
    return kExitUserError;
  }
  std::vector<std::string> args = {interactive ? "shell" : "exec", lab, node, "--local"};
  if (!interactive) {
    args.push_back("--");
    args.insert(args.end(), argv.begin(), argv.end());
  }
  try {
    return cluster::run_attached(host, args, interactive);
  } catch (const Error& e) {
    std::cerr << "netlab: " << e.what() << "\n";
    return kExitSystemError;
  }
}

}  // namespace

int run_in_node(const lab::HostFacts& facts, const std::string& lab_name, const std::string& node,
                const std::vector<std::string>& argv, bool interactive, bool local) {
  auto name = resolve_lab_name(facts, lab_name);
  if (!name) return kExitUserError;
  for (auto [kind, given] : {std::pair{topo::NameKind::kLab, *name}, std::pair{topo::NameKind::kNode, node}}) {
    if (auto problem = topo::name_problem(kind, given); !problem.empty()) {
      std::cerr << "netlab: " << problem << "\n";
      return kExitUserError;
    }
  }
  if (!require_root(interactive ? "shell" : "exec")) return kExitUserError;
  try {
    lab::LabState state = lab::read_lab_state(facts, *name);
    const lab::NodeState* target = nullptr;
    std::vector<std::string> names;
    for (const auto& n : state.nodes) {
      names.push_back(n.name);
      if (n.name == node) target = &n;
    }
    if (!target && !local) {
      if (auto rc = run_on_its_host(facts, *name, node, argv, interactive)) return *rc;
    }
    if (!target) {
      std::string best = closest_match(node, names);
      std::cerr << "netlab: lab " << *name << " has no node \"" << node << "\""
                << (best.empty() ? "" : " (did you mean \"" + best + "\"?)") << "\n";
      return kExitUserError;
    }
    if (!target->running) {
      std::cerr << "netlab: node " << node << " of lab " << *name << " is not running\n";
      return kExitSystemError;
    }
    node::EnterSpec spec;
    spec.init_pid = target->pid;
    spec.start_time = target->start_time;
    spec.cgroup = target->cgroup;
    spec.argv = argv;
    spec.interactive = interactive;
    if (state.topology) {
      int i = state.topology->find_node(node);
      if (i >= 0) {
        spec.env = state.topology->nodes[i].env;
        if (auto u = state.topology->nodes[i].user) spec.user = std::make_pair(u->uid, u->gid);
        // A node of a container image: its Env, User and WorkingDir too (as docker exec).
        if (auto d = lab::stored_process_defaults(facts, state.topology->nodes[i])) {
          spec.env = d->env;
          spec.user = d->user;
          spec.workdir = d->workdir;
        }
      }
    }
    auto cgroups = node::make_cgroups();
    return node::exec_in_node(spec, *cgroups);
  } catch (const Error& e) {
    std::cerr << "netlab: exec in " << node << ": " << message_for(e) << "\n";
    return exit_code_for(e);
  }
}

}  // namespace netlab::cli
