// Issue 4 on real nodes: each node is its own host (hostname, PID namespace
// whose PID 1 is netlab's init and reaps orphans, private overlay root, only
// its own mounts), inside cgroups whose limits hold (memory, pids, CPU), with a
// capability set that leaves out module loading and the clock, and reachable
// through `netlab exec` and `ip netns exec`.
#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/lab_fixture.hpp"

namespace netlab::testing {
namespace {

class NodeTest : public LabTest {
 protected:
  void SetUp() override {
    LabTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    lab_ = lab_prefix_ + "n";
    std::string text = "name = \"" + lab_ + R"("
[bridges.lan]
[nodes.a]
interfaces.eth0 = "10.3.0.1/24"
memory = "32M"
pids = 24
cpus = 0.2
[nodes.b]
interfaces.eth0 = "10.3.0.2/24"
[[links]]
endpoints = ["a:eth0", "lan"]
[[links]]
endpoints = ["b:eth0", "lan"]
)";
    deploy_ok(topology(lab_, text));
  }
  void TearDown() override {
    if (!lab_.empty() && !deployed_.empty()) destroy_ok(lab_);
    LabTest::TearDown();
  }
  CliResult in(const std::string& node, const std::vector<std::string>& argv) {
    std::vector<std::string> args = {"exec", lab_, node, "--"};
    args.insert(args.end(), argv.begin(), argv.end());
    return netlab(args);
  }
  std::string cgroup_file(const std::string& hierarchy, const std::string& node, const std::string& file) {
    std::ifstream f("/sys/fs/cgroup/" + hierarchy + "/" + cgroup_parent_ + "/" + lab_ + "/" + node + "/" + file);
    std::string v;
    f >> v;
    return v;
  }
  std::string lab_;
};

TEST_F(NodeTest, HostnameAndAPidNamespaceWhosePid1IsTheInit) {
  auto h = in("a", {"hostname"});
  EXPECT_EQ(h.exit_code, 0) << h.err;
  EXPECT_EQ(h.out, "a\n");
  auto ps = in("a", {"ps", "-o", "pid,comm"});
  ASSERT_EQ(ps.exit_code, 0) << ps.err;
  // PID 1 (the init) and ps itself: nothing of the host or of node b.
  EXPECT_NE(ps.out.find("    1 init:a"), std::string::npos) << ps.out;
  int lines = 0;
  for (char c : ps.out) lines += c == '\n';
  EXPECT_EQ(lines, 3) << ps.out;
}

TEST_F(NodeTest, TheInitIsTheSmallStaticProgramHoldingNothingOfNetlabs) {
  auto r = netlab({"inspect", lab_, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int pid = nlohmann::json::parse(r.out)["nodes"][0]["pid"];
  std::string proc = "/proc/" + std::to_string(pid);
  std::error_code ec;
  auto exe = std::filesystem::read_symlink(proc + "/exe", ec);
  EXPECT_EQ(exe.filename(), "netlab-init") << exe;
  // stdio and its own three: the cmd's status file, its signalfd and its
  // control socket (node/init.hpp); no socket, namespace or pipe of netlab's came along.
  std::vector<std::string> fds;
  std::string control_inode;
  for (const auto& e : std::filesystem::directory_iterator(proc + "/fd")) {
    std::string fd = e.path().filename(), target = std::filesystem::read_symlink(e.path(), ec).string();
    if (fd == "0" || fd == "1" || fd == "2") fds.push_back(fd);
    else if (target.ends_with("/status")) fds.push_back("status");
    else if (target == "anon_inode:[signalfd]") fds.push_back("signalfd");
    else if (target.starts_with("socket:[")) fds.push_back("socket"), control_inode = target.substr(8, target.size() - 9);
    else fds.push_back(fd + " -> " + target);
  }
  std::sort(fds.begin(), fds.end());
  EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2", "signalfd", "socket", "status"}));
  // The socket is the listening control socket, bound in the node's directory.
  std::ifstream unix_sockets(proc + "/net/unix");
  std::string control;
  for (std::string line; std::getline(unix_sockets, line);)
    if (!control_inode.empty() && line.find(" " + control_inode + " ") != std::string::npos) control = line;
  EXPECT_TRUE(control.ends_with("/control")) << control;
  // Its own pages: a few dozen KiB, not a copy of netlab's heap.
  std::ifstream rollup(proc + "/smaps_rollup");
  long private_kib = -1;
  for (std::string key; rollup >> key;) {
    long v = 0;
    if (key == "Private_Dirty:" && rollup >> v) private_kib = v;
  }
  EXPECT_GT(private_kib, 0);
  EXPECT_LE(private_kib, 300) << "KiB private to an idle node's init";
}

// A deploy execs netlab-init once and forks every node's init from it (the
// zygote, node/init.hpp): the C library's start-up is not paid per node. Two
// inits of one deploy share the auxiliary vector of that one exec (with
// address-space randomisation every exec has its own stack and vDSO
// addresses in it). (That each is netlab's child, not the zygote's: ApiExample.)
TEST_F(NodeTest, TheInitsOfOneDeployAreForkedFromOneExecOfNetlabInit) {
  std::ifstream aslr("/proc/sys/kernel/randomize_va_space");
  int randomize = 0;
  aslr >> randomize;
  if (randomize == 0) GTEST_SKIP() << "address-space randomisation is off: every exec's auxv looks alike";
  auto r = netlab({"inspect", lab_, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto nodes = nlohmann::json::parse(r.out)["nodes"];
  ASSERT_EQ(nodes.size(), 2u);
  auto proc_file = [](int pid, const char* file) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/" + file);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  int a = nodes[0]["pid"], b = nodes[1]["pid"];
  std::string auxv_a = proc_file(a, "auxv"), auxv_b = proc_file(b, "auxv");
  ASSERT_GT(auxv_a.size(), 64u);
  EXPECT_EQ(auxv_a, auxv_b) << "the two inits were exec'd separately";
  // A node of another deploy: another exec, another auxv.
  std::string other = lab_prefix_ + "o";
  deploy_ok(topology(other, "name = \"" + other + "\"\n[nodes.c]\n"));
  auto c = netlab({"inspect", other, "--json"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  int pid_c = nlohmann::json::parse(c.out)["nodes"][0]["pid"];
  EXPECT_NE(proc_file(pid_c, "auxv"), auxv_a);
  destroy_ok(other);
}

TEST_F(NodeTest, TheInitReapsOrphans) {
  // `true` exits at once; its parent execs into sleep and never reaps it. When
  // the sleep ends, the zombie is re-parented to PID 1, which must reap it.
  auto r = in("a", {"sh", "-c", "true & exec sleep 0.3"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string zombies = "?";
  for (int i = 0; i < 100 && !zombies.empty(); ++i) {
    zombies = in("a", {"sh", "-c", "ps -o stat,comm | grep '^Z' || true"}).out;
    if (!zombies.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(zombies, "") << "a zombie stayed in the node";
}

TEST_F(NodeTest, FilesystemsArePrivateAndMountsAreTheNodesOwn) {
  ASSERT_EQ(in("a", {"sh", "-c", "echo secret > /root/note"}).exit_code, 0);
  EXPECT_EQ(in("a", {"cat", "/root/note"}).out, "secret\n");
  EXPECT_EQ(in("b", {"test", "-e", "/root/note"}).exit_code, 1) << "node b sees node a's file";
  EXPECT_FALSE(std::ifstream(state_dir_ + "/images/busybox/root/note").good()) << "the shared image was written";
  auto mounts = in("a", {"cat", "/proc/mounts"});
  ASSERT_EQ(mounts.exit_code, 0);
  EXPECT_EQ(mounts.out.rfind("overlay / overlay ", 0), 0u) << mounts.out;
  for (const char* host_only : {" /run/netns", " /work", " /sys/fs/cgroup", " /run/netlab "})
    EXPECT_EQ(mounts.out.find(host_only), std::string::npos) << host_only << " leaked into:\n" << mounts.out;
  EXPECT_NE(mounts.out.find("proc /proc proc"), std::string::npos);
  EXPECT_NE(mounts.out.find("sysfs /sys sysfs ro"), std::string::npos);
  EXPECT_NE(mounts.out.find("devpts /dev/pts devpts"), std::string::npos);
}

TEST_F(NodeTest, NodesResolveEachOtherThroughOneHostsFilePerLabThatEachNodeMayChangeForItself) {
  EXPECT_EQ(in("a", {"ping", "-c", "1", "-W", "2", "b"}).exit_code, 0) << "a cannot reach b by name";
  EXPECT_NE(in("b", {"cat", "/etc/hosts"}).out.find("10.3.0.1 a\n"), std::string::npos);
  // One file for the lab, not one per node.
  std::string lab_dir = state_dir_ + "/" + lab_;
  EXPECT_EQ(run_shell("find " + lab_dir + " -name hosts -type f | wc -l"), "1\n")
      << run_shell("find " + lab_dir + " -name hosts");
  // A node that rewrites its /etc/hosts changes its own view only.
  auto w = in("a", {"sh", "-c", "echo '10.3.0.9 b' > /etc/hosts && cat /etc/hosts"});
  EXPECT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(w.out, "10.3.0.9 b\n");
  EXPECT_NE(in("b", {"cat", "/etc/hosts"}).out.find("10.3.0.2 b\n"), std::string::npos) << "a's write reached b";
  EXPECT_EQ(run_shell("find " + lab_dir + " -name hosts -type f | wc -l"), "2\n") << "a's copy is in its own upper layer";
}

TEST_F(NodeTest, CgroupLimitsAreTheTopologys) {
  EXPECT_EQ(cgroup_file("memory", "a", "memory.limit_in_bytes"), std::to_string(32 << 20));
  EXPECT_EQ(cgroup_file("pids", "a", "pids.max"), "24");
  EXPECT_EQ(cgroup_file("cpu", "a", "cpu.cfs_quota_us"), "20000");
  EXPECT_EQ(cgroup_file("cpu", "a", "cpu.cfs_period_us"), "100000");
  // The init is inside from the start: its pid is in the node's group in every hierarchy.
  std::string init_pid = cgroup_file("pids", "a", "cgroup.procs");
  EXPECT_FALSE(init_pid.empty());
  EXPECT_EQ(cgroup_file("memory", "a", "cgroup.procs"), init_pid);
  EXPECT_EQ(cgroup_file("cpuacct", "a", "cgroup.procs"), init_pid);
  // No memory limit asked: no memory group of its own (each costs kernel memory
  // that grows with the host's mounts); b's init is in the lab's memory group.
  EXPECT_FALSE(std::filesystem::exists("/sys/fs/cgroup/memory/" + cgroup_parent_ + "/" + lab_ + "/b"));
  std::string b_pid = cgroup_file("pids", "b", "cgroup.procs");
  ASSERT_FALSE(b_pid.empty());
  std::ifstream lab_procs("/sys/fs/cgroup/memory/" + cgroup_parent_ + "/" + lab_ + "/cgroup.procs");
  std::string line;
  bool found = false;
  while (std::getline(lab_procs, line)) found = found || line == b_pid;
  EXPECT_TRUE(found) << "b's init " << b_pid << " is not in the lab's memory group";
  EXPECT_EQ(cgroup_file("cpuacct", "b", "cgroup.procs"), b_pid);
}

TEST_F(NodeTest, AllocatingBeyondMemoryIsOomKilledAndTheInitSurvives) {
  auto r = in("a", {"dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"});
  EXPECT_EQ(r.exit_code, 128 + 9) << "dd with a 64M buffer in a 32M node: " << r.err;
  EXPECT_EQ(in("a", {"true"}).exit_code, 0) << "the node died with its process";
  auto small = in("a", {"dd", "if=/dev/zero", "of=/dev/null", "bs=4M", "count=1"});
  EXPECT_EQ(small.exit_code, 0) << small.err;
}

TEST_F(NodeTest, ForkingBeyondPidsFails) {
  // busybox sh gives up (exit 2) at the first failed fork; the sleeps keep
  // no pipe open and go with the node at destroy.
  auto r = in("a", {"sh", "-c", "i=0; while [ $i -lt 40 ]; do sleep 30 >/dev/null 2>&1 & i=$((i+1)); done"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("fork"), std::string::npos) << "40 processes started under pids = 24: " << r.err;
  EXPECT_EQ(cgroup_file("pids", "a", "pids.max"), "24");
}

TEST_F(NodeTest, ABusyLoopGetsItsCpuQuotaAndNoMore) {
  uint64_t before = std::stoull(cgroup_file("cpuacct", "a", "cpuacct.usage"));
  auto start = std::chrono::steady_clock::now();
  auto r = in("a", {"timeout", "1", "sh", "-c", "while :; do :; done"});
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  uint64_t after = std::stoull(cgroup_file("cpuacct", "a", "cpuacct.usage"));
  double cpu = static_cast<double>(after - before) / 1e9;
  EXPECT_GT(cpu, 0.05) << "the loop did not run";
  EXPECT_LT(cpu / wall, 0.25) << cpu << " s of CPU in " << wall << " s with cpus = 0.2";
}

TEST_F(LabTest, ANodeWithoutSysfsHasAnEmptySysAndStillItsNetwork) {
  std::string lab = lab_prefix_ + "y";
  deploy_ok(topology(lab, "name = \"" + lab + R"("
[defaults]
sysfs = false
[nodes.a]
interfaces.eth0 = "10.3.9.1/24"
[nodes.b]
sysfs = true
interfaces.eth0 = "10.3.9.2/24"
[[links]]
endpoints = ["a:eth0", "b:eth0"]
)"));
  auto exec = [&](const std::string& node, const std::vector<std::string>& argv) {
    std::vector<std::string> args = {"exec", lab, node, "--"};
    args.insert(args.end(), argv.begin(), argv.end());
    return netlab(args);
  };
  auto mounts = exec("a", {"cat", "/proc/mounts"});
  ASSERT_EQ(mounts.exit_code, 0) << mounts.err;
  EXPECT_EQ(mounts.out.find(" sysfs "), std::string::npos) << mounts.out;
  EXPECT_EQ(exec("a", {"ls", "-A", "/sys"}).out, "");
  EXPECT_NE(exec("b", {"cat", "/proc/mounts"}).out.find("sysfs /sys sysfs ro"), std::string::npos);
  EXPECT_EQ(exec("b", {"ls", "/sys/class/net"}).out, "eth0\nlo\n") << "b's /sys shows its own network namespace";
  EXPECT_EQ(exec("a", {"ping", "-c", "1", "-W", "2", "10.3.9.2"}).exit_code, 0);
  destroy_ok(lab);
}

TEST_F(NodeTest, NoModuleLoadingNorClockSetting) {
  for (const char* node : {"a", "b"}) {
    auto status = in(node, {"cat", "/proc/1/status"});
    ASSERT_EQ(status.exit_code, 0);
    for (const char* field : {"CapEff:\t", "CapBnd:\t", "CapPrm:\t"}) {
      auto pos = status.out.find(field);
      ASSERT_NE(pos, std::string::npos);
      uint64_t caps = std::stoull(status.out.substr(pos + 8, 16), nullptr, 16);
      EXPECT_FALSE(caps & (1ull << 16)) << field << "CAP_SYS_MODULE";
      EXPECT_FALSE(caps & (1ull << 25)) << field << "CAP_SYS_TIME";
      EXPECT_FALSE(caps & (1ull << 22)) << field << "CAP_SYS_BOOT";
      EXPECT_TRUE(caps & (1ull << 12)) << field << "CAP_NET_ADMIN";
    }
  }
  // busybox date reports the refusal but exits 0: check what the kernel said.
  auto date = in("a", {"date", "-s", "2001-01-01"});
  EXPECT_NE(date.err.find("can't set date: Operation not permitted"), std::string::npos) << date.err;
  EXPECT_GT(std::time(nullptr), 1700000000) << "the host clock moved";
}

TEST_F(NodeTest, ExecPassesTheExitCodeAndIpNetnsExecReachesTheSameNamespace) {
  EXPECT_EQ(in("a", {"sh", "-c", "exit 7"}).exit_code, 7);
  EXPECT_EQ(in("a", {"/no/such/program"}).exit_code, 127);
  auto inside = in("a", {"readlink", "/proc/self/ns/net"});
  std::string outside = run_shell("ip netns exec " + lab_ + "-a readlink /proc/self/ns/net");
  EXPECT_EQ(inside.out, outside);
  EXPECT_NE(inside.out, run_shell("readlink /proc/self/ns/net"));
  EXPECT_TRUE(ping(lab_ + "-a", "10.3.0.2"));
  auto missing = netlab({"exec", lab_, "zz", "--", "true"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("has no node \"zz\""), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace netlab::testing

namespace netlab::testing {
namespace {

class NodeOptionsTest : public LabTest {};

TEST_F(NodeOptionsTest, HostImageBindsEnvUserSysctlsExecAndCmd) {
  std::string lab = lab_prefix_ + "o";
  std::string share = files_dir_ + "/share";
  run_shell("mkdir -p " + share + " && echo from-host > " + share + "/file");
  std::string text = "name = \"" + lab + R"("
[nodes.h]
image = "host"
interfaces.eth0 = "10.5.0.1/24"
env = { GREETING = "hello" }
sysctls = { "net.ipv4.tcp_syncookies" = 0 }
binds = [")" + share + R"(:/mnt/share:ro"]
exec = ["echo $GREETING > /tmp/exec-ran", "id -u > /tmp/uid"]
[nodes.b]
interfaces.eth0 = "10.5.0.2/24"
user = "1000:1000"
cmd = ["/bin/sleep", "600"]
[[links]]
endpoints = ["h:eth0", "b:eth0"]
)";
  deploy_ok(topology(lab, text));
  auto in = [&](const std::string& node, const std::vector<std::string>& argv) {
    std::vector<std::string> args = {"exec", lab, node, "--"};
    args.insert(args.end(), argv.begin(), argv.end());
    return netlab(args);
  };
  // image = host: the host's programs, read-only; private /tmp.
  EXPECT_EQ(in("h", {"ip", "-br", "addr", "show", "eth0"}).exit_code, 0) << "host iproute2 missing in an image=host node";
  EXPECT_NE(in("h", {"touch", "/usr/netlab-test"}).exit_code, 0) << "the host's /usr is writable from a node";
  EXPECT_EQ(in("h", {"cat", "/tmp/exec-ran"}).out, "hello\n");  // exec ran, with env
  EXPECT_EQ(in("h", {"cat", "/mnt/share/file"}).out, "from-host\n");
  EXPECT_NE(in("h", {"sh", "-c", "echo x > /mnt/share/file"}).exit_code, 0) << "a :ro bind is writable";
  EXPECT_EQ(in("h", {"cat", "/proc/sys/net/ipv4/tcp_syncookies"}).out, "0\n");
  EXPECT_EQ(in("h", {"printenv", "GREETING"}).out, "hello\n");
  // user = "1000:1000": the node's cmd and exec'd commands run as that user.
  EXPECT_EQ(in("b", {"id", "-u"}).out, "1000\n");
  auto ps = in("b", {"ps", "-o", "user,comm"});
  EXPECT_NE(ps.out.find("1000     sleep"), std::string::npos) << ps.out;
  EXPECT_TRUE(ping(lab + "-h", "10.5.0.2"));
  destroy_ok(lab);
  EXPECT_EQ(run_shell("cat " + share + "/file"), "from-host\n");
}

}  // namespace
}  // namespace netlab::testing
