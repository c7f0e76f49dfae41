#include "node/cgroup.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <limits>
#include <linux/magic.h>
#include <sstream>
#include <thread>

#include "util/error.hpp"
#include "util/strings.hpp"

namespace netlab::node {

std::unique_ptr<Cgroups> make_cgroups(const std::string& root) {
  struct statfs fs{};
  if (::statfs(root.c_str(), &fs) < 0) throw_errno("detecting the cgroup mode of {}", root);
  if (fs.f_type == CGROUP2_SUPER_MAGIC) return make_cgroups_v2(root);
  return make_cgroups_v1(root);
}

uint64_t weight_to_shares(uint32_t weight) {
  // cpu.weight 1..10000 (default 100) ↔ cpu.shares 2..262144 (default 1024).
  return std::max<uint64_t>(2, static_cast<uint64_t>(weight) * 1024 / 100);
}

namespace detail {

void write_value(const std::string& path, const std::string& value) { write_file(path, value); }

std::string read_value(const std::string& path) { return std::string(trim(read_file(path))); }

void mkdir_p(const std::string& path) {
  // Usually the parent exists (every node after a lab's first): one call.
  if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return;
  if (errno != ENOENT) throw_errno("creating cgroup {}", path);
  // A parent can vanish under us when another lab's destroy removes the shared
  // parent it found empty: start again from the top (ENOENT), a few times.
  for (int attempt = 0;; ++attempt) {
    size_t pos = 1;
    bool vanished = false;
    while (!vanished) {
      pos = path.find('/', pos);
      std::string part = path.substr(0, pos);
      if (::mkdir(part.c_str(), 0755) < 0 && errno != EEXIST) {
        if (errno != ENOENT || attempt >= 10 || pos == 1) throw_errno("creating cgroup {}", part);
        vanished = true;
        continue;
      }
      if (pos == std::string::npos) return;
      ++pos;
    }
  }
}

void kill_until_empty(const std::string& procs_file, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    std::string text;
    try {
      text = read_file(procs_file);
    } catch (const Error& e) {
      if (e.errnum() == ENOENT) return;
      throw;
    }
    std::istringstream in(text);
    bool any = false;
    for (pid_t pid; in >> pid;) {
      any = true;
      ::kill(pid, SIGKILL);  // membership of this group is the identity (no pid reuse inside it)
    }
    if (!any) return;
    if (std::chrono::steady_clock::now() > deadline)
      throw Error(EBUSY, "cgroup {} still has processes after SIGKILL", procs_file);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // exiting tasks leave within a few ms
  }
}

namespace {

bool has_child_groups(const std::string& path) {
  // kernfs keeps a directory's link count at 2 + its subdirectories: O(1),
  // where listing a lab's group with a thousand nodes in it is not.
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && st.st_nlink > 2;
}

bool has_live_processes(const std::string& path) {
  // cgroup.procs leaves out processes that have exited and wait to be reaped.
  std::ifstream in(path + "/cgroup.procs");
  pid_t pid = 0;
  return static_cast<bool>(in >> pid);
}

// cgroupfs answers EBUSY both for a group still in use (tasks or child groups)
// and for one whose last task or child is still being torn down: a killed task
// lingers until it is reaped, and a removed child stays "online" until an RCU
// grace period has passed. Only the second is worth waiting for. Returns false
// when the group is in use.
bool remove_unused_group(const std::string& path) {
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return true;
    if (errno != EBUSY) throw_errno("removing cgroup {}", path);
    // A v1 lab memory group holds the processes of nodes without a memory limit.
    if (has_child_groups(path) || has_live_processes(path) || attempt > 500) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace

std::string parent_group(const std::string& rel) {
  auto slash = rel.rfind('/');
  return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

uint64_t resident_bytes(const std::vector<pid_t>& pids) {
  // Proportional set size: pages shared between the processes (the image's
  // text, libraries) are divided among them instead of counted in each.
  uint64_t total = 0;
  for (pid_t pid : pids) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
    for (std::string key; in >> key;) {  // a process that has just gone counts nothing
      uint64_t kib = 0;
      if (key == "Pss:" && in >> kib) {
        total += kib * 1024;
        break;
      }
      in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
  }
  return total;
}

void rmdir_up(const std::string& root, const std::string& rel) {
  std::string path = root + "/" + rel;
  if (!remove_unused_group(path)) throw Error(EBUSY, "removing cgroup {}: still in use", path);
  std::string parent = rel;
  while (true) {
    auto slash = parent.rfind('/');
    if (slash == std::string::npos) return;
    parent.resize(slash);
    if (!remove_unused_group(root + "/" + parent)) return;  // another node or lab still uses it
  }
}

}  // namespace detail
}  // namespace netlab::node
