// cgroup v1: one directory per hierarchy (cpu, cpuacct, memory, pids). A node
// has its own group in cpu, cpuacct and pids; in memory only when it has a
// memory limit, else it is in its lab's memory group. Every memory cgroup costs
// kernel memory in proportion to the number of superblocks on the host (its
// shrinker info: about 1 KiB per 64 superblocks), and every node mounts about
// ten: a memory group per node made a lab's kernel memory grow with the square
// of its node count (docs/performance.md, "Kernel memory per node").
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <sstream>

#include "node/cgroup.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

namespace netlab::node {

namespace {

class CgroupsV1 : public Cgroups {
 public:
  explicit CgroupsV1(std::string root) : root_(std::move(root)) {}
  CgroupMode mode() const override { return CgroupMode::kV1; }

  std::string dir(const char* h, const std::string& rel) const { return fmt::format("{}/{}/{}", root_, h, rel); }

  // The memory group a node of `rel` is in: its own if it has one, else its lab's.
  std::string memory_dir(const std::string& rel) const {
    std::string own = dir("memory", rel);
    return ::access(own.c_str(), F_OK) == 0 ? own : dir("memory", detail::parent_group(rel));
  }

  void create(const std::string& rel, const CgroupLimits& l) override {
    for (const char* h : kHierarchies)
      if (std::string_view(h) != "memory") detail::mkdir_p(dir(h, rel));
    if (!l.memory_bytes) detail::mkdir_p(dir("memory", detail::parent_group(rel)));
    if (l.cpus) {
      uint64_t period = 100000;
      auto quota = static_cast<uint64_t>(std::llround(*l.cpus * static_cast<double>(period)));
      detail::write_value(dir("cpu", rel) + "/cpu.cfs_period_us", std::to_string(period));
      detail::write_value(dir("cpu", rel) + "/cpu.cfs_quota_us", std::to_string(std::max<uint64_t>(quota, 1000)));
    }
    if (l.weight) detail::write_value(dir("cpu", rel) + "/cpu.shares", std::to_string(weight_to_shares(*l.weight)));
    if (l.memory_bytes) {
      std::string m = dir("memory", rel);
      // A node gets its memory group when it starts (apply restarts a node
      // given its first memory limit: its memory is charged where it was).
      detail::mkdir_p(m);
      // No swap beyond the limit (the file exists only with swap accounting).
      bool memsw = ::access((m + "/memory.memsw.limit_in_bytes").c_str(), W_OK) == 0;
      try {
        detail::write_value(m + "/memory.limit_in_bytes", std::to_string(*l.memory_bytes));
      } catch (const Error& e) {
        // Raising the limit of an existing group (apply): the kernel refuses a
        // memory limit above memsw's with EINVAL, so memsw goes first.
        if (!memsw || e.errnum() != EINVAL) throw;
        detail::write_value(m + "/memory.memsw.limit_in_bytes", std::to_string(*l.memory_bytes));
        detail::write_value(m + "/memory.limit_in_bytes", std::to_string(*l.memory_bytes));
      }
      if (memsw) detail::write_value(m + "/memory.memsw.limit_in_bytes", std::to_string(*l.memory_bytes));
      try {
        detail::write_value(m + "/memory.swappiness", "0");
      } catch (const Error&) {
      }
    }
    if (l.pids) detail::write_value(dir("pids", rel) + "/pids.max", std::to_string(*l.pids));
  }

  void attach(const std::string& rel, pid_t pid) override {
    for (const char* h : kHierarchies)
      detail::write_value((std::string_view(h) == "memory" ? memory_dir(rel) : dir(h, rel)) + "/cgroup.procs",
                          std::to_string(pid));
  }


  std::vector<pid_t> procs(const std::string& rel) override {
    std::vector<pid_t> out;
    std::istringstream in(read_file(dir("pids", rel) + "/cgroup.procs"));
    for (pid_t p; in >> p;) out.push_back(p);
    return out;
  }

  void remove(const std::string& rel) override {
    detail::kill_until_empty(dir("pids", rel) + "/cgroup.procs", 5000);
    bool own_memory = ::access(dir("memory", rel).c_str(), F_OK) == 0;
    for (const char* h : kHierarchies) {
      if (std::string_view(h) == "memory" && !own_memory) continue;
      detail::kill_until_empty(dir(h, rel) + "/cgroup.procs", 5000);
      detail::rmdir_up(fmt::format("{}/{}", root_, h), rel);
    }
    // The lab's memory group goes with the lab's last node (whose pids group,
    // removed above, was the last child of the lab's).
    std::string lab = detail::parent_group(rel);
    // Also when it is missing: a deploy killed inside mkdir_p may have left its parents.
    if (::access(dir("pids", lab).c_str(), F_OK) != 0) {
      detail::kill_until_empty(dir("memory", lab) + "/cgroup.procs", 5000);
      detail::rmdir_up(fmt::format("{}/memory", root_), lab);
    }
  }

  CgroupUsage usage(const std::string& rel) override {
    CgroupUsage u;
    std::string m = dir("memory", rel);
    u.memory_bytes = ::access(m.c_str(), F_OK) == 0 ? std::stoull(detail::read_value(m + "/memory.usage_in_bytes"))
                                                   : detail::resident_bytes(procs(rel));
    u.cpu_ns = std::stoull(detail::read_value(dir("cpuacct", rel) + "/cpuacct.usage"));
    return u;
  }

  std::vector<std::string> limit_files(const std::string& rel) override {
    std::vector<std::string> out;
    for (auto [h, f] : {std::pair{"cpu", "cpu.cfs_quota_us"}, {"cpu", "cpu.cfs_period_us"}, {"cpu", "cpu.shares"},
                        {"memory", "memory.limit_in_bytes"}, {"pids", "pids.max"}})
      out.push_back(fmt::format("{}={}", f, detail::read_value((std::string_view(h) == "memory" ? memory_dir(rel) : dir(h, rel)) + "/" + f)));
    return out;
  }

 private:
  static constexpr const char* kHierarchies[] = {"cpu", "cpuacct", "memory", "pids"};
  std::string root_;
};

}  // namespace

std::unique_ptr<Cgroups> make_cgroups_v1(const std::string& root) { return std::make_unique<CgroupsV1>(root); }

}  // namespace netlab::node
