// What a deployed lab is, read from its state directory: the journal (nodes'
// pids, start times, cgroups) and the topology saved at deploy time (for the
// nodes' environment, user, image and limits). Used by exec, shell and inspect.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lab/plan.hpp"
#include "topology/model.hpp"

namespace netlab::lab {

struct NodeState {
  std::string name;
  int pid = 0;
  uint64_t start_time = 0;
  std::string cgroup;
  bool running = false;  // pid alive with the journaled start time
};

struct LabState {
  std::string name;
  std::vector<NodeState> nodes;
  std::optional<topo::Lab> topology;  // as deployed
  int64_t deployed_at = 0;            // unix time of the journal's creation
  // Multi-host: this host's part. `topology` is then the part (what the
  // journal built), `whole` the whole lab as in the saved file.
  std::string part_host;
  std::optional<topo::Lab> whole;
};

/// Throws LabConflict(ENOENT) "lab X is not deployed" when it has no state.
LabState read_lab_state(const HostFacts& facts, const std::string& lab);

/// The saved copy of the topology a lab was deployed from (and applied since).
std::string saved_topology_path(const HostFacts& facts, const std::string& lab);

/// <lab-dir>/part-host: the name of the host whose part of a multi-host lab
/// this host deployed (written by deploy before its first action).
std::string part_host_path(const HostFacts& facts, const std::string& lab);
/// That name, or "" for a lab that is not a host's part (or has no record).
std::string read_part_host(const HostFacts& facts, const std::string& lab);

/// Saves the topology text a lab now runs at saved_topology_path, atomically
/// (a temporary file renamed over it). deploy writes it; apply replaces it.
void save_topology(const HostFacts& facts, const std::string& lab, const std::string& text);

}  // namespace netlab::lab
