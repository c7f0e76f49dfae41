// A multi-host lab driven over real OpenSSH: each simulated host (see
// support/simulated_hosts.hpp) runs its own /usr/sbin/sshd on its underlay
// address, with a host key and an authorized client key the test generates in
// its temporary directory. The test drives netlab from host h1 as a user would
// from a laptop: deploy, inspect, exec, link, test, apply and destroy of the
// whole lab, every other host reached through its sshd. Nothing host-wide is
// read or written: the client uses its own ssh_config, key, known_hosts and
// control sockets (NETLAB_SSH="ssh -F ... -o ControlPath=..."), and each sshd
// its own config, pid file and /run/sshd in the host's private /run.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <chrono>
#include <map>
#include <set>

#include "support/simulated_hosts.hpp"

namespace netlab::testing {
namespace {

const char* kChecks = R"(
[[checks]]
name = "routed path over two tunnels"
group = "reach"
kind = "ping"
from = "r1"
to = "r3"
[[checks]]
name = "lan across three hosts"
group = "reach"
kind = "ping"
from = "a3"
to = "192.168.50.1"
[[checks]]
name = "router 2 forwards"
group = "reach"
kind = "ping"
from = "r2"
to = "10.0.12.1"
[[checks]]
name = "tcp across hosts, listener sees r1"
group = "reach"
kind = "connect"
from = "r1"
to = "r3"
port = 7001
source = "10.0.12.1"
[[checks]]
name = "no path from the routers to the lan"
group = "isolation"
kind = "ping"
from = "r1"
to = "192.168.50.3"
expect = "failure"
)";

class RealSshMultiHostTest : public MultiHostTest {
 protected:
  void SetUp() override {
    MultiHostTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (access("/usr/sbin/sshd", X_OK) != 0) GTEST_SKIP() << "openssh-server is not installed (scripts/setup)";
    int rc = -1;
    run_shell("ssh-keygen -q -t ed25519 -N '' -C netlab-test -f " + dir_ + "/id", &rc);
    ASSERT_EQ(rc, 0);
    std::string bindir = fs::path(NETLAB_BINARY).parent_path();
    std::ofstream known(dir_ + "/known_hosts");
    for (int i = 1; i <= 3; ++i) {
      std::string h = "h" + std::to_string(i), addr = "192.0.2.1" + std::to_string(i);
      run_shell("ssh-keygen -q -t ed25519 -N '' -C " + h + " -f " + dir_ + "/hostkey-" + h, &rc);
      ASSERT_EQ(rc, 0);
      std::string pub = read_text(dir_ + "/hostkey-" + h + ".pub");
      known << addr << " " << pub.substr(0, pub.rfind(' ')) << "\n";
      // The simulated host's own sshd: its address only, the test's key only,
      // netlab on the PATH of its sessions (the hosts share the filesystem).
      std::ofstream(dir_ + "/sshd_config-" + h)
          << "ListenAddress " << addr << ":22\n"
          << "HostKey " << dir_ << "/hostkey-" << h << "\n"
          << "AuthorizedKeysFile " << dir_ << "/id.pub\n"
          << "PidFile " << dir_ << "/sshd-" << h << ".pid\n"
          << "StrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\n"
          << "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
          << "SetEnv PATH=" << bindir << ":/usr/sbin:/usr/bin:/sbin:/bin NETLAB_CGROUP_PARENT=" << cgroup_parent_
          << "/" << h << "\n";
      on(i, "mkdir -p /run/sshd", &rc);  // privilege separation directory, in the host's private /run
      ASSERT_EQ(rc, 0);
      start_sshd(i);
      ASSERT_TRUE(accepts(i, addr)) << "sshd of " << h << " does not accept: " << read_text(dir_ + "/sshd-" + h + ".log");
    }
    known.close();
    std::ofstream(dir_ + "/ssh_config") << "Host *\n"
                                        << "  User root\n"
                                        << "  IdentityFile " << dir_ << "/id\n"
                                        << "  IdentitiesOnly yes\n"
                                        << "  UserKnownHostsFile " << dir_ << "/known_hosts\n"
                                        << "  GlobalKnownHostsFile /dev/null\n"
                                        << "  StrictHostKeyChecking yes\n"
                                        << "  ConnectTimeout 5\n";
    // One shared connection per host, as netlab asks for when ~/.ssh exists (here in the temp dir).
    ssh_ = "ssh -F " + dir_ + "/ssh_config -o ControlMaster=auto -o ControlPersist=60 -o ControlPath=" + dir_ + "/cm-%C";
    std::string text = read_text(file_);
    for (int i = 1; i <= 3; ++i) {
      std::string a = "address = \"192.0.2.1" + std::to_string(i) + "\"";
      text.replace(text.find(a), a.size(), a + "\nssh = \"root@192.0.2.1" + std::to_string(i) + "\"");
    }
    file_ = write_topology(dir_, "ssh.toml", text + kChecks);
    plain_ = text;
  }

  void TearDown() override {
    for (int i = 1; i <= 3; ++i) {
      if (sshd_[i] <= 0) continue;
      // The multiplexing masters (ControlPersist) end first, then each sshd, by its pid.
      on(1, ssh_ + " -O exit root@192.0.2.1" + std::to_string(i) + " 2>/dev/null");
    }
    for (int i = 1; i <= 3; ++i) {
      if (sshd_[i] <= 0) continue;
      kill(sshd_[i], SIGTERM);
      waitpid(sshd_[i], nullptr, 0);
    }
    MultiHostTest::TearDown();
  }

  void start_sshd(int i) {
    std::string h = "h" + std::to_string(i);
    std::string log = dir_ + "/sshd-" + h + ".log", cfg = dir_ + "/sshd_config-" + h;
    std::string target = std::to_string(holder_[i]);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(fd, 2);
      prctl(PR_SET_PDEATHSIG, SIGTERM);  // a test killed half-way takes its sshd with it
      // nsenter without -p execs sshd itself: the pid forked here is sshd's.
      execl("/usr/bin/nsenter", "nsenter", "-t", target.c_str(), "-m", "-n", "/usr/sbin/sshd", "-D", "-e", "-f",
            cfg.c_str(), nullptr);
      _exit(127);
    }
    sshd_[i] = pid;
  }

  // Polls a TCP connect to addr:22 from inside host i until sshd accepts (5 s at most).
  bool accepts(int i, const std::string& addr) {
    pid_t pid = fork();
    if (pid == 0) {
      int ns = open(("/proc/" + std::to_string(holder_[i]) + "/ns/net").c_str(), O_RDONLY);
      if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) _exit(2);
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      sa.sin_port = htons(22);
      inet_pton(AF_INET, addr.c_str(), &sa.sin_addr);
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (std::chrono::steady_clock::now() < deadline) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) _exit(0);
        close(s);
        usleep(20'000);
      }
      _exit(1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

  // Host i holds nothing of a lab: no pin, no state, only its underlay links.
  void expect_nothing_of_the_lab_on(int i) {
    EXPECT_EQ(on(i, "ls /run/netns"), "") << "host h" << i;
    EXPECT_EQ(on(i, "ls /run/netlab | grep -v '^images$'"), "") << "host h" << i;
    EXPECT_EQ(links_in("/proc/" + std::to_string(holder_[i]) + "/ns/net").size(), 2u) << "host h" << i;
  }

  // netlab run on host i with the test's ssh client settings.
  CliResult user_on(int i, const std::string& args, bool with_stderr = true) {
    int rc = -1;
    // MH_DEBUG=1 in the environment prints each command and what it printed.
    if (getenv("MH_DEBUG")) std::cerr << "== h" << i << ": netlab " << args << "\n";
    std::string out =
        on(i, "env NETLAB_SSH='" + ssh_ + "' " + NETLAB_BINARY + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null"), &rc);
    if (getenv("MH_DEBUG")) std::cerr << out << "== exit " << rc << "\n";
    return {rc, out, ""};
  }

  bool iface_up(int i, const std::string& node, const std::string& iface) {
    for (auto& l : links_in(node_ns(i, node)))
      if (l.value("ifname", "") == iface)
        for (auto& f : l["flags"])
          if (f == "UP") return true;
    return false;
  }

  // Every node's pid, from inspect of the whole lab on host i.
  std::map<std::string, int> pids(int i) {
    std::map<std::string, int> out;
    auto j = nlohmann::json::parse(user_on(i, "inspect " + lab_ + " --json", false).out, nullptr, false);
    if (j.is_object())
      for (auto& n : j["nodes"]) out[n.value("name", "")] = n.value("pid", 0);
    return out;
  }

  // What the kernel of host i holds for each node of the lab there: its
  // interfaces (name, kind, VXLAN id and remote, addresses) and routes, free of
  // interface indexes (a link made again has a new one).
  std::string kernel_view(int i) {
    std::string out;
    std::string pins = on(i, "ls /run/netns");
    for (size_t start = 0, end; (end = pins.find('\n', start)) != std::string::npos; start = end + 1) {
      std::string pin = pins.substr(start, end - start);
      if (pin.rfind(lab_ + "-", 0) != 0) continue;
      std::string ns = "/proc/" + std::to_string(holder_[i]) + "/root/run/netns/" + pin;
      out += pin + ":\n";
      auto addrs = nlohmann::json::parse(run_shell("nsenter --net=" + ns + " ip -j -d addr show"), nullptr, false);
      for (auto& l : addrs) {
        out += "  " + l.value("ifname", "?");
        if (l.contains("linkinfo")) {
          auto& li = l["linkinfo"];
          out += " " + li.value("info_kind", "");
          if (li.contains("info_data") && li.value("info_kind", "") == "vxlan")
            out += " id " + std::to_string(li["info_data"].value("id", 0)) + " remote " +
                   li["info_data"].value("remote", "") + " mtu " + std::to_string(l.value("mtu", 0));
        }
        for (auto& a : l["addr_info"])
          if (a.value("scope", "") != "link") out += " " + a.value("local", "") + "/" + std::to_string(a.value("prefixlen", 0));
        out += "\n";
      }
      auto routes = nlohmann::json::parse(run_shell("nsenter --net=" + ns + " ip -j route show"), nullptr, false);
      for (auto& r : routes) out += "  route " + r.value("dst", "") + " via " + r.value("gateway", "") + " dev " + r.value("dev", "") + "\n";
    }
    return out;
  }

  std::string ssh_, plain_;  // plain_: the lab with ssh targets, without checks
  pid_t sshd_[4] = {0, 0, 0, 0};
};

std::string sub(std::string text, const std::string& from, const std::string& to) {
  size_t p = text.find(from);
  if (p == std::string::npos) ADD_FAILURE() << "no " << from << " in the topology";
  else text.replace(p, from.size(), to);
  return text;
}

TEST_F(RealSshMultiHostTest, AUserOnOneHostDeploysInspectsExecsLinksTestsAndDestroysTheWholeLab) {
  // deploy: every part over ssh, from h1.
  auto r = user_on(1, "deploy " + file_);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("deployed on 3 hosts"), std::string::npos) << r.out;
  EXPECT_EQ(on(1, "ls /run/netns"), "netlab-" + lab_ + "\n" + lab_ + "-a1\n" + lab_ + "-r1\n");
  EXPECT_EQ(on(3, "ls /run/netns"), "netlab-" + lab_ + "\n" + lab_ + "-a3\n" + lab_ + "-r3\n");
  // Deployed again with --reconfigure: every part is replaced, on every host.
  auto r3_pid = [&] {
    auto j = nlohmann::json::parse(user_on(3, "inspect " + lab_ + " --local --json", false).out, nullptr, false);
    if (j.is_object())
      for (auto& n : j["nodes"])
        if (n.value("name", "") == "r3") return n.value("pid", 0);
    return 0;
  };
  int before = r3_pid();
  EXPECT_GT(before, 0);
  r = user_on(1, "deploy " + file_ + " --reconfigure");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_GT(r3_pid(), 0);
  EXPECT_NE(r3_pid(), before);  // a new node on h3
  EXPECT_TRUE(ping_from(1, "r1", "10.0.23.2"));
  EXPECT_TRUE(ping_from(1, "a1", "192.168.50.3"));

  // inspect: one table and one JSON document with every host's nodes.
  r = user_on(1, "inspect " + lab_ + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto info = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(info.is_object()) << r.out;
  std::map<std::string, std::string> where;
  for (auto& n : info["nodes"]) where[n.value("name", "")] = n.value("host", "");
  EXPECT_EQ(where, (std::map<std::string, std::string>{
                       {"a1", "h1"}, {"r1", "h1"}, {"a2", "h2"}, {"r2", "h2"}, {"a3", "h3"}, {"r3", "h3"}}));
  ASSERT_EQ(info["hosts"].size(), 3u);
  for (auto& h : info["hosts"]) EXPECT_TRUE(h.value("ok", false)) << h.dump();
  r = user_on(2, "inspect " + lab_);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("HOST"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("10.0.23.2/24"), std::string::npos) << r.out;  // r3's address, read on h3

  // exec: routed to the host that runs the node; stdin, stdout and the exit code pass through.
  r = user_on(1, "exec " + lab_ + " r3 -- hostname");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "r3\n");
  int rc = -1;
  std::string out = on(1, "sh -c \"echo through | env NETLAB_SSH='" + ssh_ + "' " + NETLAB_BINARY + " exec " + lab_ +
                              " a2 -- cat\"",
                       &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, "through\n");
  EXPECT_EQ(user_on(1, "exec " + lab_ + " a3 -- sh -c 'exit 7'").exit_code, 7);

  // test: every check on its node's host, one table.
  r = user_on(1, "test " + file_);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("r1@h1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("a3@h3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("r2@h2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("5 passed, 0 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("listener saw 10.0.12.1"), std::string::npos) << r.out;  // r3, on h3, saw r1

  // link down from h1 on a link between h2 and h3: both VXLAN ends go down, on
  // their own hosts, and the routed path breaks (and the test says so).
  r = user_on(1, "link down " + lab_ + " r2:eth1");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_FALSE(iface_up(2, "r2", "eth1"));
  EXPECT_FALSE(iface_up(3, "r3", "eth0"));
  EXPECT_TRUE(iface_up(2, "r2", "eth0"));
  EXPECT_FALSE(ping_from(1, "r1", "10.0.23.2"));
  r = user_on(1, "test " + file_ + " --json", /*with_stderr=*/false);
  EXPECT_EQ(r.exit_code, 4) << r.out;
  auto results = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(results.is_array()) << r.out;
  for (auto& c : results) {
    if (c.value("name", "") == "routed path over two tunnels") {
      EXPECT_FALSE(c.value("passed", true));
      EXPECT_EQ(c.value("host", ""), "h1");
    }
    if (c.value("name", "") == "tcp across hosts, listener sees r1") {
      EXPECT_FALSE(c.value("passed", true));
      // r2 answers for the down link (unreachable) or nothing does (timeout): either way no connection.
      EXPECT_EQ(c.value("got", "").rfind("no connection (", 0), 0u) << c.dump();
      EXPECT_EQ(c.value("got", "").back(), ')') << c.dump();
    }
    if (c.value("group", "") == "isolation") EXPECT_TRUE(c.value("skipped", false)) << c.dump();
  }
  r = user_on(1, "link up " + lab_ + " r2:eth1");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(iface_up(2, "r2", "eth1"));
  EXPECT_TRUE(iface_up(3, "r3", "eth0"));
  EXPECT_TRUE(eventually([&] { return ping_from(1, "r1", "10.0.23.2"); }, 5000));

  // link set from h2 on a link between h1 and h2: a rate limit (TBF; this
  // kernel has no netem) on the egress of both VXLAN ends, each set by its own
  // host (r1's over ssh), read back by tc.
  r = user_on(2, "link set " + lab_ + " r1:eth0 --rate 10mbit");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  for (auto [i, node] : {std::pair{1, "r1"}, std::pair{2, "r2"}}) {
    std::string tc = run_shell("nsenter --net=" + node_ns(i, node) + " tc qdisc show dev eth0");
    EXPECT_NE(tc.find("qdisc tbf"), std::string::npos) << node << ": " << tc;
    EXPECT_NE(tc.find("rate 10Mbit"), std::string::npos) << node << ": " << tc;
  }

  // apply of the file the lab runs: every host's part already matches it.
  r = user_on(1, "apply " + file_);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  for (const char* h : {"h1", "h2", "h3"})
    EXPECT_NE(r.out.find(std::string("host ") + h + ": lab " + lab_ + " already matches"), std::string::npos) << r.out;

  // destroy from another host (h2): nothing of the lab is left on any host.
  r = user_on(2, "destroy --lab " + lab_);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  for (int i = 1; i <= 3; ++i) {
    expect_nothing_of_the_lab_on(i);
    for (const char* c : {"cpu", "memory", "pids"})
      EXPECT_FALSE(fs::exists(std::string("/sys/fs/cgroup/") + c + "/" + cgroup_parent_ + "/h" + std::to_string(i) +
                              "/" + lab_));
  }
}

// Host h3 already runs its part (deployed there by hand): the whole-lab deploy
// from h1 fails there, and h1's and h2's new parts are rolled back over ssh;
// then `destroy FILE` from h1, which holds nothing, reaches h3 from the file alone;
// then `test FILE` deploys the lab over ssh, checks it on every host and destroys it.
TEST_F(RealSshMultiHostTest, AFailingPartRollsBackEveryPartAndDestroyFileFromAnyHostReachesAll) {
  auto by_hand = netlab_on(3, "deploy " + file_ + " --host h3");
  ASSERT_EQ(by_hand.exit_code, 0) << by_hand.out;
  auto r = user_on(1, "deploy " + file_);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("host h3 (root@192.0.2.13): deploy failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("already deployed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing this deploy built remains"), std::string::npos) << r.out;
  for (int i = 1; i <= 2; ++i) {
    expect_nothing_of_the_lab_on(i);
  }
  EXPECT_EQ(on(3, "ls /run/netns"), "netlab-" + lab_ + "\n" + lab_ + "-a3\n" + lab_ + "-r3\n");

  r = user_on(1, "destroy " + file_);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("host h3: lab " + lab_ + " destroyed"), std::string::npos) << r.out;
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(on(i, "ls /run/netns"), "") << "host h" << i;
    EXPECT_EQ(on(i, "ls /run/netlab | grep -v '^images$'"), "") << "host h" << i;
  }

  // test of a lab no host runs: deployed over ssh, checked on each host,
  // destroyed again; stdout is the results alone (JSON), each with its host.
  r = user_on(1, "test " + file_ + " --json", /*with_stderr=*/false);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  auto results = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(results.is_array()) << r.out;
  EXPECT_EQ(results.size(), 5u);
  std::set<std::string> hosts;
  for (auto& c : results) {
    EXPECT_TRUE(c.value("passed", false)) << c.dump();
    hosts.insert(c.value("host", ""));
  }
  EXPECT_EQ(hosts, (std::set<std::string>{"h1", "h2", "h3"}));
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(on(i, "ls /run/netns"), "") << "host h" << i;
    EXPECT_EQ(on(i, "ls /run/netlab | grep -v '^images$'"), "") << "host h" << i;
  }
}

// apply from h1 of an edit that adds a node on h3 linked across hosts to r1
// (h1), changes a1's address, removes the r2-r3 link (both of its VXLAN ends),
// and pins no running node (they stay where they run). First the same edit
// with a route h3's kernel refuses: every part is as before. A bridge that
// would span fewer hosts is refused. Then the edit itself, read back from
// each host's kernel; then destroy from h2 leaves nothing.
TEST_F(RealSshMultiHostTest, ApplyFromOneHostChangesEveryPartAndAFailingPartLeavesEveryPartAsBefore) {
  std::string base = plain_;
  auto r = user_on(1, "deploy " + write_topology(dir_, "base.toml", base));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::string edit = base;
  for (const char* h : {"h1", "h2", "h3"})
    for (size_t p; (p = edit.find(std::string("host = \"") + h + "\"\n")) != std::string::npos;) edit.erase(p, 12);
  edit = sub(edit, "interfaces.eth0 = \"10.0.12.1/24\"", "interfaces = { eth0 = \"10.0.12.1/24\", eth1 = \"10.0.14.1/24\" }");
  edit = sub(edit, "interfaces = { eth0 = \"10.0.12.2/24\", eth1 = \"10.0.23.1/24\" }", "interfaces.eth0 = \"10.0.12.2/24\"");
  edit = sub(edit, "interfaces.eth0 = \"10.0.23.2/24\"\nroutes = [{ to = \"10.0.12.0/24\", via = \"10.0.23.1\" }]\n", "");
  edit = sub(edit, "192.168.50.1/24", "192.168.50.11/24");
  edit = sub(edit, "[[links]]\nendpoints = [\"r2:eth1\", \"r3:eth0\"]\n", "");
  edit += "[[links]]\nendpoints = [\"r1:eth1\", \"r4:eth0\"]\n[nodes.r4]\nhost = \"h3\"\ninterfaces.eth0 = \"10.0.14.4/24\"\n";
  std::string bad = edit + "routes = [{ to = \"10.0.99.0/24\", via = \"10.0.14.1\" }, { to = \"10.0.99.0/24\", via = \"10.0.14.2\" }]\n";
  std::string edited = write_topology(dir_, "edit.toml", edit);

  auto pids_before = pids(1);
  ASSERT_EQ(pids_before.size(), 6u);
  std::string views_before[4];
  for (int i = 1; i <= 3; ++i) views_before[i] = kernel_view(i);
  EXPECT_NE(views_before[2].find("eth1 vxlan"), std::string::npos) << views_before[2];
  std::string saved_before = on(2, "cat /run/netlab/" + lab_ + "/topology.toml");

  // --dry-run: each host's plan, prefixed by its host; nothing changes.
  r = user_on(1, "apply " + edited + " --dry-run", false);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("h1: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("create_vxlan       vxlan r4:eth0 <-> r1:eth1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("h2: "), std::string::npos) << r.out;
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(kernel_view(i), views_before[i]) << "host h" << i;

  // The kernel of h3 refuses r4's second route to 10.0.99.0/24: h3's part rolls
  // itself back, h1's and h2's are given the previous topology again.
  r = user_on(1, "apply " + write_topology(dir_, "bad.toml", bad));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("host h3 (root@192.0.2.13): its part failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("EEXIST"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("restoring the previous topology of lab " + lab_ + " on h1, h2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("every part of lab " + lab_ + " is as it was"), std::string::npos) << r.out;
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(kernel_view(i), views_before[i]) << "host h" << i;
  EXPECT_EQ(pids(1), pids_before);
  EXPECT_EQ(on(2, "cat /run/netlab/" + lab_ + "/topology.toml"), saved_before);
  EXPECT_TRUE(ping_from(1, "r1", "10.0.23.2"));

  // A3 and its port gone: lan would no longer reach h3: refused, naming the bridge.
  std::string shrink = sub(sub(edit, "[[links]]\nendpoints = [\"a3:eth0\", \"lan\"]\n", ""),
                           "[nodes.a3]\ninterfaces.eth0 = \"192.168.50.3/24\"\n", "");
  r = user_on(1, "apply " + write_topology(dir_, "shrink.toml", shrink));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("bridge lan would span hosts h1, h2 instead of h1, h2, h3"), std::string::npos) << r.out;
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(kernel_view(i), views_before[i]) << "host h" << i;

  // The edit itself.
  r = user_on(1, "apply " + edited);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("lab " + lab_ + " applied on 3 hosts"), std::string::npos) << r.out;
  auto pids_after = pids(1);
  EXPECT_EQ(pids_after.size(), 7u);
  for (const auto& [node, pid] : pids_before) EXPECT_EQ(pids_after[node], pid) << node << " was restarted";
  EXPECT_EQ(on(1, "ls /run/netns"), "netlab-" + lab_ + "\n" + lab_ + "-a1\n" + lab_ + "-r1\n");
  EXPECT_EQ(on(2, "ls /run/netns"), "netlab-" + lab_ + "\n" + lab_ + "-a2\n" + lab_ + "-r2\n");
  EXPECT_EQ(on(3, "ls /run/netns"), "netlab-" + lab_ + "\n" + lab_ + "-a3\n" + lab_ + "-r3\n" + lab_ + "-r4\n");
  std::string v1 = kernel_view(1), v2 = kernel_view(2), v3 = kernel_view(3);
  EXPECT_NE(v1.find("eth1 vxlan id "), std::string::npos) << v1;
  EXPECT_NE(v1.find("remote 192.0.2.13 mtu 1450 10.0.14.1/24"), std::string::npos) << v1;
  EXPECT_NE(v1.find("192.168.50.11/24"), std::string::npos) << v1;
  EXPECT_EQ(v1.find("192.168.50.1/24"), std::string::npos) << v1;
  EXPECT_EQ(v2.find("eth1"), std::string::npos) << v2;   // r2's end of the removed link
  EXPECT_NE(v3.find(lab_ + "-r4:\n  lo 127.0.0.1/8 ::1/128\n  eth0 vxlan id "), std::string::npos) << v3;
  EXPECT_NE(v3.find("remote 192.0.2.11 mtu 1450 10.0.14.4/24"), std::string::npos) << v3;
  EXPECT_EQ(v3.find("10.0.23."), std::string::npos) << v3;  // r3's end of the removed link
  // Each host saved the file with every node's host written out.
  std::string saved = on(2, "cat /run/netlab/" + lab_ + "/topology.toml");
  EXPECT_NE(saved.find("host = 'h3'"), std::string::npos) << saved;
  EXPECT_NE(saved.find("host = 'h2'"), std::string::npos) << saved;
  EXPECT_EQ(saved, on(3, "cat /run/netlab/" + lab_ + "/topology.toml"));
  EXPECT_TRUE(ping_from(1, "r1", "10.0.14.4"));
  EXPECT_TRUE(ping_from(3, "r4", "10.0.14.1"));
  EXPECT_TRUE(ping_from(3, "a3", "192.168.50.11"));
  EXPECT_TRUE(ping_from(1, "r1", "10.0.12.2"));
  EXPECT_FALSE(ping_from(1, "r1", "10.0.23.2"));
  // Applied again: nothing to change anywhere.
  r = user_on(1, "apply " + edited);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find("steps ("), std::string::npos) << r.out;

  // destroy from another host (h2): nothing of the lab is left on any host.
  r = user_on(2, "destroy --lab " + lab_);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  for (int i = 1; i <= 3; ++i) {
    expect_nothing_of_the_lab_on(i);
  }
}

}  // namespace
}  // namespace netlab::testing
