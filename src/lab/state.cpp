#include "lab/state.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

#include "cluster/part.hpp"
#include "lab/journal.hpp"
#include "lab/lifecycle.hpp"
#include "node/spawn.hpp"
#include "topology/parse.hpp"
#include "util/strings.hpp"

namespace netlab::lab {

std::string saved_topology_path(const HostFacts& facts, const std::string& lab) {
  return lab_dir(facts, lab) + "/topology.toml";
}

std::string part_host_path(const HostFacts& facts, const std::string& lab) {
  return lab_dir(facts, lab) + "/part-host";
}

std::string read_part_host(const HostFacts& facts, const std::string& lab) {
  std::string text;
  try {
    text = read_file(part_host_path(facts, lab));
  } catch (const Error&) {
    return "";
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

void save_topology(const HostFacts& facts, const std::string& lab, const std::string& text) {
  std::string path = saved_topology_path(facts, lab);
  std::string tmp = path + ".tmp";
  write_file(tmp, text, 0600);
  if (::rename(tmp.c_str(), path.c_str()) < 0) throw_errno("saving {}", path);
}

LabState read_lab_state(const HostFacts& facts, const std::string& lab) {
  check_lab_name(lab);
  LabState s;
  s.name = lab;
  JournalContents j;
  try {
    j = load_journal(journal_path(facts, lab));
  } catch (const Error& e) {
    if (e.errnum() == ENOENT) throw LabConflict(ENOENT, "lab {} is not deployed", lab);
    throw;
  }
  struct stat st{};
  if (::stat(journal_path(facts, lab).c_str(), &st) == 0) s.deployed_at = st.st_ctime;
  std::map<std::string, std::string> cgroups;
  for (const auto& a : j.actions)
    if (auto* c = std::get_if<CreateCgroup>(&a)) cgroups[c->node] = c->path;
  Diagnostics diags;
  try {
    // Named as the original file, so relative bind sources resolve as they did at deploy.
    std::string source = saved_topology_path(facts, lab);
    try {
      source = read_file(lab_dir(facts, lab) + "/source");
    } catch (const Error&) {
    }
    s.topology = topo::load_string(read_file(saved_topology_path(facts, lab)), source, diags);
  } catch (const Error&) {
    // No saved copy (deployed through the API from a string): settings unknown.
  }
  // One host's part of a multi-host lab: the saved file is the whole lab; the
  // journal built this host's part of it, computed as deploy --host did.
  if (s.topology && !s.topology->hosts.empty()) {
    s.part_host = read_part_host(facts, lab);
    int h = s.topology->find_host(s.part_host);
    if (h >= 0) {
      s.whole = std::move(s.topology);
      s.topology = cluster::host_part(*s.whole, h);
    }
  }
  // After an apply the journal may start a node more than once (restarted,
  // recreated) or name nodes the lab no longer has: the latest start of each
  // node the saved topology holds is the node.
  std::map<std::string, size_t> latest;
  for (const auto& a : j.actions) {
    auto* n = std::get_if<StartNode>(&a);
    if (!n || (s.topology && s.topology->find_node(n->node) < 0)) continue;
    NodeState ns{n->node, n->pid, n->start_time, cgroups[n->node], false};
    ns.running = node::process_running(n->pid, n->start_time);
    if (auto it = latest.find(n->node); it != latest.end()) {
      s.nodes[it->second] = ns;
    } else {
      latest[n->node] = s.nodes.size();
      s.nodes.push_back(ns);
    }
  }
  return s;
}

}  // namespace netlab::lab
