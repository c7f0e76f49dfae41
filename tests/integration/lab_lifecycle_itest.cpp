// Issue 6: deploy/destroy leave nothing behind — after success, after an
// injected failure at action N (rollback by itself), and after SIGKILL at many
// points followed by destroy; the same lab cannot be deployed twice; destroy is
// idempotent.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "support/lab_fixture.hpp"

namespace netlab::testing {
namespace {

class LabLifecycleTest : public LabTest {
 protected:
  std::string generated(const std::string& kind, const std::string& n, std::string& name,
                        const std::string& suffix) {
    name = lab_prefix_ + suffix;
    auto r = netlab({"generate", kind, n, "--name", name});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return topology(name, r.out);
  }
  size_t plan_length(const std::string& path) {
    auto r = netlab({"deploy", "--dry-run", path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return static_cast<size_t>(std::count(r.out.begin(), r.out.end(), '\n'));
  }
};

TEST_F(LabLifecycleTest, EveryShippedTopologyLeavesNothingBehind) {
  for (const char* file : {"nat-gateway.toml", "bridge-lan.toml", "routed-line.toml"}) {
    SCOPED_TRACE(file);
    std::string name;
    std::string path = shipped(file, name);
    auto before = snapshot();
    deploy_ok(path);
    EXPECT_NE(before, snapshot()) << "deploy changed nothing visible";
    destroy_ok(name);
    auto after = snapshot();
    EXPECT_EQ(before, after) << before.diff(after);
  }
}

TEST_F(LabLifecycleTest, A200NodeStarLeavesNothingBehind) {
  std::string name;
  std::string path = generated("star", "200", name, "s");
  auto before = snapshot();
  deploy_ok(path);
  EXPECT_EQ(snapshot().netns_pins.size(), before.netns_pins.size() + 201);
  destroy_ok(name);
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);
}

TEST_F(LabLifecycleTest, DestroyIsIdempotent) {
  std::string name;
  std::string path = shipped("nat-gateway.toml", name);
  deploy_ok(path);
  destroy_ok(name);
  auto r = netlab({"destroy", "--lab", name});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("nothing to do"), std::string::npos) << r.out;
}

TEST_F(LabLifecycleTest, ANodeThatDiedIsShownAndDestroyStillCleansUp) {
  std::string name;
  std::string path = shipped("nat-gateway.toml", name);
  auto before = snapshot();
  deploy_ok(path);
  auto info = nlohmann::json::parse(netlab({"inspect", name, "--json"}).out);
  int pid = 0;
  for (const auto& n : info["nodes"])
    if (n["name"] == "h2") pid = n["pid"];
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGKILL), 0);  // a node we started, by its pid
  bool exited = false;
  for (int i = 0; i < 200 && !exited; ++i) {
    auto now = nlohmann::json::parse(netlab({"inspect", name, "--json"}).out);  // keep it alive for the loop
    for (const auto& n : now["nodes"])
      if (n["name"] == "h2") exited = n["state"] == "exited";
    if (!exited) usleep(10000);
  }
  EXPECT_TRUE(exited) << "inspect still shows the killed node running:\n" << netlab({"inspect", name}).out
                      << run_shell("ps -o pid,ppid,stat,comm -p " + std::to_string(pid));
  destroy_ok(name);
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);
}

TEST_F(LabLifecycleTest, SecondDeployOfTheSameLabFailsAndTheFirstKeepsWorking) {
  std::string name;
  std::string path = shipped("nat-gateway.toml", name);
  deploy_ok(path);
  auto r = netlab({"deploy", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("lab " + name + " is already deployed"), std::string::npos) << r.err;
  EXPECT_TRUE(ping(name + "-h1", "192.168.50.1"));
  destroy_ok(name);
}

TEST_F(LabLifecycleTest, InjectedFailureAtActionNRollsBackByItself) {
  std::string name;
  std::string path = shipped("nat-gateway.toml", name);
  size_t actions = plan_length(path);
  ASSERT_GT(actions, 10u);
  for (size_t k : {size_t{1}, size_t{2}, actions / 3, actions / 2, actions - 1, actions}) {
    SCOPED_TRACE("NETLAB_FAIL_AT=" + std::to_string(k));
    auto before = snapshot();
    auto e = env();
    e.push_back("NETLAB_FAIL_AT=" + std::to_string(k));
    auto r = run_netlab({"deploy", path}, e);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("injected failure"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("rolled back"), std::string::npos) << r.err;
    auto after = snapshot();
    EXPECT_EQ(before, after) << before.diff(after);
  }
}

TEST_F(LabLifecycleTest, KilledDeployAtTwentyPointsThenDestroyLeavesNothing) {
  std::string name;
  std::string path = generated("star", "100", name, "k");
  size_t actions = plan_length(path);
  ASSERT_GT(actions, 100u);
  for (int i = 0; i < 20; ++i) {
    size_t k = 1 + (actions - 1) * static_cast<size_t>(i) / 19;
    SCOPED_TRACE("NETLAB_CRASH_AT=" + std::to_string(k));
    auto before = snapshot();
    auto e = env();
    e.push_back("NETLAB_CRASH_AT=" + std::to_string(k));
    auto r = run_netlab({"deploy", path}, e);
    EXPECT_EQ(r.exit_code, 137) << r.err;
    auto d = netlab({"destroy", "--lab", name});
    EXPECT_EQ(d.exit_code, 0) << d.err;
    auto after = snapshot();
    EXPECT_EQ(before, after) << before.diff(after);
  }
}

TEST_F(LabLifecycleTest, RealSigkillWhileDeployingThenDestroyLeavesNothing) {
  std::string name;
  std::string path = generated("star", "100", name, "r");
  std::string journal = state_dir_ + "/" + name + "/journal";
  // Kill when the journal has grown past these many records: inside each phase.
  for (size_t records : {size_t{2}, size_t{150}, size_t{400}, size_t{800}, size_t{950}}) {
    SCOPED_TRACE("SIGKILL after " + std::to_string(records) + " journal records");
    auto before = snapshot();
    pid_t pid = fork();
    if (pid == 0) {
      setenv("NETLAB_CGROUP_PARENT", cgroup_parent_.c_str(), 1);
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 1);
      dup2(devnull, 2);
      execl(NETLAB_BINARY, NETLAB_BINARY, "deploy", path.c_str(), nullptr);
      _exit(127);
    }
    bool exited = false;
    int status = 0;
    for (int i = 0; i < 20000; ++i) {  // at most ~20 s
      if (waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      std::ifstream j(journal);
      size_t lines = static_cast<size_t>(std::count(std::istreambuf_iterator<char>(j), {}, '\n'));
      if (lines >= records) break;
      usleep(1000);
    }
    if (!exited) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
    auto d = netlab({"destroy", "--lab", name});
    EXPECT_EQ(d.exit_code, 0) << d.err;
    auto after = snapshot();
    EXPECT_EQ(before, after) << before.diff(after);
  }
}

// The node starter (netlab-init's zygote, node/init.hpp) dying in the middle
// of a deploy fails the deploy, naming it and its pid, and the rollback leaves
// nothing. Node n1's exec command holds its READY until the test writes to a
// fifo; under 256 descriptors netlab awaits at most 53 nodes at once, so the
// starts after those need the zygote after the test has killed it.
TEST_F(LabLifecycleTest, AStarterKilledMidDeployFailsItByNameAndTheRollbackLeavesNothing) {
  std::string name = lab_prefix_ + "z";
  std::string fifo = files_dir_ + "/hold";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0666), 0) << strerror(errno);
  chmod(fifo.c_str(), 0666);
  std::string text = "name = \"" + name + "\"\n[nodes.n1]\nbinds = [\"" + fifo + ":/hold\"]\nexec = [\"read x < /hold\"]\n";
  for (int i = 2; i <= 80; ++i) text += "[nodes.n" + std::to_string(i) + "]\n";
  std::string path = topology(name, text);
  std::string err_file = files_dir_ + "/deploy.err";
  auto before = snapshot();
  pid_t pid = fork();
  if (pid == 0) {
    setenv("NETLAB_CGROUP_PARENT", cgroup_parent_.c_str(), 1);
    rlimit rl{256, 256};
    setrlimit(RLIMIT_NOFILE, &rl);
    int out = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(out, 2);
    execl(NETLAB_BINARY, NETLAB_BINARY, "deploy", path.c_str(), nullptr);
    _exit(127);
  }
  deployed_.push_back(name);
  // Deploy's children: the zygote (netlab-zygote) and, cloned with
  // CLONE_PARENT, the node inits (netlab-init, then init:NODE).
  auto children = [](pid_t parent, pid_t& zygote) {
    size_t inits = 0;
    zygote = 0;
    for (const auto& [pid, comm] : child_processes(parent)) {
      if (comm == "netlab-zygote") zygote = pid;
      if (comm == "netlab-init" || comm.rfind("init:", 0) == 0) ++inits;
    }
    return inits;
  };
  // Killed once the first 53 inits run: deploy then waits for their READY,
  // which n1 holds, and needs the zygote only for the 54th.
  pid_t zygote = 0;
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 30000; ++i) {  // at most ~30 s
    if (waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    if (children(pid, zygote) >= 53 && zygote) break;
    usleep(1000);
  }
  ASSERT_FALSE(exited) << "deploy ended before 53 nodes were started";
  ASSERT_GT(zygote, 0) << "no netlab-zygote child of deploy " << pid << " with 53 inits";
  ASSERT_EQ(kill(zygote, SIGKILL), 0) << strerror(errno);  // deploy's child, started by this test
  // n1 reads the fifo: its READY, and with it the 54th start, go on. Opened
  // without blocking, so a test that went wrong fails instead of hanging.
  int w = -1;
  for (int i = 0; i < 30000 && w < 0; ++i) {
    w = open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (w < 0) usleep(1000);
  }
  ASSERT_GE(w, 0) << "n1 never opened the fifo: " << strerror(errno);
  EXPECT_EQ(write(w, "go\n", 3), 3);
  close(w);
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  std::ifstream err_in(err_file);
  std::string err(std::istreambuf_iterator<char>(err_in), {});
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2) << err;
  // "node n54: netlab's node starter (.../netlab-init, pid P): sending the request: Broken pipe (EPIPE)"
  EXPECT_NE(err.find("node n54: netlab's node starter"), std::string::npos) << err;
  EXPECT_NE(err.find("pid " + std::to_string(zygote)), std::string::npos) << err;
  EXPECT_NE(err.find("nothing of lab " + name + " remains"), std::string::npos) << err;
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);
  deployed_.clear();
}

}  // namespace
}  // namespace netlab::testing
