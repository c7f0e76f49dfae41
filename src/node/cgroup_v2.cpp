// cgroup v2: one tree; controllers are enabled for children through
// cgroup.subtree_control on every ancestor of a node's group: cpu and pids
// always, memory only on the way to a node with a memory limit (each memory
// cgroup costs kernel memory that grows with the host's superblocks; see
// cgroup_v1.cpp).
#include <fcntl.h>
#include <sys/stat.h>
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

class CgroupsV2 : public Cgroups {
 public:
  explicit CgroupsV2(std::string root) : root_(std::move(root)) {}
  CgroupMode mode() const override { return CgroupMode::kV2; }

  std::string dir(const std::string& rel) const { return root_ + "/" + rel; }

  void create(const std::string& rel, const CgroupLimits& l) override {
    // Enable the controllers in every ancestor's subtree_control, then create the leaf.
    std::string path = root_;
    const char* controllers = l.memory_bytes ? "+cpu +memory +pids" : "+cpu +pids";
    for (const auto& part : split(rel, '/')) {
      try {
        detail::write_value(path + "/cgroup.subtree_control", controllers);
      } catch (const Error& e) {
        throw Error(e.errnum(), "enabling the {} controllers in {}", controllers, path);
      }
      path += "/" + part;
      if (::mkdir(path.c_str(), 0755) < 0 && errno != EEXIST) throw_errno("creating cgroup {}", path);
    }
    std::string d = dir(rel);
    if (l.cpus) {
      uint64_t period = 100000;
      auto quota = static_cast<uint64_t>(std::llround(*l.cpus * static_cast<double>(period)));
      detail::write_value(d + "/cpu.max", fmt::format("{} {}", std::max<uint64_t>(quota, 1000), period));
    }
    if (l.weight) detail::write_value(d + "/cpu.weight", std::to_string(*l.weight));
    if (l.memory_bytes) {
      detail::write_value(d + "/memory.max", std::to_string(*l.memory_bytes));
      if (::access((d + "/memory.swap.max").c_str(), F_OK) == 0) detail::write_value(d + "/memory.swap.max", "0");
    }
    if (l.pids) detail::write_value(d + "/pids.max", std::to_string(*l.pids));
  }

  void attach(const std::string& rel, pid_t pid) override {
    detail::write_value(dir(rel) + "/cgroup.procs", std::to_string(pid));
  }

  std::vector<pid_t> procs(const std::string& rel) override {
    std::vector<pid_t> out;
    std::istringstream in(read_file(dir(rel) + "/cgroup.procs"));
    for (pid_t p; in >> p;) out.push_back(p);
    return out;
  }

  void remove(const std::string& rel) override {
    // cgroup.kill (5.14+) kills the whole subtree at once; fall back to one by one.
    if (::access((dir(rel) + "/cgroup.kill").c_str(), W_OK) == 0) {
      try {
        detail::write_value(dir(rel) + "/cgroup.kill", "1");
      } catch (const Error&) {
      }
    }
    detail::kill_until_empty(dir(rel) + "/cgroup.procs", 5000);
    detail::rmdir_up(root_, rel);
  }

  CgroupUsage usage(const std::string& rel) override {
    CgroupUsage u;
    std::string current = dir(rel) + "/memory.current";
    u.memory_bytes = ::access(current.c_str(), F_OK) == 0 ? std::stoull(detail::read_value(current))
                                                          : detail::resident_bytes(procs(rel));
    std::istringstream in(read_file(dir(rel) + "/cpu.stat"));
    for (std::string key; in >> key;) {
      uint64_t v = 0;
      in >> v;
      if (key == "usage_usec") u.cpu_ns = v * 1000;
    }
    return u;
  }

  std::vector<std::string> limit_files(const std::string& rel) override {
    std::vector<std::string> out;
    for (const char* f : {"cpu.max", "cpu.weight", "memory.max", "pids.max"}) {
      std::string path = dir(rel) + "/" + f;
      // No memory controller here: no node of the lab has a memory limit.
      bool absent = std::string_view(f) == "memory.max" && ::access(path.c_str(), F_OK) != 0;
      out.push_back(fmt::format("{}={}", f, absent ? "max" : detail::read_value(path)));
    }
    return out;
  }

 private:
  std::string root_;
};

}  // namespace

std::unique_ptr<Cgroups> make_cgroups_v2(const std::string& root) { return std::make_unique<CgroupsV2>(root); }

}  // namespace netlab::node
