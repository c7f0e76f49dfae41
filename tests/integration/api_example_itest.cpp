// An example of a test suite using netlab's C++ API: everything netlab-specific
// comes from <netlab/netlab.hpp>. (The fixture only gives the test its own
// namespaces and checks for leaks; a suite elsewhere would run as root alone.)
#include <netlab/netlab.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <unistd.h>

#include "support/fresh_ns.hpp"

namespace {

class ApiExample : public netlab::testing::FreshNamespaceTest {};

// The names (comm) of this process's children.
std::vector<std::string> child_comms() {
  std::vector<std::string> out;
  for (const auto& [pid, comm] : netlab::testing::child_processes(getpid())) out.push_back(comm);
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(ApiExample, NatGatewaySourceAddressAndNothingLeftBehind) {
  auto before = snapshot();
  {
    netlab::Lab::Options options;
    options.cgroup_parent = cgroup_parent_;
    netlab::Lab lab = netlab::Lab::deploy(std::string(NETLAB_SOURCE_DIR) + "/topologies/nat-gateway.toml", options);
    EXPECT_EQ(lab.name(), "natgw");
    // Every node's init is this process's child (the zygote that forked them
    // cloned with CLONE_PARENT), and the zygote itself is gone.
    EXPECT_EQ(child_comms(), (std::vector<std::string>{"init:gw", "init:h1", "init:h2", "init:isp"}));
    EXPECT_EQ(lab.exec("gw", {"cat", "/proc/sys/net/ipv4/ip_forward"}).out, "1\n");
    EXPECT_EQ(lab.exec("h1", {"sh", "-c", "exit 3"}).exit_code, 3);
    bool nat_checked = false;
    for (const auto& c : lab.check()) {
      EXPECT_TRUE(c.passed) << c.name << ": expected " << c.expected << ", got " << c.got;
      if (c.got.find("listener saw 203.0.113.1") != std::string::npos) nat_checked = true;
    }
    EXPECT_TRUE(nat_checked) << "the NAT source address was not asserted";
  }  // ~Lab destroys the lab
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);
}

TEST_F(ApiExample, ABadFileThrowsWithItsDiagnostics) {
  try {
    netlab::Lab::deploy(std::string(NETLAB_SOURCE_DIR) + "/tests/testdata/bad/unknown-key.toml");
    FAIL() << "deployed a bad file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key \"adress\""), std::string::npos) << e.what();
  }
}

}  // namespace

// A test that evolves a lab step by step: Lab::apply changes only what the new
// file changes (here: a third host on the LAN), and the checks then run
// against the lab as applied.
TEST_F(ApiExample, ApplyEvolvesARunningLab) {
  auto before = snapshot();
  {
    std::string text = netlab::testing::run_shell("cat " + std::string(NETLAB_SOURCE_DIR) + "/topologies/nat-gateway.toml");
    std::string dir = "/run/netlab-api-apply";
    netlab::testing::run_shell("mkdir -p " + dir);
    auto write = [&](const std::string& name, const std::string& body) {
      std::string path = dir + "/" + name;
      FILE* f = std::fopen(path.c_str(), "w");
      std::fwrite(body.data(), 1, body.size(), f);
      std::fclose(f);
      return path;
    };
    netlab::Lab::Options options;
    options.cgroup_parent = cgroup_parent_;
    netlab::Lab lab = netlab::Lab::deploy(write("v1.toml", text), options);
    std::string gw_pid = lab.exec("gw", {"cut", "-d", " ", "-f22", "/proc/1/stat"}).out;  // start time of gw's PID 1
    ASSERT_FALSE(gw_pid.empty());
    text += "\n[nodes.h3]\ninterfaces.eth0 = \"192.168.50.4/24\"\nroutes = [{ to = \"default\", via = \"192.168.50.1\" }]\n"
            "[[links]]\nendpoints = [\"h3:eth0\", \"lan\"]\n"
            "[[checks]]\nkind = \"ping\"\nfrom = \"h3\"\nto = \"203.0.113.254\"\n";
    lab.apply(write("v2.toml", text));
    EXPECT_EQ(lab.exec("h3", {"cat", "/proc/sys/net/ipv4/ip_forward"}).exit_code, 0);
    EXPECT_EQ(lab.exec("gw", {"cut", "-d", " ", "-f22", "/proc/1/stat"}).out, gw_pid) << "gw was restarted";
    for (const auto& c : lab.check()) EXPECT_TRUE(c.passed) << c.name << ": expected " << c.expected << ", got " << c.got;
    EXPECT_THROW(lab.apply(std::string(NETLAB_SOURCE_DIR) + "/topologies/bridge-lan.toml"), std::runtime_error);
  }
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);
}
