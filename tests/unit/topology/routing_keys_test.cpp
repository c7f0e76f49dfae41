// The topology keys routing labs need: `within` and `group` on checks, `json`
// on command checks, relative bind sources; and the FRR lab generator.
#include <gtest/gtest.h>

#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "topology/generate.hpp"
#include "topology/parse.hpp"
#include "util/error.hpp"

namespace netlab::topo {
namespace {

const char* kTwoNodes = R"(name = "k"
[nodes.a]
interfaces.eth0 = "10.0.0.1/24"
[nodes.b]
interfaces.eth0 = "10.0.0.2/24"
[[links]]
endpoints = ["a:eth0", "b:eth0"]
)";

std::optional<Lab> load(const std::string& extra, Diagnostics& diags, const std::string& file = "/labs/k/t.toml") {
  return load_string(std::string(kTwoNodes) + extra, file, diags);
}

TEST(RoutingKeys, WithinAndGroupParse) {
  Diagnostics diags;
  auto lab = load(R"(
[[checks]]
group = "converged"
kind = "route"
from = "a"
to = "10.0.0.2"
within = "30s"
[[checks]]
kind = "ping"
from = "a"
to = "b"
within = "1.5s"
[[checks]]
kind = "ping"
from = "b"
to = "a"
)", diags);
  ASSERT_TRUE(lab) << diags.render();
  ASSERT_EQ(lab->checks.size(), 3u);
  EXPECT_EQ(lab->checks[0].group, "converged");
  ASSERT_TRUE(lab->checks[0].within);
  EXPECT_EQ(lab->checks[0].within->ns, 30'000'000'000u);
  EXPECT_EQ(lab->checks[1].group, "");
  EXPECT_EQ(lab->checks[1].within->ns, 1'500'000'000u);
  EXPECT_FALSE(lab->checks[2].within);
}

TEST(RoutingKeys, BadWithinIsADiagnosticAtTheValue) {
  for (auto [value, message] : {std::pair{"\"soon\"", "ping check within: "},
                                std::pair{"\"0s\"", "ping check within: must be more than 0 and at most 60m"},
                                std::pair{"\"61m\"", "ping check within: must be more than 0 and at most 60m"},
                                std::pair{"30", "ping check within: "}}) {
    Diagnostics diags;
    auto lab = load(std::string("[[checks]]\nkind = \"ping\"\nfrom = \"a\"\nto = \"b\"\nwithin = ") + value + "\n", diags);
    EXPECT_FALSE(lab) << value;
    std::string text = diags.render();
    EXPECT_NE(text.find("/labs/k/t.toml:12:10: " + std::string(message)), std::string::npos) << value << ": " << text;
  }
}

TEST(RoutingKeys, JsonExpectationAsTextOrTable) {
  Diagnostics diags;
  auto lab = load(R"(
[[checks]]
kind = "command"
from = "a"
cmd = "echo"
json = '{"neighbors": {"10.0.0.2": [{"state": "Full/-"}]}}'
[[checks]]
kind = "command"
from = "a"
cmd = "echo"
json = { neighbors = { "10.0.0.2" = [{ state = "Full/-" }] }, count = 2 }
)", diags);
  ASSERT_TRUE(lab) << diags.render();
  auto first = nlohmann::json::parse(*lab->checks[0].expect_json);
  auto second = nlohmann::json::parse(*lab->checks[1].expect_json);
  EXPECT_EQ(first["neighbors"]["10.0.0.2"][0]["state"], "Full/-");
  EXPECT_EQ(second["neighbors"], first["neighbors"]);
  EXPECT_EQ(second["count"], 2);
}

TEST(RoutingKeys, JsonThatIsNotJsonAndJsonOnAPingAreRefused) {
  Diagnostics diags;
  EXPECT_FALSE(load("[[checks]]\nkind = \"command\"\nfrom = \"a\"\ncmd = \"true\"\njson = '{\"a\": '\n", diags));
  EXPECT_NE(diags.render().find("command check json: not valid JSON"), std::string::npos) << diags.render();
  Diagnostics d2;
  EXPECT_FALSE(load("[[checks]]\nkind = \"ping\"\nfrom = \"a\"\nto = \"b\"\njson = '{}'\n", d2));
  EXPECT_NE(d2.render().find("unknown key"), std::string::npos) << d2.render();
}

TEST(RoutingKeys, RelativeBindSourcesResolveAgainstTheFilesDirectory) {
  Diagnostics diags;
  std::string text = std::string(kTwoNodes);
  text.replace(text.find("[nodes.b]"), 9, "binds = [\"r1:/etc/frr\", \"../shared/x.conf:/etc/x.conf:ro\", \"/abs:/abs\"]\n[nodes.b]");
  auto l = load_string(text, "/labs/k/t.toml", diags);
  ASSERT_TRUE(l) << diags.render();
  const auto& binds = l->nodes[0].binds;
  ASSERT_EQ(binds.size(), 3u);
  EXPECT_EQ(binds[0].host_path, "/labs/k/r1");
  EXPECT_EQ(binds[0].node_path, "/etc/frr");
  EXPECT_EQ(binds[1].host_path, "/labs/shared/x.conf");
  EXPECT_TRUE(binds[1].read_only);
  EXPECT_EQ(binds[2].host_path, "/abs");
  // A file named without a directory: the current one.
  auto cwd = load_string(text, "t.toml", diags);
  ASSERT_TRUE(cwd);
  EXPECT_EQ(cwd->nodes[0].binds[0].host_path, (std::filesystem::current_path() / "r1").string());
}

TEST(GenerateFrr, GridWritesATopologyThatValidatesAndAConfigPerRouter) {
  GenerateSpec spec;
  spec.kind = GenerateKind::kFrrGrid;
  spec.rows = 3;
  spec.cols = 4;
  auto files = generate_frr(spec);
  ASSERT_EQ(files.size(), 1u + 3 * 12);
  EXPECT_EQ(files[0].path, "topology.toml");
  Diagnostics diags;
  auto lab = load_string(files[0].text, "/labs/g/topology.toml", diags);
  ASSERT_TRUE(lab) << diags.render(files[0].text);
  EXPECT_EQ(lab->name, "frrgrid3x4");
  EXPECT_EQ(lab->nodes.size(), 12u);
  EXPECT_EQ(lab->links.size(), 3u * 3 + 2u * 4);  // horizontal + vertical
  // r6 (row 1, column 1) has four neighbours; its config names each interface.
  const Node& r6 = lab->nodes[5];
  EXPECT_EQ(r6.interfaces.size(), 4u);
  EXPECT_EQ(r6.binds[0].host_path, "/labs/g/r6");
  std::string conf;
  for (const auto& f : files)
    if (f.path == "r6/frr.conf") conf = f.text;
  for (const char* want : {"hostname r6", "ip address 10.255.0.6/32", "interface north", "interface south",
                           "interface east", "interface west", "ospf router-id 10.255.0.6"})
    EXPECT_NE(conf.find(want), std::string::npos) << want << "\n" << conf;
  // watchfrr gets a restart timeout long enough for many routers starting at
  // once (FRR 8.4's 20 s kills `vtysh -b` under load) and a log file.
  std::string daemons;
  for (const auto& f : files)
    if (f.path == "r6/daemons") daemons = f.text;
  EXPECT_NE(daemons.find("\nwatchfrr_options=\"-T 600 --log file:/tmp/watchfrr.log\"\n"), std::string::npos) << daemons;
  // Checks: converged (r1's adjacencies, r1 has every loopback), then every
  // other router has every loopback, then reachable; all wait with `within`.
  ASSERT_EQ(lab->checks.size(), 2u + 11u + 1u);
  EXPECT_EQ(lab->checks[0].group, "converged");
  EXPECT_EQ(lab->checks[1].group, "converged");
  EXPECT_EQ(lab->checks[1].name, "r1 has a route to every other router's loopback");
  for (size_t k = 2; k < 13; ++k) {
    const Check& c = lab->checks[k];
    EXPECT_EQ(c.group, "everywhere");
    EXPECT_EQ(c.from, fmt::format("r{}", k));
    ASSERT_TRUE(c.command && c.expect_json);
    EXPECT_EQ(c.command->argv, (std::vector<std::string>{"ip", "-j", "-4", "route", "show", "proto", "ospf"}));
    // Every loopback but its own, 10.255.0.1 .. 10.255.0.12.
    for (int r = 1; r <= 12; ++r) {
      bool listed = c.expect_json->find(fmt::format("{{\"dst\":\"10.255.0.{}\"}}", r)) != std::string::npos;
      EXPECT_EQ(listed, r != static_cast<int>(k)) << c.name << ": " << *c.expect_json;
    }
  }
  for (const auto& c : lab->checks) EXPECT_TRUE(c.within) << c.name;
  EXPECT_EQ(lab->checks.back().group, "reachable");
}

TEST(GenerateFrr, ALargeGridChecksEveryLoopbackOnItsFirstAndLastRouterOnly) {
  GenerateSpec spec;
  spec.kind = GenerateKind::kFrrGrid;
  spec.rows = 15;
  spec.cols = 15;  // 225 routers: above the per-router limit
  auto files = generate_frr(spec);
  Diagnostics diags;
  auto lab = load_string(files[0].text, "/labs/g/topology.toml", diags);
  ASSERT_TRUE(lab) << diags.render();
  ASSERT_EQ(lab->checks.size(), 4u);
  EXPECT_EQ(lab->checks[1].from, "r1");
  EXPECT_EQ(lab->checks[2].from, "r225");
  EXPECT_EQ(lab->checks[2].group, "everywhere");
  EXPECT_LT(files[0].text.size(), 100'000u);
}

TEST(GenerateFrr, RingAndLimits) {
  GenerateSpec spec;
  spec.kind = GenerateKind::kFrrRing;
  spec.n = 5;
  auto files = generate_frr(spec);
  Diagnostics diags;
  auto lab = load_string(files[0].text, "/x/topology.toml", diags);
  ASSERT_TRUE(lab) << diags.render();
  EXPECT_EQ(lab->links.size(), 5u);
  spec.n = 2;
  EXPECT_THROW(generate_frr(spec), Error);
  spec.n = 100;
  spec.pool = "10.0.0.0/26";  // 32 /31s for 100 links
  EXPECT_THROW(generate_frr(spec), Error);
  EXPECT_THROW(generate(spec), Error);  // a directory, not one text
}

}  // namespace
}  // namespace netlab::topo
