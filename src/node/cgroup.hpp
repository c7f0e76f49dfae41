// cgroups, v1 and v2, behind one interface (crun's backend table): a group per
// node under a group per lab under a parent ("netlab"), with CPU quota, CPU
// weight, memory (no swap beyond it) and pid limits. A node has a memory cgroup
// of its own only when it has a memory limit (v1), or when a node of its lab
// has one (v2, where the controller is enabled for all children of a group):
// each memory cgroup costs kernel memory that grows with the host's superblocks. The mode is detected from
// the filesystem magic of the cgroup root. Knows nothing of links or NAT.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/fd.hpp"

namespace netlab::node {

enum class CgroupMode { kV1, kV2 };

struct CgroupLimits {
  std::optional<double> cpus;           // cores
  std::optional<uint64_t> memory_bytes;
  std::optional<uint64_t> pids;
  std::optional<uint32_t> weight;       // 1..10000 (v2 scale)
};

struct CgroupUsage {
  uint64_t memory_bytes = 0;
  uint64_t cpu_ns = 0;
};

class Cgroups {
 public:
  virtual ~Cgroups() = default;
  virtual CgroupMode mode() const = 0;
  /// Creates <root>/<rel> (and missing parents) in every hierarchy and writes the limits.
  virtual void create(const std::string& rel, const CgroupLimits& limits) = 0;
  /// Moves `pid` into the group (every hierarchy on v1).
  virtual void attach(const std::string& rel, pid_t pid) = 0;
  /// Pids in the group (one hierarchy suffices: v1 nodes are in all of them).
  virtual std::vector<pid_t> procs(const std::string& rel) = 0;
  /// Kills what is left in the group, waits until it is empty (bounded), removes
  /// it and then its parents up to the root while they are empty. ENOENT = gone.
  virtual void remove(const std::string& rel) = 0;
  virtual CgroupUsage usage(const std::string& rel) = 0;
  /// The limits as the kernel reports them, "file=value" lines (inspect and tests).
  virtual std::vector<std::string> limit_files(const std::string& rel) = 0;
};

/// Detects the mode under `root` (statfs magic) and returns its backend.
std::unique_ptr<Cgroups> make_cgroups(const std::string& root = "/sys/fs/cgroup");
std::unique_ptr<Cgroups> make_cgroups_v1(const std::string& root);
std::unique_ptr<Cgroups> make_cgroups_v2(const std::string& root);

/// v1 cpu.shares for a v2-scale weight (systemd's mapping: 100 ↔ 1024).
uint64_t weight_to_shares(uint32_t weight);

namespace detail {
void write_value(const std::string& path, const std::string& value);
std::string read_value(const std::string& path);
void mkdir_p(const std::string& path);
/// SIGKILLs every pid in `procs_file` until it reads empty (or `timeout_ms` passes).
void kill_until_empty(const std::string& procs_file, int timeout_ms);
void rmdir_up(const std::string& root, const std::string& rel);
/// "a/b/c" -> "a/b" (a node's group -> its lab's); "" for a top-level group.
std::string parent_group(const std::string& rel);
/// Memory of these processes (their proportional set size), for a node without a memory group.
uint64_t resident_bytes(const std::vector<pid_t>& pids);
}  // namespace detail

}  // namespace netlab::node
