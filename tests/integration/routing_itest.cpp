// Issue 16: routing labs with real daemons. The shipped BIRD and FRR labs
// converge (their `within` checks pass), reroute when a cable is pulled, and
// leave nothing behind; a node's `cmd` that ends shows in inspect --json with
// its exit code or signal, deploy's warning and `netlab logs` (also -f, which
// ends when the lab is destroyed).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "lab/node_status.hpp"
#include "support/lab_fixture.hpp"

namespace netlab::testing {
namespace {

namespace fs = std::filesystem;

class RoutingTest : public LabTest {
 protected:
  std::string route_via(const std::string& netns, const std::string& dst) {
    auto r = ip_json(netns, "-4 route get " + dst);
    return r.empty() || !r[0].contains("gateway") ? "" : r[0]["gateway"].get<std::string>();
  }

  nlohmann::json node_json(const std::string& lab, const std::string& node) {
    auto r = netlab({"inspect", lab, "--json"});
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded()) return nullptr;
    for (const auto& n : j["nodes"])
      if (n["name"] == node) return n;
    return nullptr;
  }

  // Runs `netlab test` on a shipped lab directory, keeps the lab, asserts every check passed.
  void converge(const std::string& path) {
    auto r = netlab({"test", path, "--keep", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    auto results = nlohmann::json::parse(r.out);
    ASSERT_FALSE(results.empty());
    int retried = 0;
    for (const auto& res : results) {
      EXPECT_TRUE(res["passed"].get<bool>()) << res.dump();
      EXPECT_GE(res["attempts"].get<int>(), 1);
      retried += res["attempts"].get<int>() > 1;
    }
    // Right after deploy nothing has converged: the `within` checks had to wait.
    EXPECT_GT(retried, 0) << r.out;
  }
};

TEST_F(RoutingTest, BirdBgpLabConvergesFiltersAndReroutesWhenACableIsPulled) {
  if (access("/usr/sbin/bird", X_OK) != 0) GTEST_SKIP() << "bird2 is not installed (scripts/setup installs it)";
  std::string lab;
  std::string path = shipped_dir("bird-bgp", lab, "b");
  auto before = snapshot();
  deployed_.push_back(lab);
  converge(path);
  // bird -f is each router's cmd: running, and its log is the daemon's.
  auto r3 = node_json(lab, "r3");
  ASSERT_FALSE(r3.is_null());
  EXPECT_EQ(r3["cmd"]["state"], "running") << r3.dump();
  auto logs = netlab({"logs", lab, "r3"});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_NE(logs.out.find("Started"), std::string::npos) << logs.out;
  // The filter held: r2 has r1's 10.1.99.0/24, r3 has no route at all to it.
  EXPECT_EQ(route_via(lab + "-r2", "10.1.99.1"), "10.0.12.1");
  EXPECT_TRUE(ip_json(lab + "-r3", "-4 route get 10.1.99.1").empty());
  // Pull the r1-r3 cable: r3 reaches h1's LAN through r2 (AS path 65002 65001).
  EXPECT_EQ(route_via(lab + "-r3", "10.1.0.10"), "10.0.13.1");
  auto down = netlab({"link", "down", lab, "r1:eth0"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_TRUE(eventually([&] { return route_via(lab + "-r3", "10.1.0.10") == "10.0.23.2"; }, 30000))
      << "r3 still routes 10.1.0.10 via " << route_via(lab + "-r3", "10.1.0.10");
  EXPECT_TRUE(eventually([&] { return ping(lab + "-h1", "10.3.0.10"); }, 10000));
  destroy_ok(lab);
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);
}

TEST_F(RoutingTest, FrrOspfLabConvergesAndReroutesWhenACableIsPulled) {
  if (access("/usr/lib/frr/frrinit.sh", X_OK) != 0) GTEST_SKIP() << "frr is not installed (scripts/setup installs it)";
  std::string lab;
  std::string path = shipped_dir("frr-ospf", lab, "f");
  auto before = snapshot();
  deployed_.push_back(lab);
  converge(path);
  EXPECT_EQ(route_via(lab + "-r1", "192.168.3.10"), "10.0.12.2");
  EXPECT_EQ(route_via(lab + "-r3", "192.168.1.10"), "10.0.23.2");
  auto down = netlab({"link", "down", lab, "r1:eth1"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_TRUE(eventually([&] { return route_via(lab + "-r1", "192.168.3.10") == "10.0.41.4"; }, 30000))
      << "r1 still routes 192.168.3.10 via " << route_via(lab + "-r1", "192.168.3.10");
  // The replies need r3's way back to turn too: r2's new router LSA reaches r3
  // within FRR's LSA and SPF throttles (up to 5 s each), which under load took
  // more than the 10 s this test used to give the ping for both.
  EXPECT_TRUE(eventually([&] { return route_via(lab + "-r3", "192.168.1.10") == "10.0.34.4"; }, 30000))
      << "r3 still routes 192.168.1.10 via " << route_via(lab + "-r3", "192.168.1.10");
  EXPECT_TRUE(eventually([&] { return ping(lab + "-h1", "192.168.3.10"); }, 10000));
  auto up = netlab({"link", "up", lab, "r1:eth1"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_TRUE(eventually([&] { return route_via(lab + "-r1", "192.168.3.10") == "10.0.12.2"; }, 30000));
  destroy_ok(lab);
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);
}

TEST_F(RoutingTest, AGeneratedFrrGridConvergesOnEveryRouter) {
  if (access("/usr/lib/frr/frrinit.sh", X_OK) != 0) GTEST_SKIP() << "frr is not installed (scripts/setup installs it)";
  std::string lab = lab_prefix_ + "g";
  fs::path dir = fs::path(files_dir_) / lab;
  auto gen = netlab({"generate", "frr-grid", "3", "3", "-o", dir.string(), "--name", lab});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  auto before = snapshot();
  deployed_.push_back(lab);
  // netlab test deploys it, waits (within) until r1 has every loopback, then
  // checks every other router has them all too, then pings across.
  auto r = netlab({"test", (dir / "topology.toml").string(), "--keep", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto results = nlohmann::json::parse(r.out);
  std::map<std::string, int> per_group;
  int waited = 0;
  for (const auto& res : results) {
    EXPECT_TRUE(res["passed"].get<bool>()) << res.dump();
    per_group[res["group"]]++;
    waited += res["attempts"].get<int>() > 1;
  }
  EXPECT_EQ(per_group["converged"], 2);
  EXPECT_EQ(per_group["everywhere"], 8);  // r2 .. r9, one check each
  EXPECT_EQ(per_group["reachable"], 1);
  EXPECT_GT(waited, 0) << "right after deploy nothing has converged: a within check had to wait";
  // Read back from each router's kernel, not through the checks: a route to
  // every other loopback, installed by zebra (proto ospf), through a neighbour.
  for (int i = 1; i <= 9; ++i) {
    std::set<std::string> dsts;
    for (const auto& route : ip_json(lab + "-r" + std::to_string(i), "-4 route show proto ospf"))
      dsts.insert(route["dst"].get<std::string>());
    for (int k = 1; k <= 9; ++k)
      EXPECT_EQ(dsts.count("10.255.0." + std::to_string(k)), k == i ? 0u : 1u) << "r" << i << " -> r" << k;
    // What a router whose `vtysh -b` was killed lacks: its running configuration.
    auto conf = netlab({"exec", lab, "r" + std::to_string(i), "--", "vtysh", "-c", "show running-config"});
    EXPECT_NE(conf.out.find("router ospf"), std::string::npos) << "r" << i << ":\n" << conf.out << conf.err;
  }
  // r1 (top left) reaches r9's loopback (bottom right) over the grid: four hops.
  EXPECT_TRUE(ping(lab + "-r1", "10.255.0.9"));
  auto via = ip_json(lab + "-r1", "-4 route get 10.255.0.9");
  ASSERT_FALSE(via.empty());
  EXPECT_TRUE(via[0]["gateway"] == "10.0.0.1" || via[0]["gateway"] == "10.0.0.3") << via.dump();  // r2 or r4
  destroy_ok(lab);
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);
}

TEST_F(RoutingTest, AGeneratedGridWithAnUnconfiguredRouterFailsConvergedNamingItsLoopback) {
  if (access("/usr/lib/frr/frrinit.sh", X_OK) != 0) GTEST_SKIP() << "frr is not installed (scripts/setup installs it)";
  std::string lab = lab_prefix_ + "u";
  fs::path dir = fs::path(files_dir_) / lab;
  auto gen = netlab({"generate", "frr-grid", "2", "2", "-o", dir.string(), "--name", lab});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  // r2's daemons run without a configuration — what a killed `vtysh -b` leaves:
  // no frr.conf, so the init script starts them with empty per-daemon files.
  // (r2: the first loopback r1's check lists, so the one its failure names.)
  fs::remove(dir / "r2" / "frr.conf");
  // Wait 20 s rather than 120 s for the failure.
  std::string text;
  {
    std::ifstream in(dir / "topology.toml");
    std::stringstream ss;
    ss << in.rdbuf();
    text = std::regex_replace(ss.str(), std::regex("within = \"120s\""), "within = \"20s\"");
  }
  std::ofstream(dir / "topology.toml") << text;
  auto before = snapshot();
  deployed_.push_back(lab);
  auto r = netlab({"test", (dir / "topology.toml").string(), "--keep", "--json"});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  auto results = nlohmann::json::parse(r.out);
  bool named = false;
  for (const auto& res : results) {
    if (res["name"] == "r1 has a route to every other router's loopback") {
      EXPECT_FALSE(res["passed"].get<bool>()) << res.dump();
      EXPECT_GT(res["attempts"].get<int>(), 1) << res.dump();
      named = res["got"].get<std::string>().find(R"(no element matches {"dst":"10.255.0.2"})") != std::string::npos;
      EXPECT_TRUE(named) << res.dump();
    } else if (res["group"] != "converged") {
      EXPECT_TRUE(res["skipped"].get<bool>()) << res.dump();
    }
  }
  EXPECT_TRUE(named) << r.out;
  // r2's ospfd runs all the same, unconfigured; r1 learns r3's and r4's loopbacks, never r2's.
  auto conf = netlab({"exec", lab, "r2", "--", "vtysh", "-c", "show running-config"});
  EXPECT_EQ(conf.exit_code, 0) << conf.err;
  EXPECT_EQ(conf.out.find("router ospf"), std::string::npos) << conf.out;
  auto ospfd = netlab({"exec", lab, "r2", "--", "vtysh", "-d", "ospfd", "-c", "show version"});
  EXPECT_EQ(ospfd.exit_code, 0) << ospfd.out << ospfd.err;
  std::set<std::string> dsts;
  auto learnt = [&] {
    dsts.clear();
    for (const auto& route : ip_json(lab + "-r1", "-4 route show proto ospf")) dsts.insert(route["dst"].get<std::string>());
    return dsts.count("10.255.0.3") && dsts.count("10.255.0.4");
  };
  EXPECT_TRUE(eventually(learnt, 60000)) << nlohmann::json(dsts).dump();
  EXPECT_FALSE(dsts.count("10.255.0.2"));
  destroy_ok(lab);
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);
}

TEST_F(RoutingTest, AnEndedCmdShowsInInspectDeployWarningsAndLogs) {
  std::string lab = lab_prefix_ + "x";
  std::string path = topology(lab, "name = \"" + lab + R"("
[nodes.quits]
exec = "echo prepared by exec"
cmd = "echo hello from cmd; echo about to fail >&2; exit 7"
[nodes.killed]
cmd = ["sleep", "1000"]
[nodes.runs]
cmd = ["sleep", "1000"]
[nodes.plain]
[nodes.starter]
cmd = "echo daemons started; exit 0"
)");
  deploy_ok(path);
  // The init records the end as soon as it reaps the cmd.
  nlohmann::json quits;
  EXPECT_TRUE(eventually([&] {
    quits = node_json(lab, "quits");
    return !quits.is_null() && quits["cmd"].is_object() && quits["cmd"]["state"] == "exited";
  }, 5000)) << quits.dump();
  EXPECT_EQ(quits["state"], "running");  // the node (its init) lives on
  EXPECT_EQ(quits["cmd"]["exit_code"], 7);
  EXPECT_TRUE(quits["cmd"]["signal"].is_null());
  EXPECT_EQ(node_json(lab, "runs")["cmd"]["state"], "running");
  EXPECT_TRUE(node_json(lab, "plain")["cmd"].is_null());
  // A signal: kill the sleep inside `killed` (its pid as the node sees it).
  auto kill = netlab({"exec", lab, "killed", "--", "sh", "-c", "kill -9 $(pidof sleep)"});
  EXPECT_EQ(kill.exit_code, 0) << kill.err;
  nlohmann::json killed;
  EXPECT_TRUE(eventually([&] {
    killed = node_json(lab, "killed");
    return !killed.is_null() && killed["cmd"]["state"] == "killed";
  }, 5000)) << killed.dump();
  EXPECT_EQ(killed["cmd"]["signal"], 9);
  EXPECT_TRUE(killed["cmd"]["exit_code"].is_null());
  // The table and ls say the same.
  auto table = netlab({"inspect", lab});
  EXPECT_TRUE(std::regex_search(table.out, std::regex("\nquits +running +exited 7 "))) << table.out;
  EXPECT_TRUE(std::regex_search(table.out, std::regex("\nkilled +running +SIGKILL "))) << table.out;
  auto ls = netlab({"ls", "--json"});
  auto labs = nlohmann::json::parse(ls.out);
  bool seen = false;
  for (const auto& l : labs) {
    if (l["name"] != lab) continue;
    seen = true;
    EXPECT_EQ(l["cmds"]["running"], 1) << l.dump();
    ASSERT_EQ(l["cmds"]["ended"].size(), 3u) << l.dump();
    EXPECT_EQ(l["cmds"]["ended"][2]["node"], "starter");
    EXPECT_EQ(l["cmds"]["ended"][2]["exit_code"], 0);
    EXPECT_EQ(l["cmds"]["ended"][0]["node"], "quits");
    EXPECT_EQ(l["cmds"]["ended"][0]["exit_code"], 7);
  }
  EXPECT_TRUE(seen) << ls.out;
  // The warning deploy prints when a cmd failed during it; a start script's exit 0 is no failure.
  EXPECT_TRUE(eventually([&] { return node_json(lab, "starter")["cmd"]["state"] == "exited"; }, 5000));
  lab::HostFacts facts;
  facts.state_dir = state_dir_;
  facts.cgroup_parent = cgroup_parent_;
  auto warnings = lab::ended_command_warnings(facts, lab, 2);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0],
            "node quits: its cmd (echo hello from cmd; echo about to fail >&2; exit 7) exited 7 during deploy; "
            "last lines of its log:\nhello from cmd\nabout to fail");
  EXPECT_EQ(warnings[1].rfind("node killed: its cmd (sleep 1000) killed by SIGKILL during deploy", 0), 0u)
      << warnings[1];
  // netlab logs: what exec and cmd wrote, stdout and stderr, in order.
  auto logs = netlab({"logs", lab, "quits"});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_TRUE(std::regex_search(logs.out, std::regex("prepared by exec\n(.*\n)*hello from cmd\nabout to fail\n$")))
      << logs.out;
  auto tail = netlab({"logs", lab, "quits", "-n", "1"});
  EXPECT_EQ(tail.out, "about to fail\n");
  auto unknown = netlab({"logs", lab, "nope"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("has no node nope"), std::string::npos) << unknown.err;
  destroy_ok(lab);
}

TEST_F(RoutingTest, LogsFollowPrintsWhatIsAppendedAndEndsWhenTheLabIsDestroyed) {
  std::string lab = lab_prefix_ + "l";
  std::string path = topology(lab, "name = \"" + lab + R"("
[nodes.ticker]
cmd = "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.1; done"
)");
  deploy_ok(path);
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    for (const auto& e : env()) putenv(strdup(e.c_str()));
    setenv("NETLAB_STATE_DIR", state_dir_.c_str(), 1);
    execl(NETLAB_BINARY, "netlab", "logs", lab.c_str(), "ticker", "-f", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::string seen;
  auto read_some = [&](int timeout_ms) {
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) return false;
    seen.append(buf, static_cast<size_t>(n));
    return true;
  };
  // The log so far, then what the node writes afterwards: ten ticks past the
  // last one of the first read were not in the file when -f read it.
  ASSERT_TRUE(eventually([&] { read_some(100); return seen.find("tick 1\n") != std::string::npos; }, 5000)) << seen;
  int last = 0;
  static const std::regex tick("tick (\\d+)\n");
  for (std::sregex_iterator it(seen.begin(), seen.end(), tick), end; it != end; ++it)
    last = std::stoi((*it)[1]);
  std::string later = "tick " + std::to_string(last + 10) + "\n";
  EXPECT_TRUE(eventually([&] { read_some(100); return seen.find(later) != std::string::npos; }, 10000)) << seen;
  destroy_ok(lab);
  // The follower notices the lab is gone and exits 0 on its own.
  int status = -1;
  bool exited = eventually([&] { read_some(10); return waitpid(pid, &status, WNOHANG) == pid; }, 5000);
  if (!exited) {
    ::kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  EXPECT_TRUE(exited) << "netlab logs -f did not end after destroy";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  close(out[0]);
}

}  // namespace
}  // namespace netlab::testing
