// Contained nodes (the default; `userns = true` is the old spelling): the
// node's root is uid 0 inside and an unprivileged host uid outside (it cannot
// write where host root can), yet it owns its network namespace (addresses,
// ping, sysctls, its own /sys), and a deploy that fails leaves no process of
// such a node behind. The escape tests are in containment_itest.cpp.
#include <dirent.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "node/userns.hpp"
#include "support/lab_fixture.hpp"

namespace netlab::testing {
namespace {

class UsernsTest : public LabTest {
 protected:
  CliResult in(const std::string& lab, const std::string& node, const std::vector<std::string>& argv) {
    std::vector<std::string> args = {"exec", lab, node, "--"};
    args.insert(args.end(), argv.begin(), argv.end());
    return netlab(args);
  }

  static std::string field(const std::string& file, const std::string& key) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);)
      if (line.rfind(key, 0) == 0) return line.substr(key.size());
    return "";
  }

  // Processes of this test's labs (in its cgroup parent) in a user namespace
  // that maps 0 to `base`: every contained node on the host shares the range.
  int processes_mapped_to(uint32_t base) const {
    int n = 0;
    DIR* d = opendir("/proc");
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      // A zombie has ended; reaping it is its parent's business (here, the
      // host's PID 1 once netlab is gone).
      if (field(std::string("/proc/") + e->d_name + "/status", "State:\t").rfind("Z", 0) == 0) continue;
      std::ifstream cg(std::string("/proc/") + e->d_name + "/cgroup");
      std::stringstream groups;
      groups << cg.rdbuf();
      if (groups.str().find(cgroup_parent_) == std::string::npos) continue;
      std::ifstream map(std::string("/proc/") + e->d_name + "/uid_map");
      uint32_t inside = 1, outside = 0;
      if (map >> inside >> outside && inside == 0 && outside == base) ++n;
    }
    closedir(d);
    return n;
  }

  void failed_deploys_leave_no_node_behind(const node::IdRange& range);

  int init_pid(const std::string& lab, const std::string& node) {
    auto r = netlab({"inspect", lab, "--json"});
    auto info = nlohmann::json::parse(r.out, nullptr, false);
    for (const auto& n : info["nodes"])
      if (n["name"] == node) return n["pid"].get<int>();
    return 0;
  }
};

TEST_F(UsernsTest, RootInsideIsNobodyOutsideButOwnsItsNetworkAndFailuresLeaveNothing) {
  const node::IdRange range = node::userns_id_range();
  ASSERT_NE(range.host_uid, 0u);
  std::string lab = lab_prefix_ + "u";
  std::string share = files_dir_ + "/userns-share";
  run_shell("mkdir -p " + share + " && chmod 755 " + share);
  deploy_ok(topology(lab, "name = \"" + lab + R"("
[nodes.u]
userns = true
forwarding = true
sysctls = { "net.ipv4.conf.all.rp_filter" = 2 }
interfaces.eth0 = "10.6.0.1/24"
binds = [")" + share + R"(:/mnt/share"]
[nodes.p]
privileged = true
interfaces.eth0 = "10.6.0.2/24"
binds = [")" + share + R"(:/mnt/share"]
[nodes.w]
userns = true
user = "1000:1000"
cmd = ["/bin/sleep", "600"]
[[links]]
endpoints = ["u:eth0", "p:eth0"]
)"));

  // uid 0 inside, mapped to the host range; the host sees the init as that uid.
  EXPECT_EQ(in(lab, "u", {"id", "-u"}).out, "0\n");
  std::istringstream map(in(lab, "u", {"cat", "/proc/self/uid_map"}).out);
  uint32_t inside = 1, outside = 0, count = 0;
  map >> inside >> outside >> count;
  EXPECT_EQ(inside, 0u);
  EXPECT_EQ(outside, range.host_uid);
  EXPECT_EQ(count, range.count);
  int pid = init_pid(lab, "u");
  ASSERT_GT(pid, 0);
  EXPECT_EQ(field("/proc/" + std::to_string(pid) + "/status", "Uid:\t"),
            fmt::format("{0}\t{0}\t{0}\t{0}", range.host_uid));

  // Root of the node is nobody on the host: a root-owned host directory bound
  // read-write is not its to write, while a privileged node can.
  EXPECT_NE(in(lab, "u", {"touch", "/mnt/share/from-u"}).exit_code, 0);
  EXPECT_EQ(in(lab, "p", {"touch", "/mnt/share/from-p"}).exit_code, 0);
  // Its own files land on the host as its host uid.
  ASSERT_EQ(in(lab, "u", {"sh", "-c", "echo x > /etc/written"}).exit_code, 0);
  EXPECT_EQ(run_shell("stat -c %u " + state_dir_ + "/" + lab + "/nodes/u/upper/etc/written"),
            std::to_string(range.host_uid) + "\n");

  // The network namespace is the node's own: sysctls applied, its /sys, an
  // address its root adds (seen by the host through ip netns), raw ping.
  EXPECT_EQ(in(lab, "u", {"cat", "/proc/sys/net/ipv4/ip_forward"}).out, "1\n");
  EXPECT_EQ(in(lab, "u", {"cat", "/proc/sys/net/ipv4/conf/all/rp_filter"}).out, "2\n");
  EXPECT_EQ(in(lab, "u", {"ls", "/sys/class/net"}).out, "eth0\nlo\n");
  auto add = in(lab, "u", {"ip", "addr", "add", "10.99.0.1/32", "dev", "lo"});
  EXPECT_EQ(add.exit_code, 0) << add.err;
  EXPECT_NE(run_shell("ip -n " + lab + "-u -4 -o addr show dev lo").find("10.99.0.1/32"), std::string::npos);
  EXPECT_EQ(in(lab, "u", {"ping", "-c", "1", "-W", "2", "10.6.0.2"}).exit_code, 0);
  EXPECT_TRUE(ping(lab + "-p", "10.6.0.1"));
  // The same restricted capability set as a privileged node, plus
  // CAP_SYS_ADMIN — of its own user namespace only.
  uint64_t contained = std::stoull(field("/proc/" + std::to_string(pid) + "/status", "CapBnd:\t"), nullptr, 16);
  uint64_t privileged = std::stoull(field("/proc/" + std::to_string(init_pid(lab, "p")) + "/status", "CapBnd:\t"), nullptr, 16);
  EXPECT_EQ(contained ^ privileged, uint64_t{1} << 21) << std::hex << contained << " " << privileged;

  // user = "1000:1000" inside a user namespace: uid 1000 inside, base + 1000 outside.
  EXPECT_EQ(in(lab, "w", {"id", "-u"}).out, "1000\n");
  int w = init_pid(lab, "w");
  std::ifstream kids("/proc/" + std::to_string(w) + "/task/" + std::to_string(w) + "/children");
  int sleep_pid = 0;
  kids >> sleep_pid;
  ASSERT_GT(sleep_pid, 0);
  EXPECT_EQ(field("/proc/" + std::to_string(sleep_pid) + "/status", "Uid:\t"),
            fmt::format("{0}\t{0}\t{0}\t{0}", range.host_uid + 1000));
  destroy_ok(lab);
  run_shell("rm -rf " + share);
  // Every process of the range is gone: the counts below start from none.
  EXPECT_EQ(processes_mapped_to(range.host_uid), 0);
  failed_deploys_leave_no_node_behind(range);
}

// Part of the test above, not a test of its own.
void UsernsTest::failed_deploys_leave_no_node_behind(const node::IdRange& range) {
  std::string lab = lab_prefix_ + "f";
  std::string path = topology(lab, "name = \"" + lab + R"("
[bridges.lan]
[nodes.a]
userns = true
interfaces.eth0 = "10.6.1.1/24"
[nodes.b]
userns = true
interfaces.eth0 = "10.6.1.2/24"
[[links]]
endpoints = ["a:eth0", "lan"]
[[links]]
endpoints = ["b:eth0", "lan"]
)");
  auto dry = netlab({"deploy", "--dry-run", path});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  size_t actions = static_cast<size_t>(std::count(dry.out.begin(), dry.out.end(), '\n'));
  // The nodes' inits exist from the namespaces phase on: fail before, during
  // and after the links, and at the last action; kill netlab while the inits
  // wait for their release (they see it go and end themselves; destroy
  // removes the rest).
  struct Point {
    const char* hook;
    size_t action;
  };
  for (auto [hook, k] : {Point{"NETLAB_FAIL_AT", 3}, Point{"NETLAB_FAIL_AT", 4}, Point{"NETLAB_FAIL_AT", actions / 2},
                         Point{"NETLAB_FAIL_AT", actions}, Point{"NETLAB_CRASH_AT", 4},
                         Point{"NETLAB_CRASH_AT", actions / 2}}) {
    const bool crash = std::string(hook) == "NETLAB_CRASH_AT";
    SCOPED_TRACE(std::string(hook) + "=" + std::to_string(k));
    int before_processes = processes_mapped_to(range.host_uid);
    auto before = snapshot();
    auto e = env();
    e.push_back(std::string(hook) + "=" + std::to_string(k));
    auto r = run_netlab({"deploy", path}, e);
    if (crash) {
      EXPECT_EQ(r.exit_code, 137) << r.err;
      auto d = netlab({"destroy", "--lab", lab});
      EXPECT_EQ(d.exit_code, 0) << d.err;
    } else {
      EXPECT_EQ(r.exit_code, 2) << r.err;
      EXPECT_NE(r.err.find("rolled back"), std::string::npos) << r.err;
    }
    auto after = snapshot();
    EXPECT_EQ(before, after) << before.diff(after);
    // A killed deploy's inits exit on their pipe's EOF, not on a signal: give
    // them the moment they need (bounded; the count is the condition).
    for (int i = 0; i < 200 && processes_mapped_to(range.host_uid) != before_processes; ++i) usleep(10'000);
    EXPECT_EQ(processes_mapped_to(range.host_uid), before_processes);
  }
}

}  // namespace
}  // namespace netlab::testing
