// cgroup v1: one directory per hierarchy (cpu, cpuacct, memory, pids); a node
// is in all of them.
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

  void create(const std::string& rel, const CgroupLimits& l) override {
    for (const char* h : kHierarchies) detail::mkdir_p(dir(h, rel));
    if (l.cpus) {
      uint64_t period = 100000;
      auto quota = static_cast<uint64_t>(std::llround(*l.cpus * static_cast<double>(period)));
      detail::write_value(dir("cpu", rel) + "/cpu.cfs_period_us", std::to_string(period));
      detail::write_value(dir("cpu", rel) + "/cpu.cfs_quota_us", std::to_string(std::max<uint64_t>(quota, 1000)));
    }
    if (l.weight) detail::write_value(dir("cpu", rel) + "/cpu.shares", std::to_string(weight_to_shares(*l.weight)));
    if (l.memory_bytes) {
      std::string m = dir("memory", rel);
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
    for (const char* h : kHierarchies) detail::write_value(dir(h, rel) + "/cgroup.procs", std::to_string(pid));
  }


  std::vector<pid_t> procs(const std::string& rel) override {
    std::vector<pid_t> out;
    std::istringstream in(read_file(dir("pids", rel) + "/cgroup.procs"));
    for (pid_t p; in >> p;) out.push_back(p);
    return out;
  }

  void remove(const std::string& rel) override {
    detail::kill_until_empty(dir("pids", rel) + "/cgroup.procs", 5000);
    for (const char* h : kHierarchies) {
      detail::kill_until_empty(dir(h, rel) + "/cgroup.procs", 5000);
      detail::rmdir_up(fmt::format("{}/{}", root_, h), rel);
    }
  }

  CgroupUsage usage(const std::string& rel) override {
    CgroupUsage u;
    u.memory_bytes = std::stoull(detail::read_value(dir("memory", rel) + "/memory.usage_in_bytes"));
    u.cpu_ns = std::stoull(detail::read_value(dir("cpuacct", rel) + "/cpuacct.usage"));
    return u;
  }

  std::vector<std::string> limit_files(const std::string& rel) override {
    std::vector<std::string> out;
    for (auto [h, f] : {std::pair{"cpu", "cpu.cfs_quota_us"}, {"cpu", "cpu.cfs_period_us"}, {"cpu", "cpu.shares"},
                        {"memory", "memory.limit_in_bytes"}, {"pids", "pids.max"}})
      out.push_back(fmt::format("{}={}", f, detail::read_value(dir(h, rel) + "/" + f)));
    return out;
  }

 private:
  static constexpr const char* kHierarchies[] = {"cpu", "cpuacct", "memory", "pids"};
  std::string root_;
};

}  // namespace

std::unique_ptr<Cgroups> make_cgroups_v1(const std::string& root) { return std::make_unique<CgroupsV1>(root); }

}  // namespace netlab::node
