// Simulated hosts for multi-host tests (docs/multi-host.md). Each "host" is a
// network namespace joined to an underlay bridge in the test's own namespace
// (192.0.2.0/24), with a mount namespace of its own (private /run: its own
// /run/netns and state dir; sysfs of its netns; a cgroup parent of its own),
// held by a process of the test. `netlab ...` run inside host N's namespaces
// behaves exactly as on a real machine; the lab's traffic crosses hosts only
// as VXLAN over the test's underlay.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>

#include "support/fresh_ns.hpp"
#include "support/netlab_cli.hpp"

namespace netlab::testing {

namespace fs = std::filesystem;

inline const char* kLab = R"(
name = "LAB"
vxlan_port = 4790
[hosts.h1]
address = "192.0.2.11"
[hosts.h2]
address = "192.0.2.12"
[hosts.h3]
address = "192.0.2.13"
[bridges.lan]
[nodes.r1]
host = "h1"
interfaces.eth0 = "10.0.12.1/24"
routes = [{ to = "10.0.23.0/24", via = "10.0.12.2" }]
[nodes.r2]
host = "h2"
forwarding = true
interfaces = { eth0 = "10.0.12.2/24", eth1 = "10.0.23.1/24" }
[nodes.r3]
host = "h3"
interfaces.eth0 = "10.0.23.2/24"
routes = [{ to = "10.0.12.0/24", via = "10.0.23.1" }]
[nodes.a1]
host = "h1"
interfaces.eth0 = "192.168.50.1/24"
[nodes.a2]
host = "h2"
interfaces.eth0 = "192.168.50.2/24"
[nodes.a3]
host = "h3"
interfaces.eth0 = "192.168.50.3/24"
[[links]]
endpoints = ["r1:eth0", "r2:eth0"]
[[links]]
endpoints = ["r2:eth1", "r3:eth0"]
[[links]]
endpoints = ["a1:eth0", "lan"]
[[links]]
endpoints = ["a2:eth0", "lan"]
[[links]]
endpoints = ["a3:eth0", "lan"]
)";

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class MultiHostTest : public FreshNamespaceTest {
 protected:
  void SetUp() override {
    FreshNamespaceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    lab_ = lab_prefix_ + "m";
    int rc = 0;
    run_shell("ip link add ul type bridge && ip link set ul up", &rc);
    ASSERT_EQ(rc, 0);
    for (int i = 1; i <= 3; ++i) {
      std::string h = "h" + std::to_string(i), addr = "192.0.2.1" + std::to_string(i);
      run_shell(fmt("ip netns add {h} && ip link add u{i} type veth peer name eth0 netns {h} && "
                    "ip link set u{i} master ul up && ip -n {h} addr add {a}/24 dev eth0 && "
                    "ip -n {h} link set eth0 up && ip -n {h} link set lo up",
                    h, i, addr),
                &rc);
      ASSERT_EQ(rc, 0) << "underlay of " << h;
      start_holder(i);
    }
    std::string text = kLab;
    text.replace(text.find("LAB"), 3, lab_);
    // The hosts have their own /run: the file goes where each can read it.
    char dir[] = "/tmp/netlab-mh-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    file_ = write_topology(dir_, "mh.toml", text);
  }

  void TearDown() override {
    for (int i = 1; i <= 3; ++i) {
      if (holder_[i] <= 0) continue;
      if (on(i, "ls /run/netlab | grep -v '^images$'") != "") netlab_on(i, "destroy --local --lab " + lab_);  // a failed test
      kill(holder_[i], SIGKILL);
      waitpid(holder_[i], nullptr, 0);
    }
    run_shell("ip netns del h1; ip netns del h2; ip netns del h3; ip link del ul 2>/dev/null");
    if (!dir_.empty()) fs::remove_all(dir_);
    FreshNamespaceTest::TearDown();
  }

  // "{h}" → host name, "{i}" → index, "{a}" → address, in that order of use.
  static std::string fmt(std::string s, const std::string& h, int i, const std::string& a) {
    for (auto [key, val] : std::array<std::pair<std::string, std::string>, 3>{
             {{"{h}", h}, {"{i}", std::to_string(i)}, {"{a}", a}}})
      for (size_t p; (p = s.find(key)) != std::string::npos;) s.replace(p, key.size(), val);
    return s;
  }

  // A process in host i's netns and a new mount namespace of its own: sysfs of
  // that netns (cgroup mounts moved over), a fresh tmpfs on /run. It says
  // "ready" once mounted, then sleeps until the test ends it.
  void start_holder(int i) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    std::string script = fmt(
        "mkdir -p /run/.cg{i} && mount --rbind /sys/fs/cgroup /run/.cg{i} && mount -t sysfs sysfs /sys && "
        "mount --move /run/.cg{i} /sys/fs/cgroup && mount -t tmpfs tmpfs /run && mkdir /run/netns /run/netlab && "
        "echo ready && exec sleep 3600",
        "", i, "");
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      dup2(fds[1], 1);
      std::string net = "--net=/run/netns/h" + std::to_string(i);
      execlp("nsenter", "nsenter", net.c_str(), "unshare", "-m", "--propagation", "private", "sh", "-c",
             script.c_str(), nullptr);
      _exit(127);
    }
    close(fds[1]);
    holder_[i] = pid;
    char buf[16] = {};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    ASSERT_GT(n, 0) << "host h" << i << " did not come up";
    ASSERT_EQ(std::string(buf), "ready\n");
    rmdir(("/run/.cg" + std::to_string(i)).c_str());
  }

  // Runs a command inside host i's namespaces.
  std::string on(int i, const std::string& cmd, int* rc = nullptr) {
    return run_shell(fmt("nsenter -t " + std::to_string(holder_[i]) + " -m -n env NETLAB_CGROUP_PARENT=" +
                             cgroup_parent_ + "/h{i} " + cmd,
                         "", i, ""),
                     rc);
  }
  CliResult netlab_on(int i, const std::string& args) {
    int rc = -1;
    std::string out = on(i, std::string(NETLAB_BINARY) + " " + args + " 2>&1", &rc);
    return {rc, out, ""};
  }
  // A node's netns as seen from the test: its pin in the host's own /run.
  std::string node_ns(int i, const std::string& node) {
    return "/proc/" + std::to_string(holder_[i]) + "/root/run/netns/" + lab_ + "-" + node;
  }
  bool ping_from(int i, const std::string& node, const std::string& addr) {
    int rc = -1;
    run_shell("nsenter --net=" + node_ns(i, node) + " busybox ping -q -c 2 -W 2 " + addr + " >/dev/null 2>&1", &rc);
    return rc == 0;
  }
  nlohmann::json links_in(const std::string& nsenter_net) {
    std::string out = run_shell("nsenter --net=" + nsenter_net + " ip -j -d link show");
    auto j = nlohmann::json::parse(out, nullptr, false);
    return j.is_discarded() ? nlohmann::json::array() : j;
  }

  std::string lab_, file_, dir_;
  pid_t holder_[4] = {0, 0, 0, 0};
};

}  // namespace netlab::testing
