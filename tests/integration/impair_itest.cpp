// Link impairments, measured by packets. A rate limit is a TBF and holds on
// every kernel with one: a bulk TCP transfer runs at the rate asked for, on a
// point-to-point link and through a bridge, and `netlink link set` changes it
// on a running lab. Delay and loss need netem: where the kernel has it, a
// 20 ms delay shows in the round-trip time and 100% loss drops every ping;
// where it does not (this project's development VM is built without
// CONFIG_NET_SCH_NETEM), deploy and `link set` refuse with the kernel's own
// words and leave nothing half-done — never a lab that silently lacks the
// impairment it was asked for.
#include <chrono>
#include <cstdio>

#include "support/lab_fixture.hpp"
#include "support/throughput.hpp"

namespace netlab::testing {
namespace {

class ImpairTest : public LabTest {
 protected:
  // Two nodes on a point-to-point link and two on a bridge, one of whose
  // links is limited: the bridge port's egress carries the way into c.
  std::string rate_lab(const std::string& lab) {
    return topology(lab, "name = \"" + lab + R"("
[nodes.a]
interfaces.eth0 = "10.7.0.1/24"
[nodes.b]
interfaces.eth0 = "10.7.0.2/24"
[nodes.c]
interfaces.eth0 = "10.8.0.3/24"
[nodes.d]
interfaces.eth0 = "10.8.0.4/24"
[bridges.lan]
[[links]]
endpoints = ["a:eth0", "b:eth0"]
rate = "10mbit"
[[links]]
endpoints = ["c:eth0", "lan"]
rate = "10mbit"
[[links]]
endpoints = ["d:eth0", "lan"]
)");
  }

  double mbit(const std::string& lab, const std::string& from, const std::string& to, const std::string& addr,
              size_t bytes = 1'500'000) {
    auto t = tcp_transfer(lab + "-" + from, lab + "-" + to, addr, 5001, bytes);
    EXPECT_TRUE(t.has_value()) << from << " -> " << to << ": the transfer did not complete";
    if (t) std::printf("  measured %s -> %s: %.2f Mbit/s (%zu bytes in %.3f s)\n", from.c_str(), to.c_str(),
                       t->mbit_per_sec(), t->bytes, t->seconds);
    return t ? t->mbit_per_sec() : 0;
  }

  nlohmann::json inspect(const std::string& lab) {
    auto r = netlab({"inspect", lab, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }

  // The egress impairment inspect reports for node:iface.
  nlohmann::json egress(const nlohmann::json& info, const std::string& node) {
    for (const auto& n : info["nodes"])
      if (n["name"] == node)
        for (const auto& i : n["interfaces"])
          if (i["name"] == "eth0") return i["egress"];
    return "missing";
  }
};

TEST_F(ImpairTest, RateLimitHoldsBothWaysOnPointToPointAndBridgedLinks) {
  std::string lab = lab_prefix_ + "r";
  deploy_ok(rate_lab(lab));
  deployed_.push_back(lab);

  for (auto [from, to, addr] : {std::tuple{"a", "b", "10.7.0.2"}, std::tuple{"b", "a", "10.7.0.1"},
                                std::tuple{"d", "c", "10.8.0.3"}, std::tuple{"c", "d", "10.8.0.4"}}) {
    double m = mbit(lab, from, to, addr);
    // The ceiling is the limit holding; the floor only that it is this limit and
    // not a far lower one (a sender starved of CPU on a loaded machine fell to 7.97).
    EXPECT_GE(m, 6.0) << from << " -> " << to;
    EXPECT_LE(m, 11.0) << from << " -> " << to;
  }

  // What the kernel holds, three ways: tc's JSON inside the node, netlab's read-back, the topology.
  auto tc = tc_json(lab + "-a", "qdisc show dev eth0");
  ASSERT_EQ(tc.size(), 1u) << tc.dump();
  EXPECT_EQ(tc[0]["kind"], "tbf");
  EXPECT_EQ(tc[0]["root"], true);
  EXPECT_EQ(tc[0]["options"]["rate"], 10'000'000 / 8);
  auto info = inspect(lab);
  EXPECT_EQ(egress(info, "a")["rate_bps"], 10'000'000);
  EXPECT_EQ(egress(info, "a")["text"], "rate 10mbit");
  EXPECT_TRUE(egress(info, "d").is_null()) << "d's link has no impairment";
  ASSERT_EQ(info["bridges"].size(), 1u);
  EXPECT_EQ(info["bridges"][0]["port_egress"]["c:eth0"]["rate_bps"], 10'000'000) << info["bridges"].dump();
  EXPECT_FALSE(info["bridges"][0]["port_egress"].contains("d:eth0"));
  destroy_ok(lab);
}

TEST_F(ImpairTest, LinkSetChangesTheRateOfARunningLabAndClearRemovesIt) {
  std::string lab = lab_prefix_ + "s";
  deploy_ok(rate_lab(lab));
  deployed_.push_back(lab);
  auto pids = [&] {
    std::vector<int> out;
    for (const auto& n : inspect(lab)["nodes"]) out.push_back(n["pid"].get<int>());
    return out;
  };
  auto before = pids();

  auto r = netlab({"link", "set", lab, "a:eth0", "--rate", "2mbit"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("rate 10mbit"), std::string::npos) << r.out;
  double slow = mbit(lab, "a", "b", "10.7.0.2", 500'000);
  EXPECT_GE(slow, 1.6);
  EXPECT_LE(slow, 2.2);
  double back = mbit(lab, "b", "a", "10.7.0.1", 500'000);
  EXPECT_LE(back, 2.2) << "both ends changed";
  EXPECT_EQ(tc_json(lab + "-b", "qdisc show dev eth0")[0]["options"]["rate"], 2'000'000 / 8);

  // One way only: b's egress back to 10mbit, a's stays at 2mbit.
  r = netlab({"link", "set", lab, "b:eth0", "--one-way", "--rate", "10mbit"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(egress(inspect(lab), "a")["text"], "rate 2mbit");
  EXPECT_EQ(egress(inspect(lab), "b")["text"], "rate 10mbit");

  r = netlab({"link", "set", lab, "a:eth0", "--clear"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(egress(inspect(lab), "a").is_null());
  EXPECT_TRUE(egress(inspect(lab), "b").is_null());
  EXPECT_EQ(tc_json(lab + "-a", "qdisc show dev eth0")[0]["kind"], "noqueue");
  double free = mbit(lab, "a", "b", "10.7.0.2", 20'000'000);
  EXPECT_GE(free, 100.0) << "without the limit, a veth is much faster than 10mbit";

  // The bridged link: the port's egress is changed with the node's end.
  r = netlab({"link", "set", lab, "c:eth0", "--rate", "4mbit"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(inspect(lab)["bridges"][0]["port_egress"]["c:eth0"]["text"], "rate 4mbit");

  EXPECT_EQ(pids(), before) << "no node was restarted";
  destroy_ok(lab);
}

TEST_F(ImpairTest, LinkSetRejectsBadValuesAndUnknownLinksWithoutChangingAnything) {
  std::string lab = lab_prefix_ + "v";
  deploy_ok(rate_lab(lab));
  deployed_.push_back(lab);
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const auto& c : std::vector<Case>{
           {{"a:eth0", "--loss", "120%"}, "--loss \"120%\""},
           {{"a:eth0", "--delay", "-5ms"}, "--delay \"-5ms\""},
           {{"a:eth0", "--rate", "10 parsecs"}, "--rate \"10 parsecs\""},
           {{"a:eth0", "--jitter", "1ms"}, "jitter needs a delay (on a:eth0)"},
           {{"a:eth0"}, "nothing to change"},
           {{"a:eth9", "--rate", "1mbit"}, "no link with endpoint \"a:eth9\""},
       }) {
    std::vector<std::string> args = {"link", "set", lab};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = netlab(args);
    EXPECT_EQ(r.exit_code, 1) << c.message;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
  EXPECT_EQ(tc_json(lab + "-a", "qdisc show dev eth0")[0]["options"]["rate"], 10'000'000 / 8);
  auto r = netlab({"link", "set", lab + "nope", "a:eth0", "--rate", "1mbit"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  destroy_ok(lab);
}

TEST_F(ImpairTest, DelayShowsInTheRttOrDeployRefusesClearly) {
  std::string lab = lab_prefix_ + "d";
  std::string path = topology(lab, "name = \"" + lab + R"("
[nodes.a]
interfaces.eth0 = "10.7.0.1/24"
[nodes.b]
interfaces.eth0 = "10.7.0.2/24"
[[links]]
endpoints = ["a:eth0", "b:eth0"]
delay = "20ms"
)");
  auto before = snapshot();
  auto r = netlab({"deploy", path});
  if (r.exit_code != 0) {
    // Refused before anything was built (issue #15), naming the link, the
    // keys, the kernel option and the module.
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("link a:eth0 <-> b:eth0 (and 1 more impaired link ends): delay needs the netem qdisc, "
                         "which this kernel lacks (CONFIG_NET_SCH_NETEM, module sch_netem"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("nothing was built"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("rolled back"), std::string::npos) << "the check runs before anything is built: " << r.err;
    auto after = snapshot();
    EXPECT_EQ(before, after) << before.diff(after);
    GTEST_SKIP() << "this kernel has no netem: deploy refused the impaired link, as it must";
  }
  deployed_.push_back(lab);
  auto rtt = [&] {
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(ping(lab + "-a", "10.7.0.2"));
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  double ms = rtt();
  EXPECT_GE(ms, 40.0) << "20 ms each way";
  EXPECT_LT(ms, 60.0 + 20.0) << "plus the cost of starting ping";
  auto s = netlab({"link", "set", lab, "a:eth0", "--delay", "50ms"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_GE(rtt(), 100.0) << "link set changed the delay live";
  s = netlab({"link", "set", lab, "a:eth0", "--loss", "100%"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_FALSE(ping(lab + "-a", "10.7.0.2", 3, 1)) << "100% loss drops every ping";
  destroy_ok(lab);
}

TEST_F(ImpairTest, LinkSetThatTheKernelRefusesLeavesTheImpairmentInForce) {
  std::string lab = lab_prefix_ + "k";
  deploy_ok(rate_lab(lab));
  deployed_.push_back(lab);
  auto r = netlab({"link", "set", lab, "a:eth0", "--delay", "10ms"});
  if (r.exit_code == 0) {
    EXPECT_EQ(egress(inspect(lab), "a")["text"], "delay 10ms rate 10mbit");
    destroy_ok(lab);
    GTEST_SKIP() << "this kernel has netem: nothing to refuse";
  }
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("setting delay 10ms rate 10mbit on a:eth0 in netns " + lab + "-a"), std::string::npos) << r.err;
  // The TBF went in before netem was refused; it was put back as it was.
  auto tc = tc_json(lab + "-a", "qdisc show dev eth0");
  ASSERT_EQ(tc.size(), 1u) << tc.dump();
  EXPECT_EQ(tc[0]["kind"], "tbf");
  EXPECT_EQ(tc[0]["options"]["rate"], 10'000'000 / 8);
  EXPECT_EQ(egress(inspect(lab), "b")["text"], "rate 10mbit") << "the other end was not touched";
  destroy_ok(lab);
}

}  // namespace
}  // namespace netlab::testing
