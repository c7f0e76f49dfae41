// An example of a test suite using netlab's C++ API: everything netlab-specific
// comes from <netlab/netlab.hpp>. (The fixture only gives the test its own
// namespaces and checks for leaks; a suite elsewhere would run as root alone.)
#include <netlab/netlab.hpp>

#include "support/fresh_ns.hpp"

namespace {

class ApiExample : public netlab::testing::FreshNamespaceTest {};

TEST_F(ApiExample, NatGatewaySourceAddressAndNothingLeftBehind) {
  auto before = snapshot();
  {
    netlab::Lab::Options options;
    options.cgroup_parent = cgroup_parent_;
    netlab::Lab lab = netlab::Lab::deploy(std::string(NETLAB_SOURCE_DIR) + "/topologies/nat-gateway.toml", options);
    EXPECT_EQ(lab.name(), "natgw");
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
