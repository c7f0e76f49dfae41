// inspect --json against the kernel, field by field, and labs deployed at the
// same moment by two processes.
#include <nlohmann/json.hpp>
#include <thread>

#include "support/lab_fixture.hpp"

namespace netlab::testing {
namespace {

class LabInspectTest : public LabTest {};

TEST_F(LabInspectTest, JsonAgreesWithWhatTheKernelReports) {
  std::string lab;
  deploy_ok(shipped("nat-gateway.toml", lab));
  auto r = netlab({"inspect", lab, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = nlohmann::json::parse(r.out);
  EXPECT_EQ(info["name"], lab);
  ASSERT_EQ(info["nodes"].size(), 4u);
  for (const auto& n : info["nodes"]) {
    std::string name = n["name"];
    SCOPED_TRACE(name);
    EXPECT_EQ(n["state"], "running");
    // The pid is the node's init: its hostname is the node's.
    int pid = n["pid"];
    EXPECT_EQ(run_shell("nsenter -t " + std::to_string(pid) + " -u hostname"), name + "\n");
    EXPECT_EQ(n["limits"]["memory"], 64u << 20);
    EXPECT_EQ(n["limits"]["pids"], 256);
    EXPECT_GT(n["usage"]["memory"].get<uint64_t>(), 0u);
    auto kernel = ip_json(lab + "-" + name, "addr show");
    for (const auto& i : n["interfaces"]) {
      const nlohmann::json* k = nullptr;
      for (const auto& x : kernel)
        if (x["ifname"] == i["name"]) k = &x;
      ASSERT_NE(k, nullptr) << i.dump();
      EXPECT_EQ((*k)["ifindex"], i["ifindex"]);
      EXPECT_EQ((*k)["address"], i["mac"]);
      EXPECT_EQ((*k)["mtu"], i["mtu"]);
      std::vector<std::string> addrs;
      for (const auto& a : (*k)["addr_info"])
        if (a["scope"] == "global") addrs.push_back(a["local"].get<std::string>() + "/" + std::to_string(a["prefixlen"].get<int>()));
      EXPECT_EQ(nlohmann::json(addrs), i["addresses"]);
    }
  }
  ASSERT_EQ(info["bridges"].size(), 1u);
  EXPECT_EQ(info["bridges"][0]["name"], "lan");
  EXPECT_EQ(info["bridges"][0]["ports"].size(), 3u);
  auto table = netlab({"inspect", lab});
  EXPECT_NE(table.out.find("gw           running"), std::string::npos) << table.out;
  auto ls = nlohmann::json::parse(netlab({"ls", "--json"}).out);
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_EQ(ls[0]["name"], lab);
  EXPECT_EQ(ls[0]["nodes"], 4);
  EXPECT_EQ(ls[0]["state"], "deployed");
  destroy_ok(lab);
  EXPECT_EQ(netlab({"inspect", lab}).exit_code, 1);
}

TEST_F(LabInspectTest, TwoLabsDeployedAtOnceBothWork) {
  std::string one, two;
  std::string p1 = shipped("nat-gateway.toml", one, "p"), p2 = shipped("routed-line.toml", two, "q");
  auto before = snapshot();
  CliResult r1, r2;
  std::thread t1([&] { r1 = netlab({"deploy", p1}); });
  std::thread t2([&] { r2 = netlab({"deploy", p2}); });
  t1.join();
  t2.join();
  deployed_ = {one, two};
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_TRUE(ping(one + "-h1", "203.0.113.254"));
  EXPECT_TRUE(ping(two + "-h1", "fd00:2::2"));
  std::thread d1([&] { r1 = netlab({"destroy", "--lab", one}); });
  std::thread d2([&] { r2 = netlab({"destroy", "--lab", two}); });
  d1.join();
  d2.join();
  deployed_.clear();
  EXPECT_EQ(r1.exit_code, 0) << r1.err;
  EXPECT_EQ(r2.exit_code, 0) << r2.err;
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);
}

TEST_F(LabInspectTest, DestroyAllRemovesEveryLabAndSaysSoWhenNoneIsLeft) {
  std::string one, two;
  auto before = snapshot();
  deploy_ok(shipped("bridge-lan.toml", one, "a"));
  deploy_ok(shipped("two-lans-nat.toml", two, "b"));
  EXPECT_EQ(nlohmann::json::parse(netlab({"ls", "--json"}).out).size(), 2u);
  auto r = netlab({"destroy", "--all"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("lab " + one + " destroyed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lab " + two + " destroyed"), std::string::npos) << r.out;
  deployed_.clear();
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);
  auto again = netlab({"destroy", "--all"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_EQ(again.out, "no lab is deployed\n");
  EXPECT_EQ(netlab({"ls"}).out, "no lab is deployed\n");
}

}  // namespace
}  // namespace netlab::testing
