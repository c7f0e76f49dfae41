// Multi-host labs on simulated hosts (docs/multi-host.md). Each "host" is a
// network namespace joined to an underlay bridge in the test's own namespace
// (192.0.2.0/24), with a mount namespace of its own (private /run: its own
// /run/netns and state dir; sysfs of its netns; a cgroup parent of its own),
// held by a process of the test. `netlab deploy FILE --host hN` runs inside
// host N's namespaces exactly as on a real machine; the lab's traffic crosses
// hosts only as VXLAN over the test's underlay.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>

#include "support/listener.hpp"
#include "support/simulated_hosts.hpp"

namespace netlab::testing {
namespace {

TEST_F(MultiHostTest, RoutedPathAndBridgedLanSpanThreeHostsAndDestroyLeavesNothing) {
  for (int i = 1; i <= 3; ++i) {
    auto r = netlab_on(i, "deploy " + file_ + " --host h" + std::to_string(i));
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  // r1:eth0 is a VXLAN device in r1's namespace, its UDP socket in h1's root
  // namespace (link-netnsid), remote h2, the lab's port, MTU lowered, no learning.
  nlohmann::json eth0;
  for (auto& l : links_in(node_ns(1, "r1")))
    if (l.value("ifname", "") == "eth0") eth0 = l;
  ASSERT_FALSE(eth0.is_null());
  auto& info = eth0["linkinfo"];
  EXPECT_EQ(info.value("info_kind", ""), "vxlan");
  EXPECT_EQ(info["info_data"].value("remote", ""), "192.0.2.12");
  EXPECT_EQ(info["info_data"].value("local", ""), "192.0.2.11");
  EXPECT_EQ(info["info_data"].value("port", 0), 4790);
  EXPECT_EQ(info["info_data"].value("learning", true), false);
  EXPECT_EQ(eth0.value("mtu", 0), 1450);
  // Nothing of the lab is left in a host's root namespace: lo and the underlay.
  for (int i = 1; i <= 3; ++i) {
    std::string root = "/proc/" + std::to_string(holder_[i]) + "/ns/net";
    EXPECT_EQ(links_in(root).size(), 2u) << "host h" << i;
  }

  // Routed: r1 (h1) -> r2 (h2) -> r3 (h3), two VXLAN links.
  EXPECT_TRUE(ping_from(1, "r1", "10.0.23.2"));
  EXPECT_TRUE(ping_from(3, "r3", "10.0.12.1"));
  // Bridged: one LAN over three hosts' copies of bridge lan.
  EXPECT_TRUE(ping_from(1, "a1", "192.168.50.3"));
  EXPECT_TRUE(ping_from(2, "a2", "192.168.50.1"));
  EXPECT_TRUE(ping_from(3, "a3", "192.168.50.2"));
  // Not a path: r1 has no route to the LAN, and the LAN none to the routers.
  EXPECT_FALSE(ping_from(1, "r1", "192.168.50.1"));

  // TCP across two VXLAN hops; the listener on r3 sees r1's own address.
  {
    Listener listener("../.." + node_ns(3, "r3"), 5001);
    int rc = -1;
    run_shell("echo hi | nsenter --net=" + node_ns(1, "r1") + " busybox nc -w 2 10.0.23.2 5001", &rc);
    EXPECT_EQ(listener.peer().value_or("none"), "10.0.12.1");
  }
  // TCP over the spanning LAN: a3 listens, a1 connects.
  {
    Listener listener("../.." + node_ns(3, "a3"), 5002);
    run_shell("echo hi | nsenter --net=" + node_ns(1, "a1") + " busybox nc -w 2 192.168.50.3 5002");
    EXPECT_EQ(listener.peer().value_or("none"), "192.168.50.1");
  }

  for (int i = 1; i <= 3; ++i) {
    auto r = netlab_on(i, "destroy --lab " + lab_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(on(i, "ls /run/netns"), "") << "host h" << i;
    EXPECT_EQ(on(i, "ls /run/netlab | grep -v '^images$'"), "") << "host h" << i;
    std::string root = "/proc/" + std::to_string(holder_[i]) + "/ns/net";
    EXPECT_EQ(links_in(root).size(), 2u) << "host h" << i;
  }
  for (const char* h : {"cpu", "memory", "pids"})
    EXPECT_FALSE(fs::exists(std::string("/sys/fs/cgroup/") + h + "/" + cgroup_parent_ + "/h1/" + lab_));
}

TEST_F(MultiHostTest, DeployWithoutHostOrWithAnUnknownHostIsRefusedAndBuildsNothing) {
  auto r = netlab_on(1, "deploy " + file_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("spans 3 hosts"), std::string::npos) << r.out;
  r = netlab_on(1, "deploy " + file_ + " --host h9");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("--host h9: lab " + lab_ + " has no such host"), std::string::npos) << r.out;
  EXPECT_EQ(on(1, "ls /run/netns"), "");
  EXPECT_EQ(on(1, "ls /run/netlab | grep -v '^images$'"), "");
}

// A host's part that fails after its VXLAN devices and flooding entries exist
// rolls itself back; one killed there is removed by destroy. Either way nothing
// is left in the host, its root namespace included.
TEST_F(MultiHostTest, AFailedOrKilledHostPartLeavesNothingAfterRollbackOrDestroy) {
  auto plan = netlab_on(2, "deploy " + file_ + " --host h2 --dry-run");
  ASSERT_EQ(plan.exit_code, 0) << plan.out;
  // The first action after the last add_fdb (the bridge's VXLAN port is complete).
  size_t fdb = plan.out.rfind("add_fdb");
  ASSERT_NE(fdb, std::string::npos) << plan.out;
  size_t line = plan.out.find('\n', fdb) + 1;
  int at = std::stoi(plan.out.substr(line, plan.out.find(' ', plan.out.find_first_not_of(' ', line)) - line));
  std::string root = "/proc/" + std::to_string(holder_[2]) + "/ns/net";
  for (const char* mode : {"NETLAB_FAIL_AT", "NETLAB_CRASH_AT"}) {
    SCOPED_TRACE(mode);
    int rc = -1;
    std::string out = on(2, std::string("env ") + mode + "=" + std::to_string(at) + " " + NETLAB_BINARY + " deploy " +
                                file_ + " --host h2 2>&1",
                         &rc);
    EXPECT_NE(rc, 0) << out;
    if (std::string(mode) == "NETLAB_FAIL_AT") {
      EXPECT_NE(out.find("rolled back"), std::string::npos) << out;
    } else {
      auto r = netlab_on(2, "destroy --lab " + lab_);
      EXPECT_EQ(r.exit_code, 0) << r.out;
    }
    EXPECT_EQ(on(2, "ls /run/netns"), "");
    EXPECT_EQ(on(2, "ls /run/netlab | grep -v '^images$'"), "");
    EXPECT_EQ(links_in(root).size(), 2u);
  }
}

// `netlab deploy FILE` from outside every host, with ssh targets: all parts in
// parallel; when one host's part fails, every part is rolled back, and what the
// failing host had of its own is left alone. A stand-in for ssh (NETLAB_SSH)
// enters the simulated host's namespaces instead of connecting; it receives
// the same argv a real ssh would (options, target, one quoted command).
TEST_F(MultiHostTest, DeployOverSshBuildsEveryPartOrRollsBackAll) {
  std::string text = read_text(file_);
  for (int i = 1; i <= 3; ++i) {
    std::string a = "address = \"192.0.2.1" + std::to_string(i) + "\"";
    text.replace(text.find(a), a.size(), a + "\nssh = \"h" + std::to_string(i) + "\"");
    std::ofstream(dir_ + "/holder-h" + std::to_string(i)) << holder_[i];
  }
  std::string file = write_topology(dir_, "ssh.toml", text);
  std::string bindir = fs::path(NETLAB_BINARY).parent_path();
  std::ofstream(dir_ + "/ssh") << "#!/bin/sh\n"
                                  "while [ $# -gt 0 ]; do case \"$1\" in -o) shift 2;; -*) shift;; *) break;; esac; done\n"
                                  "t=$1; shift\n"
                                  "exec nsenter -t $(cat " << dir_ << "/holder-$t) -m -n env PATH=" << bindir
                               << ":$PATH NETLAB_CGROUP_PARENT=" << cgroup_parent_ << "/$t sh -c \"$*\"\n";
  fs::permissions(dir_ + "/ssh", fs::perms::owner_all);
  std::vector<std::string> env = {"NETLAB_SSH=" + dir_ + "/ssh"};

  auto r = run_netlab({"deploy", file}, env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("deployed on 3 hosts"), std::string::npos) << r.out;
  EXPECT_TRUE(ping_from(1, "r1", "10.0.23.2"));
  EXPECT_TRUE(ping_from(1, "a1", "192.168.50.3"));
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(netlab_on(i, "destroy --local --lab " + lab_).exit_code, 0);

  // Host h3 already runs its part (deployed there by hand): the whole-lab
  // deploy fails there, h1's and h2's new parts are rolled back, and h3's own
  // part — not built by this command — is left running.
  auto by_hand = netlab_on(3, "deploy " + file + " --host h3");
  ASSERT_EQ(by_hand.exit_code, 0) << by_hand.out;
  r = run_netlab({"deploy", file}, env);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("host h3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing this deploy built remains"), std::string::npos) << r.err;
  for (int i = 1; i <= 2; ++i) {
    EXPECT_EQ(on(i, "ls /run/netns"), "") << "host h" << i;
    EXPECT_EQ(on(i, "ls /run/netlab | grep -v '^images$'"), "") << "host h" << i;
    EXPECT_EQ(links_in("/proc/" + std::to_string(holder_[i]) + "/ns/net").size(), 2u);
  }
  EXPECT_EQ(on(3, "ls /run/netns"), "netlab-" + lab_ + "\n" + lab_ + "-a3\n" + lab_ + "-r3\n");
  EXPECT_EQ(netlab_on(3, "destroy --local --lab " + lab_).exit_code, 0);
  EXPECT_EQ(on(3, "ls /run/netns"), "");
}

}  // namespace
}  // namespace netlab::testing
