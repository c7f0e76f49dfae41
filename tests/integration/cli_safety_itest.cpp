// Issue 21's wrong-or-dangerous items, through the real binary: conflicting
// destroy targets, Ctrl-C/SIGTERM during deploy and during `netlab test`, test on
// an edited file, --junit to a missing directory, two labs on one host subnet,
// a link taken down shown by inspect, a failed command check's stderr, the exec
// hook's exit code in the node's log.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/lab_fixture.hpp"

namespace netlab::testing {
namespace {

class CliSafetyTest : public LabTest {
 protected:
  // Starts netlab with args in the background; stderr goes to err_path_.
  pid_t start(const std::vector<std::string>& args) {
    err_path_ = files_dir_ + "/stderr-" + std::to_string(++runs_);
    pid_t pid = fork();
    if (pid == 0) {
      setenv("NETLAB_CGROUP_PARENT", cgroup_parent_.c_str(), 1);
      int devnull = open("/dev/null", O_RDWR);
      int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(devnull, 0);
      dup2(devnull, 1);
      dup2(err, 2);
      std::vector<char*> argv{const_cast<char*>(NETLAB_BINARY)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(NETLAB_BINARY, argv.data());
      _exit(127);
    }
    return pid;
  }
  int wait_exit(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string err() const {
    std::ifstream in(err_path_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  size_t journal_lines(const std::string& lab) const {
    std::ifstream j(state_dir_ + "/" + lab + "/journal");
    return static_cast<size_t>(std::count(std::istreambuf_iterator<char>(j), {}, '\n'));
  }
  std::string generated(const std::string& kind, const std::string& n, const std::string& name) {
    auto r = netlab({"generate", kind, n, "--name", name});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return topology(name, r.out);
  }
  std::string err_path_;
  int runs_ = 0;
};

TEST_F(CliSafetyTest, DestroyWithConflictingTargetsTouchesNoLab) {
  std::string a, b;
  deploy_ok(shipped("nat-gateway.toml", a, "a"));
  std::string file_b = shipped("bridge-lan.toml", b, "b");
  deploy_ok(file_b);
  auto all = netlab({"destroy", "--lab", "nosuch", "--all"});
  EXPECT_EQ(all.exit_code, 1) << all.err;
  auto mixed = netlab({"destroy", file_b, "--lab", a});
  EXPECT_EQ(mixed.exit_code, 1) << mixed.err;
  auto ls = nlohmann::json::parse(netlab({"ls", "--json"}).out);
  ASSERT_EQ(ls.size(), 2u) << ls.dump();
  EXPECT_EQ(ls[0]["state"], "deployed");
  EXPECT_EQ(ls[1]["state"], "deployed");
  EXPECT_TRUE(ping(a + "-h1", "192.168.50.1"));
  destroy_ok(a);
  destroy_ok(b);
}

TEST_F(CliSafetyTest, InterruptedDeployRollsBackSaysSoAndExits130Or143) {
  for (int sig : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(sig);
    std::string name = lab_prefix_ + (sig == SIGINT ? "i" : "t");
    std::string path = generated("star", "300", name);
    auto before = snapshot();
    pid_t pid = start({"deploy", path});
    // Signal once the deploy is under way: its journal holds the first phases' intents.
    ASSERT_TRUE(eventually([&] { return journal_lines(name) >= 2; }, 20000));
    kill(pid, sig);
    int rc = wait_exit(pid);
    EXPECT_EQ(rc, 128 + sig) << err();
    EXPECT_NE(err().find("interrupted by " + std::string(sig == SIGINT ? "SIGINT" : "SIGTERM")), std::string::npos)
        << err();
    EXPECT_NE(err().find("rolled back"), std::string::npos) << err();
    EXPECT_NE(err().find("nothing of lab " + name + " remains"), std::string::npos) << err();
    EXPECT_EQ(netlab({"ls"}).out, "no lab is deployed\n");
    auto after = snapshot();
    EXPECT_EQ(before, after) << before.diff(after);
  }
}

TEST_F(CliSafetyTest, InterruptedTestDestroysTheLabItDeployed) {
  std::string name = lab_prefix_ + "s";
  // A check that takes long, as a CI job's would when its timeout strikes.
  std::string path = topology(name, "name = \"" + name + "\"\n"
      "[nodes.a]\ninterfaces.eth0 = \"10.78.0.1/24\"\n"
      "[nodes.b]\ninterfaces.eth0 = \"10.78.0.2/24\"\n"
      "[[links]]\nendpoints = [\"a:eth0\", \"b:eth0\"]\n"
      "[[checks]]\nkind = \"command\"\nfrom = \"a\"\ncmd = [\"sleep\", \"30\"]\ntimeout = \"40s\"\n");
  auto before = snapshot();
  pid_t pid = start({"test", path});
  // The lab is up (every node's start recorded) and the check runs.
  ASSERT_TRUE(eventually([&] {
    auto ls = nlohmann::json::parse(netlab({"ls", "--json"}).out, nullptr, false);
    return !ls.is_discarded() && ls.size() == 1 && ls[0]["state"] == "deployed";
  }, 20000));
  kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid), 143) << err();
  EXPECT_NE(err().find("SIGTERM: destroyed lab " + name), std::string::npos) << err();
  EXPECT_EQ(netlab({"ls"}).out, "no lab is deployed\n");
  auto after = snapshot();
  // The check's own child (sleep in a node that no longer exists) may linger for a moment.
  EXPECT_TRUE(eventually([&] { return snapshot() == before; }, 5000)) << before.diff(snapshot());
}

TEST_F(CliSafetyTest, TestOnAnEditedFileSaysItDiffersFromTheDeployedLab) {
  std::string name;
  std::string path = shipped("nat-gateway.toml", name);
  deploy_ok(path);
  auto same = netlab({"test", path});
  EXPECT_EQ(same.exit_code, 0) << same.err;
  {
    std::ofstream(path, std::ios::app) << "\n[[checks]]\nkind = \"ping\"\nfrom = \"h1\"\nto = \"h2\"\n";
  }
  auto edited = netlab({"test", path});
  EXPECT_EQ(edited.exit_code, 1) << edited.err;
  EXPECT_NE(edited.err.find(path + " differs from the topology lab " + name + " was deployed from"),
            std::string::npos) << edited.err;
  EXPECT_EQ(edited.out, "") << "checks ran against the old lab";
  destroy_ok(name);
}

TEST_F(CliSafetyTest, JunitToAMissingDirectoryFailsBeforeDeploying) {
  std::string name;
  std::string path = shipped("nat-gateway.toml", name);
  auto before = snapshot();
  auto r = netlab({"test", path, "--junit", "/nonexistent/dir/x.xml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot write --junit /nonexistent/dir/x.xml"), std::string::npos) << r.err;
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);
  std::string ok = files_dir_ + "/ok.xml";
  auto w = netlab({"test", path, "--junit", ok});
  EXPECT_EQ(w.exit_code, 0) << w.err;
  EXPECT_NE(std::ifstream(ok).peek(), EOF) << "no JUnit written";
}

TEST_F(CliSafetyTest, TwoLabsCannotPutOverlappingAddressesOnTheHost) {
  auto text = [&](const std::string& name, const std::string& addr) {
    return "name = \"" + name + "\"\n[bridges.up]\nhost = \"" + addr + "\"\n"
           "[nodes.n]\ninterfaces.eth0 = \"10.199.0.2/24\"\n[[links]]\nendpoints = [\"n:eth0\", \"up\"]\n";
  };
  std::string a = lab_prefix_ + "a", b = lab_prefix_ + "b";
  deploy_ok(topology(a, text(a, "10.199.0.1/24")));
  auto before = snapshot();
  for (const char* addr : {"10.199.0.1/24", "10.199.0.9/24", "10.199.0.129/25", "10.199.0.1/16"}) {
    auto r = netlab({"deploy", topology(b, text(b, addr))});
    EXPECT_EQ(r.exit_code, 1) << addr << ": " << r.err;
    EXPECT_NE(r.err.find("overlaps 10.199.0.1/24 of bridge up of lab " + a), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("(EADDRINUSE)"), std::string::npos) << r.err;
    auto after = snapshot();
    EXPECT_EQ(before, after) << before.diff(after);
  }
  auto other = netlab({"deploy", topology(b, text(b, "10.198.0.1/24"))});
  EXPECT_EQ(other.exit_code, 0) << other.err;
  destroy_ok(b);
  destroy_ok(a);
}

TEST_F(CliSafetyTest, InspectShowsALinkTakenDownAndTheNatRule) {
  std::string name;
  deploy_ok(shipped("nat-gateway.toml", name));
  auto down = netlab({"link", "down", name, "gw:eth1"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  auto table = netlab({"inspect", name});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("eth1 DOWN 203.0.113.1/24"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("NAT AND FIREWALL"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("masquerade eth1"), std::string::npos) << table.out;
  auto typo = netlab({"link", "up", name, "gw:eht1"});
  EXPECT_EQ(typo.exit_code, 1);
  EXPECT_NE(typo.err.find("did you mean \"gw:eth1\"?"), std::string::npos) << typo.err;
  auto node_typo = netlab({"exec", name, "hh1", "--", "true"});
  EXPECT_NE(node_typo.err.find("did you mean \"h1\"?"), std::string::npos) << node_typo.err;
  ASSERT_EQ(netlab({"link", "up", name, "gw:eth1"}).exit_code, 0);
  table = netlab({"inspect", name});
  EXPECT_EQ(table.out.find("DOWN"), std::string::npos) << table.out;
  destroy_ok(name);
}

TEST_F(CliSafetyTest, TestTableEllipsisSeparatedColumnsAndAFailedCommandsStderr) {
  std::string name = lab_prefix_ + "f";
  std::string long_name(60, 'x');
  std::string path = topology(name, "name = \"" + name + "\"\n"
      "[nodes.a]\ninterfaces.eth0 = \"10.79.0.1/24\"\nexec = [\"sh -c 'exit 1'\"]\n"
      "[nodes.b]\ninterfaces.eth0 = \"10.79.0.2/24\"\n"
      "[[links]]\nendpoints = [\"a:eth0\", \"b:eth0\"]\n"
      "[[checks]]\nname = \"" + long_name + "\"\nkind = \"command\"\nfrom = \"a\"\ncmd = [\"ls\", \"/nonexistent-dir\"]\n");
  auto r = netlab({"test", path, "--keep"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.out.find(long_name.substr(0, 47) + "…"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(long_name), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("stderr \"ls: /nonexistent-dir: No such file or directory\""), std::string::npos) << r.err;
  auto j = nlohmann::json::parse(netlab({"test", path, "--json"}).out);
  EXPECT_EQ(j[0]["name"], long_name);
  // The failed exec hook is logged with its exit code, not a wait status.
  std::string log;
  for (const auto& e : std::filesystem::recursive_directory_iterator(state_dir_ + "/" + name))
    if (e.path().filename() == "log" && e.path().parent_path().filename() == "a") {
      std::ifstream in(e.path());
      log.assign(std::istreambuf_iterator<char>(in), {});
    }
  EXPECT_NE(log.find("exec command failed (exit code 1)"), std::string::npos) << log;
  destroy_ok(name);
}

TEST_F(CliSafetyTest, OnATerminalTheProgressLineIsClearedAndNoColorIsHonoured) {
  std::string name = lab_prefix_ + "y";
  std::string path = topology(name, "name = \"" + name + "\"\n"
      "[nodes.a]\ninterfaces.eth0 = \"10.80.0.1/24\"\nexec = [\"exit 3\"]\n"
      "[nodes.b]\ninterfaces.eth0 = \"10.80.0.2/24\"\n"
      "[[links]]\nendpoints = [\"a:eth0\", \"b:eth0\"]\n");
  // script(1) gives netlab a terminal on stdout and stderr.
  auto on_tty = [&](const std::string& env_prefix) {
    return run_shell("script -qec '" + env_prefix + " NETLAB_CGROUP_PARENT=" + cgroup_parent_ + " " NETLAB_BINARY
                     " deploy " + path + "; " NETLAB_BINARY " destroy --lab " + name + "' /dev/null");
  };
  std::string out = on_tty("");
  // The warning about the failed exec hook starts on a cleared line, coloured.
  EXPECT_NE(out.find("\r\033[K\033[33mwarning\033[0m: node a: 1 exec command(s) failed"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\033[Klab " + name + " deployed: 2 nodes"), std::string::npos) << out;
  EXPECT_EQ(out.find("info:"), std::string::npos) << "the outcome said twice: " << out;
  std::string plain = on_tty("NO_COLOR=1");
  EXPECT_NE(plain.find("\r\033[Kwarning: node a: 1 exec command(s) failed"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("\033[33m"), std::string::npos) << plain;
  EXPECT_EQ(netlab({"ls"}).out, "no lab is deployed\n");
}

}  // namespace
}  // namespace netlab::testing
