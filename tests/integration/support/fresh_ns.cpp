#include "support/fresh_ns.hpp"

#include "netlink/netns.hpp"

#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace netlab::testing {

namespace {

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(path, ec)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> list_tree(const std::string& path) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(path, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(path, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec) break;
    out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

const char* kCgroupHierarchies[] = {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/memory",
                                    "/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified"};

}  // namespace

std::string run_shell(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    if (status) *status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

std::string LeakSnapshot::diff(const LeakSnapshot& after) const {
  std::ostringstream out;
  auto cmp = [&](const char* what, const std::vector<std::string>& a,
                 const std::vector<std::string>& b) {
    for (const auto& x : b)
      if (std::find(a.begin(), a.end(), x) == a.end()) out << "  + " << what << " " << x << "\n";
    for (const auto& x : a)
      if (std::find(b.begin(), b.end(), x) == b.end()) out << "  - " << what << " " << x << "\n";
  };
  cmp("netns", netns_pins, after.netns_pins);
  cmp("link", links, after.links);
  cmp("mount", mounts, after.mounts);
  cmp("cgroup", cgroups, after.cgroups);
  cmp("nft table", nft_tables, after.nft_tables);
  cmp("state file", state_files, after.state_files);
  for (int c : after.children)
    if (std::find(children.begin(), children.end(), c) == children.end())
      out << "  + child pid " << c << "\n";
  return out.str();
}

std::vector<std::pair<int, std::string>> child_processes(int pid) {
  std::vector<std::pair<int, std::string>> out;
  std::ifstream children("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  for (int c; children >> c;) {
    std::ifstream comm("/proc/" + std::to_string(c) + "/comm");
    std::string name;
    std::getline(comm, name);
    out.emplace_back(c, name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void FreshNamespaceTest::SetUp() {
  if (geteuid() != 0) GTEST_SKIP() << "integration tests need root";
  if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
    if (errno == EPERM) GTEST_SKIP() << "unshare: EPERM (no namespace privileges here)";
    FAIL() << "unshare(CLONE_NEWNET|CLONE_NEWNS): " << strerror(errno);
  }
  entered_ = true;
  ASSERT_EQ(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0) << strerror(errno);

  // A private /run: /run/netns pins and /run/netlab state are this test's alone.
  ASSERT_EQ(mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755"), 0) << strerror(errno);
  // /run/netns as deploy leaves it (a shared bind of itself, as `ip netns add`
  // makes it), so leak snapshots compare pins, not that one mount. The bare
  // host (no /run/netns at all) is host_itest's.
  nl::ensure_pin_dir("/run/netns");
  mkdir("/run/netlab", 0700);
  state_dir_ = "/run/netlab";

  // sysfs must match the new netns (/sys/class/net); keep the cgroup mounts by
  // moving them aside and back over the fresh sysfs.
  const std::string stash = "/run/.cgroup-stash";
  mkdir(stash.c_str(), 0700);
  bool stashed = mount("/sys/fs/cgroup", stash.c_str(), nullptr, MS_BIND | MS_REC, nullptr) == 0;
  if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0 && stashed) {
    ASSERT_EQ(mount(stash.c_str(), "/sys/fs/cgroup", nullptr, MS_MOVE, nullptr), 0) << strerror(errno);
  } else if (stashed) {
    umount2(stash.c_str(), MNT_DETACH);
  }
  rmdir(stash.c_str());

  pid_t pid = getpid();
  cgroup_parent_ = "netlab-test-" + std::to_string(pid);
  lab_prefix_ = std::to_string(pid % 100000);
  lab_prefix_.insert(0, 1, 't');
  int rc = 0;
  run_shell("ip link set lo up", &rc);
}

void FreshNamespaceTest::TearDown() {
  if (!entered_) return;
  for (const char* h : kCgroupHierarchies) {
    std::string dir = std::string(h) + "/" + cgroup_parent_;
    EXPECT_FALSE(fs::exists(dir)) << "cgroup left behind: " << dir;
  }
  // cgroupfs and the PID namespace are the host's: after a failure, end the
  // processes this test's labs left (found by cgroup membership) and remove
  // the groups, so one failing test does not leave work for the next.
  for (const char* h : kCgroupHierarchies) {
    std::string dir = std::string(h) + "/" + cgroup_parent_;
    if (!fs::exists(dir)) continue;
    for (int round = 0; round < 200; ++round) {
      bool any = false;
      std::error_code ec;
      for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec || it->path().filename() != "cgroup.procs") continue;
        std::ifstream procs(it->path());
        for (int pid; procs >> pid;) {
          any = true;
          kill(pid, SIGKILL);
        }
      }
      if (!any) break;
      usleep(5000);
    }
    run_shell("find " + dir + " -depth -type d -exec rmdir {} + 2>/dev/null");
  }
}

LeakSnapshot FreshNamespaceTest::snapshot() const {
  LeakSnapshot s;
  s.netns_pins = list_dir("/run/netns");
  s.links = list_dir("/sys/class/net");
  std::ifstream mi("/proc/self/mountinfo");
  for (std::string line; std::getline(mi, line);) {
    std::istringstream fields(line);
    std::string id, parent, devs, root, point;
    fields >> id >> parent >> devs >> root >> point;
    s.mounts.push_back(point);
  }
  std::sort(s.mounts.begin(), s.mounts.end());
  for (const char* h : kCgroupHierarchies) {
    for (auto& p : list_tree(std::string(h) + "/" + cgroup_parent_)) s.cgroups.push_back(p);
  }
  std::istringstream tables(run_shell("nft list tables 2>/dev/null"));
  for (std::string line; std::getline(tables, line);) s.nft_tables.push_back(line);
  // The busybox image is a cache shared by every lab (like a container image),
  // built by the first deploy and kept; everything else must go.
  for (auto& f : list_tree(state_dir_))
    if (f.rfind(state_dir_ + "/images", 0) != 0) s.state_files.push_back(f);
  std::ifstream children("/proc/self/task/" + std::to_string(getpid()) + "/children");
  for (int c; children >> c;) s.children.push_back(c);
  return s;
}

}  // namespace netlab::testing
