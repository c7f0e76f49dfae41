// netlab on the hosts people have, next to the tools they use (issue #15):
// a bare /run (no /run/netns, no state dir), iproute2's `ip netns` before,
// between and after deploys, pins hidden under a later bind of /run/netns,
// pins and host interfaces of others (left alone, by identity), a second
// deploy of a running lab from another state dir (issue #21), SIGKILL at any
// instant, and a hostile tree in a node's root.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "lab/lifecycle.hpp"
#include "lab/real_backend.hpp"
#include "support/lab_fixture.hpp"
#include "topology/parse.hpp"
#include "util/strings.hpp"

namespace netlab::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> mountinfo_lines_at(const std::string& point) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, devs, root, mp;
    f >> id >> parent >> devs >> root >> mp;
    if (mp == point) out.push_back(line);
  }
  return out;
}

std::vector<std::string> mount_points() {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, devs, root, mp;
    f >> id >> parent >> devs >> root >> mp;
    out.push_back(mp);
  }
  std::sort(out.begin(), out.end());
  return out;
}

mode_t mode_of(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) < 0) return 0;
  return st.st_mode & 07777;
}

uint64_t inode_of(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) < 0) return 0;
  return st.st_ino;
}

class HostTest : public LabTest {
 protected:
  // The host as a fresh machine has it: /run is an empty tmpfs.
  void bare_run() {
    hidden_netns_mounts_ = mountinfo_lines_at("/run/netns").size();  // the fixture's, under the new /run
    ASSERT_EQ(::mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755"), 0) << strerror(errno);
    files_dir_ = "/run/netlab-test-files";
    ::mkdir(files_dir_.c_str(), 0755);
  }
  size_t netns_dir_mounts() const { return mountinfo_lines_at("/run/netns").size() - hidden_netns_mounts_; }
  size_t hidden_netns_mounts_ = 0;
  std::string demo_topology() {
    // The README's demo file as shipped: lab natgw, default paths.
    return std::string(NETLAB_SOURCE_DIR) + "/topologies/nat-gateway.toml";
  }
  void ip(const std::string& args) {
    int rc = -1;
    std::string out = run_shell("ip " + args + " 2>&1", &rc);
    ASSERT_EQ(rc, 0) << "ip " << args << ": " << out;
  }
  // What a deploy may leave after destroy on a bare host: /run/netns (a shared
  // bind of itself, as iproute2 leaves it) and the image cache.
  void expect_nothing_of_natgw_left(const std::vector<std::string>& mounts_before, const std::string& extra_pin = "") {
    std::vector<std::string> pins = entries("/run/netns");
    std::vector<std::string> expected_pins;
    if (!extra_pin.empty()) expected_pins.push_back(extra_pin);
    EXPECT_EQ(pins, expected_pins);
    auto state = entries("/run/netlab");
    state.erase(std::remove(state.begin(), state.end(), "images"), state.end());
    EXPECT_TRUE(state.empty()) << join(state, ", ");
    auto after = mount_points();
    std::vector<std::string> added;
    for (const auto& m : after)
      if (std::count(after.begin(), after.end(), m) > std::count(mounts_before.begin(), mounts_before.end(), m))
        added.push_back(m);
    added.erase(std::unique(added.begin(), added.end()), added.end());
    added.erase(std::remove(added.begin(), added.end(), "/run/netns/" + extra_pin), added.end());
    EXPECT_TRUE(added.empty() || added == std::vector<std::string>{"/run/netns"}) << join(added, ", ");
    EXPECT_EQ(ip_json("", "netns list").size(), expected_pins.size());
  }
  void demo_once() {
    deploy_ok(demo_topology());
    EXPECT_TRUE(ping("natgw-h1", "203.0.113.254")) << "ip netns exec into a node, through the NAT";
    auto r = netlab({"exec", "natgw", "h1", "--", "true"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    destroy_ok("natgw");
  }
};

TEST_F(HostTest, BareRunDemoWithDefaultPathsThenIpNetnsAddBetweenDeploys) {
  bare_run();
  auto mounts_before = mount_points();
  ASSERT_FALSE(fs::exists("/run/netns"));
  deploy_ok(demo_topology());
  // Made as iproute2 and the docs expect.
  EXPECT_EQ(mode_of("/run/netns"), 0755u);
  EXPECT_EQ(mode_of("/run/netlab"), 0700u);
  EXPECT_EQ(mode_of("/run/netlab/natgw"), 0700u);
  auto netns_mount = mountinfo_lines_at("/run/netns");
  ASSERT_EQ(netns_dir_mounts(), 1u) << "a mount point of its own";
  EXPECT_NE(netns_mount.back().find(" shared:"), std::string::npos) << netns_mount.back();
  EXPECT_TRUE(ping("natgw-h1", "203.0.113.254"));
  destroy_ok("natgw");
  expect_nothing_of_natgw_left(mounts_before);

  // `ip netns add` between deploys: while a lab runs, and before the next.
  deploy_ok(demo_topology());
  ip("netns add other");
  EXPECT_EQ(netns_dir_mounts(), 1u)
      << "ip netns add stacked a second bind:\n" << join(mountinfo_lines_at("/run/netns"), "\n");
  EXPECT_TRUE(ping("natgw-h1", "203.0.113.254"));
  destroy_ok("natgw");
  demo_once();
  expect_nothing_of_natgw_left(mounts_before, "other");
  ip("netns del other");
  expect_nothing_of_natgw_left(mounts_before);
}

TEST_F(HostTest, IpNetnsAddFirstOnABareHost) {
  bare_run();
  auto mounts_before = mount_points();
  ip("netns add first");  // iproute2 makes /run/netns (and its bind) itself
  demo_once();
  ip("netns del first");
  demo_once();
  expect_nothing_of_natgw_left(mounts_before);
}

TEST_F(HostTest, PinsHiddenUnderALaterBindOfTheDirectoryAreRemoved) {
  bare_run();
  auto mounts_before = mount_points();
  deploy_ok(demo_topology());
  // What `ip netns add` does to a /run/netns that is not a mount point, or any
  // tool that binds it: the lab's pins are copied on top and the originals hidden.
  ASSERT_EQ(::mount("/run/netns", "/run/netns", nullptr, MS_BIND | MS_REC, nullptr), 0) << strerror(errno);
  ASSERT_EQ(::mount("", "/run/netns", nullptr, MS_SHARED | MS_REC, nullptr), 0) << strerror(errno);
  EXPECT_EQ(mountinfo_lines_at("/run/netns/natgw-h1").size(), 2u) << "the pin is there twice, once hidden";
  EXPECT_TRUE(ping("natgw-h1", "203.0.113.254"));
  destroy_ok("natgw");  // failed with EBUSY on every try before
  for (const auto& pin : {"natgw-h1", "natgw-h2", "natgw-gw", "natgw-isp", "netlab-natgw"})
    EXPECT_TRUE(mountinfo_lines_at(std::string("/run/netns/") + pin).empty()) << pin;
  EXPECT_TRUE(entries("/run/netns").empty()) << join(entries("/run/netns"), ", ");
  ASSERT_EQ(::umount2("/run/netns", MNT_DETACH), 0);  // the test's extra bind
  expect_nothing_of_natgw_left(mounts_before);
}

TEST_F(HostTest, PinsOfOthersAreRefusedUpFrontAndSurvive) {
  std::string lab = lab_prefix_ + "p";
  std::string path = topology(lab, shipped_topology("nat-gateway.toml", lab));
  // `ip netns add netlab-<lab>` before the lab was ever deployed, and a node's pin.
  for (const std::string& name : {"netlab-" + lab, lab + "-h2"}) {
    ip("netns add " + name);
    uint64_t inode = inode_of("/run/netns/" + name);
    auto before = snapshot();
    auto r = netlab({"deploy", path});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("netns pin /run/netns/" + name + " exists already"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nothing was built"), std::string::npos) << r.err;
    auto after = snapshot();
    EXPECT_EQ(before, after) << before.diff(after);
    EXPECT_EQ(inode_of("/run/netns/" + name), inode) << "the other namespace is still pinned";
    ip("netns del " + name);
  }
  deploy_ok(path);
  destroy_ok(lab);
}

// The backend without its up-front checks: what rollback does when a pin or a
// host interface appears between the check and the act (a race with iproute2
// or another netlab). Rollback must remove only what this lab made.
class NoPreflight : public lab::Backend {
 public:
  explicit NoPreflight(std::unique_ptr<lab::Backend> real) : real_(std::move(real)) {}
  void preflight(const lab::Plan&) override {}
  void prepare(lab::Action& a) override { real_->prepare(a); }
  void run(std::span<lab::Action> batch) override { real_->run(batch); }
  void undo(const lab::Undo& u) override { real_->undo(u); }
  void undo_step(std::span<const lab::Undo> u, const std::function<void(size_t, const Error*)>& done) override {
    real_->undo_step(u, done);
  }

 private:
  std::unique_ptr<lab::Backend> real_;
};

TEST_F(HostTest, RollbackRemovesOnlyWhatThisLabMadeByIdentity) {
  std::string lab = lab_prefix_ + "r";
  lab::HostFacts facts;
  facts.cgroup_parent = cgroup_parent_;
  auto factory = [&](const topo::Lab* l) { return std::make_unique<NoPreflight>(lab::make_real_backend(l, facts)); };
  auto deploy_expecting_failure = [&](const std::string& text) {
    Diagnostics diags;
    auto topo = topo::load_string(text, "t.toml", diags);
    ASSERT_TRUE(topo) << diags.render(text);
    try {
      lab::deploy_lab(*topo, facts, factory);
      ADD_FAILURE() << "deploy succeeded";
    } catch (const lab::DeployError& e) {
      EXPECT_TRUE(e.rollback().ok()) << join(e.rollback().failures, "\n");
    }
  };
  // A node pin someone else made: the node's pin fails with EEXIST, and the
  // rollback (which unpinned by name before) leaves that namespace.
  // The same for the fabric's pin: `ip netns add netlab-<lab>` made before the
  // lab was deployed survives the rollback (it was removed before).
  for (const std::string& name : {lab + "-b", "netlab-" + lab}) {
    SCOPED_TRACE(name);
    ip("netns add " + name);
    uint64_t foreign = inode_of("/run/netns/" + name);
    auto before = snapshot();
    deploy_expecting_failure(shipped_topology("bridge-lan.toml", lab));
    EXPECT_EQ(inode_of("/run/netns/" + name), foreign);
    auto after = snapshot();
    EXPECT_EQ(before, after) << before.diff(after);
    ip("netns del " + name);
  }

  // A host interface of the same name as the lab's host-side bridge end.
  ip("link add " + lab + "-mgmt type veth peer name " + lab + "-peer");  // this kernel has no dummy
  auto links_before = ip_json("", "link show dev " + lab + "-mgmt");
  auto before = snapshot();
  deploy_expecting_failure(shipped_topology("bridge-lan.toml", lab));
  auto links_after = ip_json("", "link show dev " + lab + "-mgmt");
  ASSERT_EQ(links_after.size(), 1u) << "the other interface was deleted";
  EXPECT_EQ(links_after[0]["ifindex"], links_before[0]["ifindex"]);
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);
}

TEST_F(HostTest, HostInterfaceOfAnotherOwnerIsRefusedUpFront) {
  std::string lab = lab_prefix_ + "i";
  std::string path = topology(lab, shipped_topology("bridge-lan.toml", lab));
  ip("link add " + lab + "-mgmt type veth peer name " + lab + "-peer");
  auto before = snapshot();
  auto r = netlab({"deploy", path});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("host interface " + lab + "-mgmt exists already (not made by netlab)"), std::string::npos)
      << r.err;
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);
}

TEST_F(HostTest, SecondDeployFromAnotherStateDirLeavesTheRunningLabAlone) {
  // Issue #21: the same lab from another --state-dir failed on the existing
  // pin, and its rollback unpinned the running lab's namespace.
  std::string lab;
  std::string path = shipped("nat-gateway.toml", lab);
  deploy_ok(path);
  auto r = netlab({"deploy", "--state-dir", "/run/other", path});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("netns pin /run/netns/netlab-" + lab + " exists already"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists("/run/other/" + lab));
  EXPECT_TRUE(ping(lab + "-h1", "203.0.113.254")) << "the running lab lost a namespace";
  destroy_ok(lab);
}

TEST_F(HostTest, SigkillAtAnyInstantThenDestroyLeavesNothingAndDeployWorks) {
  std::string lab = lab_prefix_ + "k";
  std::string path = topology(lab, shipped_topology("bridge-lan.toml", lab));
  auto baseline = snapshot();
  auto t0 = std::chrono::steady_clock::now();
  deploy_ok(path);
  double full_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  destroy_ok(lab);
  // Kill instants spread over a whole deploy, from the first microseconds
  // (lab dir, lock, journal header) to the pins; each followed by destroy.
  constexpr int kKills = 16;
  for (int i = 0; i < kKills; ++i) {
    auto e = env();
    std::vector<std::string> env_copy(e.begin(), e.end());
    pid_t pid = spawn_netlab({"deploy", path}, env_copy);
    ASSERT_GT(pid, 0);
    useconds_t at = static_cast<useconds_t>(full_us * i / kKills);
    std::this_thread::sleep_for(std::chrono::microseconds(at));  // the instant of the kill, not a readiness wait
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    auto r = netlab({"destroy", "--lab", lab});
    EXPECT_EQ(r.exit_code, 0) << "kill at " << at << " us: " << r.err;
    auto after = snapshot();
    EXPECT_EQ(baseline, after) << "kill at " << at << " us:\n" << baseline.diff(after);
  }
  deploy_ok(path);
  destroy_ok(lab);
}

TEST_F(HostTest, DestroyRemovesAHostileTreeInANodeRoot) {
  std::string lab = lab_prefix_ + "t";
  std::string path = topology(lab, "name = \"" + lab + "\"\n[nodes.n]\n");
  auto before = snapshot();
  deploy_ok(path);
  auto t0 = std::chrono::steady_clock::now();
  // 30 000 levels in chunks of 1000 (one mkdir -p stays under PATH_MAX), odd
  // modes, a fifo, and symlinks out of the node's root.
  auto r = netlab({"exec", lab, "n", "--", "/bin/sh", "-c",
                   "cd / && p=$(printf 'd/%.0s' $(seq 1000)) && for i in $(seq 30); do mkdir -p $p && cd -P $p || exit 1; done && "
                   "mkfifo fifo && ln -s / root-link && ln -s /etc/passwd pw && mkdir -p locked/in && "
                   "touch locked/in/f && chmod 000 locked/in locked && echo built"});
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(0, 300);
  ASSERT_EQ(r.out, "built\n");
  auto t1 = std::chrono::steady_clock::now();
  destroy_ok(lab);  // failed with EMFILE (exit 3) every time before
  auto t2 = std::chrono::steady_clock::now();
  std::printf("building the tree %.1f s, destroy %.1f s\n", std::chrono::duration<double>(t1 - t0).count(),
              std::chrono::duration<double>(t2 - t1).count());
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);
  EXPECT_TRUE(fs::exists("/etc/passwd"));
}

}  // namespace
}  // namespace netlab::testing
