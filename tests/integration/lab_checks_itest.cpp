// Issue 8: `netlab test` passes every shipped topology's checks, fails (exit 4,
// the check named, expected vs got) when an expectation is wrong, writes JUnit
// XML of the usual shape, and leaves nothing behind.
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "support/lab_fixture.hpp"

namespace netlab::testing {
namespace {

class LabChecksTest : public LabTest {};

// Directory labs that a test of their own deploys, runs `netlab test` on and
// does more with (a cable pulled, the reroute seen): running their checks here
// too would only add their convergence time to CI.
const std::map<std::string, std::string> kTestedElsewhere = {
    {"frr-ospf", "RoutingTest.FrrOspfLabConvergesAndReroutesWhenACableIsPulled"},
    {"bird-bgp", "RoutingTest.BirdBgpLabConvergesFiltersAndReroutesWhenACableIsPulled"},
};

bool test_exists(const std::string& full_name) {
  const auto* unit = ::testing::UnitTest::GetInstance();
  for (int i = 0; i < unit->total_test_suite_count(); ++i) {
    const auto* suite = unit->GetTestSuite(i);
    for (int k = 0; k < suite->total_test_count(); ++k)
      if (std::string(suite->name()) + "." + suite->GetTestInfo(k)->name() == full_name) return true;
  }
  return false;
}

TEST_F(LabChecksTest, EveryShippedTopologysChecksPass) {
  size_t dirs = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(NETLAB_SOURCE_DIR) + "/topologies")) {
    // topologies/*.toml, and the directory labs (topologies/*/topology.toml with their configs).
    bool dir = e.is_directory() && std::filesystem::exists(e.path() / "topology.toml");
    if (e.path().extension() != ".toml" && !dir) continue;
    std::string name = e.path().filename().string();
    SCOPED_TRACE(name);
    if (dir) {
      ++dirs;
      auto other = kTestedElsewhere.find(name);
      if (other != kTestedElsewhere.end()) {
        EXPECT_TRUE(test_exists(other->second)) << name << " is said to be tested by " << other->second;
        continue;
      }
    }
    std::string lab;
    std::string path = dir ? shipped_dir(name, lab, "c") : shipped(name, lab, "c");
    auto before = snapshot();
    auto r = netlab({"test", path});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find(" 0 failed"), std::string::npos) << r.out;
    auto after = snapshot();
    EXPECT_EQ(before, after) << "netlab test left the lab behind:\n" << before.diff(after);
  }
  EXPECT_GE(dirs, 2u);
}

TEST_F(LabChecksTest, AWrongExpectationFailsNamingTheCheckAndJunitSaysSo) {
  std::string lab = lab_prefix_ + "w";
  std::string text = shipped_topology("nat-gateway.toml", lab);
  // Claim that isp sees h1's own address: with masquerade it does not.
  text.replace(text.find("source = \"203.0.113.1\""), 22, "source = \"192.168.50.2\"");
  std::string path = topology(lab, text);
  std::string junit = files_dir_ + "/junit.xml";
  auto r = netlab({"test", path, "--junit", junit, "--keep"});
  deployed_.push_back(lab);
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("check \"isp sees the gateway's public address, not h1's\" on h1 failed: expected success, "
                       "source 192.168.50.2, got connected, listener saw 203.0.113.1"),
            std::string::npos)
      << r.err;
  // JUnit: one suite named after the lab, a testcase per check, one <failure>.
  std::stringstream xml;
  xml << std::ifstream(junit).rdbuf();
  std::string x = xml.str();
  EXPECT_EQ(x.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"5\" failures=\"1\"", 0), 0u) << x;
  EXPECT_NE(x.find("<testsuite name=\"" + lab + "\" tests=\"5\" failures=\"1\" errors=\"0\""), std::string::npos) << x;
  auto count = [&](const std::string& pattern) {
    std::regex re(pattern);
    return std::distance(std::sregex_iterator(x.begin(), x.end(), re), std::sregex_iterator());
  };
  EXPECT_EQ(count("<testcase classname=\"" + lab + "\\.\\w+\" name=\"[^\"]+\" time=\"[0-9.]+\""), 5);
  EXPECT_EQ(count("<failure message=\"expected [^\"]+, got [^\"]+\">"), 1);
  EXPECT_EQ(count("</testcase>"), 1);
  EXPECT_EQ(count("</testsuite>\n</testsuites>\n$"), 1);
  // --keep: the lab stayed up; a second run reuses it and leaves it up.
  EXPECT_TRUE(ping(lab + "-h1", "192.168.50.1"));
  auto json = netlab({"test", path, "--json"});
  EXPECT_EQ(json.exit_code, 4);
  auto results = nlohmann::json::parse(json.out);
  ASSERT_EQ(results.size(), 5u);
  int failed = 0;
  for (const auto& res : results) failed += !res["passed"].get<bool>();
  EXPECT_EQ(failed, 1);
  EXPECT_TRUE(ping(lab + "-h1", "192.168.50.1")) << "a lab that was already up was destroyed";
  destroy_ok(lab);
}

TEST_F(LabChecksTest, RingFailsOverToTheBackupRouteWhenALinkGoesDown) {
  std::string lab;
  deploy_ok(shipped("routed-ring.toml", lab));
  auto route = [&] { return ip_json(lab + "-r1", "-4 route get 10.4.0.10")[0]; };
  // r1 ignores routes over a link without carrier, and the kernel reports a
  // veth's carrier through linkwatch, asynchronously: on a loaded machine the
  // primary route can still be "linkdown" just after deploy (seen once).
  EXPECT_TRUE(eventually([&] { return route()["gateway"] == "10.0.12.0"; })) << route().dump();
  EXPECT_TRUE(ping(lab + "-h1", "10.4.0.10", 3, 2));
  // Pull the cable at r2's end: r1's eth1 stays up but loses its carrier.
  int rc = -1;
  run_shell("ip -n " + lab + "-r2 link set eth0 down", &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(route()["gateway"], "10.0.61.0") << "r1 kept the route through the dead link";
  EXPECT_TRUE(ping(lab + "-h1", "10.4.0.10")) << "the backup path does not carry the traffic";
  run_shell("ip -n " + lab + "-r2 link set eth0 up", &rc);
  // The carrier comes back through linkwatch, asynchronously: wait for it.
  EXPECT_TRUE(eventually([&] { return route()["gateway"] == "10.0.12.0"; })) << route().dump();
  destroy_ok(lab);
}

TEST_F(LabChecksTest, LinkDownBreaksTheLineAndLinkUpMendsIt) {
  std::string lab;
  deploy_ok(shipped("routed-line.toml", lab));
  EXPECT_TRUE(ping(lab + "-h1", "10.0.2.2", 3, 2));  // the first crosses three hops' ARP (once too slow under load)
  auto down = netlab({"link", "down", lab, "r2:eth1"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(ip_json(lab + "-r2", "link show dev eth1")[0]["operstate"], "DOWN");
  EXPECT_EQ(ip_json(lab + "-r3", "link show dev eth0")[0]["operstate"], "DOWN");  // the other end too
  EXPECT_FALSE(ping(lab + "-h1", "10.0.2.2"));
  ASSERT_EQ(netlab({"link", "up", lab, "r2:eth1"}).exit_code, 0);
  EXPECT_TRUE(ping(lab + "-h1", "10.0.2.2", 3, 2));
  EXPECT_TRUE(ping(lab + "-h1", "fd00:2::2", 3, 2)) << "IPv6 addresses and routes were not restored";
  auto bad = netlab({"link", "down", lab, "r2:eth9"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("has no link with endpoint \"r2:eth9\""), std::string::npos) << bad.err;
  destroy_ok(lab);
}

}  // namespace
}  // namespace netlab::testing
