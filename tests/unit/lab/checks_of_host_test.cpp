// Which checks of a multi-host lab each host runs (`netlab test FILE --host
// NAME`), group by group, and which cannot run across hosts (no privileges).
#include <gtest/gtest.h>

#include "lab/checks.hpp"
#include "topology/parse.hpp"

namespace netlab::lab {
namespace {

const char* kLab = R"(
name = "mh"
[hosts.h1]
address = "192.0.2.11"
[hosts.h2]
address = "192.0.2.12"
[nodes.r1]
host = "h1"
interfaces.eth0 = "10.0.12.1/24"
[nodes.r2]
host = "h2"
interfaces.eth0 = "10.0.12.2/24"
[[links]]
endpoints = ["r1:eth0", "r2:eth0"]
[[checks]]
name = "one"
kind = "ping"
from = "r1"
to = "r2"
[[checks]]
name = "two"
group = "later"
kind = "ping"
from = "r2"
to = "10.0.12.1"
[[checks]]
name = "three"
kind = "connect"
from = "r1"
to = "10.0.12.2"
port = 80
[[checks]]
name = "four"
group = "later"
kind = "connect"
from = "r2"
to = "10.0.12.1"
port = 80
listen = false
)";

std::vector<std::string> names(const std::vector<HostCheck>& checks) {
  std::vector<std::string> out;
  for (const auto& c : checks) out.push_back(c.check.name);
  return out;
}

TEST(ChecksOfHost, EachHostRunsItsNodesChecksGroupByGroupAndAListenerOnAnotherHostIsRefused) {
  Diagnostics diags;
  auto lab = topo::load_string(kLab, "mh.toml", diags);
  ASSERT_TRUE(lab) << diags.render(kLab);
  std::vector<CheckResult> refused;
  // h1, every group: "one" runs; "three" would listen on r2 (h2): refused, saying why.
  EXPECT_EQ(names(checks_of_host(*lab, 0, -1, &refused)), std::vector<std::string>{"one"});
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].name, "three");
  EXPECT_EQ(refused[0].host, "h1");
  EXPECT_FALSE(refused[0].passed);
  EXPECT_FALSE(refused[0].skipped);
  EXPECT_NE(refused[0].got.find("listener would be on r2, which runs on host h2"), std::string::npos) << refused[0].got;
  // h2: nothing in the unnamed group (index 0), both of "later" (index 1): listen = false runs anywhere.
  refused.clear();
  EXPECT_TRUE(checks_of_host(*lab, 1, 0, &refused).empty());
  EXPECT_EQ(names(checks_of_host(*lab, 1, 1, &refused)), (std::vector<std::string>{"two", "four"}));
  EXPECT_TRUE(refused.empty());
  // A group index past the last group selects nothing.
  EXPECT_TRUE(checks_of_host(*lab, 0, 2, nullptr).empty());
}

TEST(ChecksOfHost, WhenTheOrchestratorRunsTheListenerElsewhereTheCheckOnlyConnectsHere) {
  Diagnostics diags;
  auto lab = topo::load_string(kLab, "mh.toml", diags);
  ASSERT_TRUE(lab) << diags.render(kLab);
  auto mine = checks_of_host(*lab, 0, -1, nullptr);
  ASSERT_EQ(names(mine), (std::vector<std::string>{"one", "three"}));
  EXPECT_EQ(mine[1].index, 2u);
  EXPECT_EQ(mine[1].listener_host, 1);  // h2, where r2 runs
  EXPECT_FALSE(mine[1].check.listen);
  EXPECT_EQ(mine[0].listener_host, -1);
}

TEST(ChecksOfHost, AConnectIsJudgedWithWhatItsListenerOnAnotherHostSaw) {
  Diagnostics diags;
  auto lab = topo::load_string(kLab, "mh.toml", diags);
  ASSERT_TRUE(lab) << diags.render(kLab);
  const topo::Check& three = lab->checks[2];
  CheckResult connected{"three", "connect", "r1", "success", "connected", true, 0.1, 1, "", false, ""};
  auto r = complete_with_listener(three, connected, "peer 10.0.12.1");
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(r.got, "connected, listener saw 10.0.12.1");
  // Connected to something, but the listener netlab ran saw nothing: not the target.
  r = complete_with_listener(three, connected, "none");
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.got, "no connection");
  CheckResult refused{"three", "connect", "r1", "success", "no connection (Connection refused (ECONNREFUSED))",
                      false, 0.1, 1, "", false, ""};
  r = complete_with_listener(three, refused, "none");
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.got, "no connection (Connection refused (ECONNREFUSED))");
  // expect = "failure" with a source: a connection that did not come passes.
  topo::Check blocked = three;
  blocked.expect_success = false;
  EXPECT_TRUE(complete_with_listener(blocked, refused, "none").passed);
  EXPECT_FALSE(complete_with_listener(blocked, connected, "peer 10.0.12.1").passed);
}

}  // namespace
}  // namespace netlab::lab
