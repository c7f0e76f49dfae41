// Plan golden tests: every shipped topology plans to the checked-in action list
// (tests/testdata/plans/<name>.plan; NETLAB_UPDATE_GOLDEN=1 rewrites them), and
// every action survives the journal's JSON round trip.
#include <set>
#include "lab/plan.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <nlohmann/json.hpp>

#include "topology/parse.hpp"
#include "util/strings.hpp"

namespace netlab::lab {
namespace {

namespace fs = std::filesystem;

// topologies/*.toml and the directory labs, topologies/*/topology.toml.
std::vector<fs::path> shipped_topologies() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(std::string(NETLAB_SOURCE_DIR) + "/topologies")) {
    if (e.path().extension() == ".toml") out.push_back(e.path());
    else if (e.is_directory() && fs::exists(e.path() / "topology.toml")) out.push_back(e.path() / "topology.toml");
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A directory lab's golden plan is named after its directory.
std::string golden_name(const fs::path& file) {
  return file.filename() == "topology.toml" ? file.parent_path().filename().string() : file.stem().string();
}

topo::Lab load(const fs::path& path) {
  Diagnostics diags;
  auto lab = topo::load_file(path.string(), diags);
  if (!lab) ADD_FAILURE() << diags.render();
  return lab.value_or(topo::Lab{});
}

// Nodes a and b linked directly, c linked to bridge sw; `ab` and `c` end each link's table.
topo::Lab three_nodes(const std::string& name, const std::string& ab = "", const std::string& c = "") {
  Diagnostics diags;
  auto lab = topo::load_string("name = \"" + name + "\"\n[bridges.sw]\n[nodes.a]\n[nodes.b]\n[nodes.c]\n"
                               "[[links]]\nendpoints = [\"a:eth0\", \"b:eth0\"]\n" + ab +
                               "[[links]]\nendpoints = [\"c:eth0\", \"sw\"]\n" + c,
                               name + ".toml", diags);
  if (!lab) ADD_FAILURE() << diags.render();
  return lab.value_or(topo::Lab{});
}

TEST(Plan, EveryShippedTopologyMatchesItsGoldenPlan) {
  auto files = shipped_topologies();
  ASSERT_FALSE(files.empty());
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    std::string got = render_plan(plan(load(file), HostFacts{}));
    fs::path golden = fs::path(NETLAB_TESTDATA_DIR) / "plans" / (golden_name(file) + ".plan");
    if (std::getenv("NETLAB_UPDATE_GOLDEN")) write_file(golden, got);
    ASSERT_TRUE(fs::exists(golden)) << "missing golden plan " << golden;
    EXPECT_EQ(got, read_file(golden));
  }
}

TEST(Plan, EveryActionRoundTripsThroughJson) {
  for (const auto& file : shipped_topologies()) {
    for (const auto& a : plan(load(file), HostFacts{}).actions) {
      nlohmann::json j = a;
      Action back = action_from_json(nlohmann::json::parse(j.dump()));
      nlohmann::json j2 = back;
      EXPECT_EQ(j, j2) << describe(a);
    }
  }
}

TEST(Plan, PhasesNeverGoBackwards) {
  for (const auto& file : shipped_topologies()) {
    auto p = plan(load(file), HostFacts{});
    for (size_t i = 1; i < p.actions.size(); ++i)
      EXPECT_LE(static_cast<int>(phase_of(p.actions[i - 1])), static_cast<int>(phase_of(p.actions[i])))
          << file << ": " << describe(p.actions[i]);
  }
}

TEST(Plan, FabricEndNamesAreUniqueAndFitIfnamsiz) {
  EXPECT_EQ(fabric_end_name("h1", "eth0", 3), "h1_eth0");
  EXPECT_EQ(fabric_end_name("a-very-long-node", "eth0", 3), "nl.3");
  EXPECT_NE(fabric_end_name("a-b", "c", 0), fabric_end_name("a", "b-c", 1));
  // The fallbacks cannot be a user's name: bridges and node names have no '.'
  // or '_', a "node_iface" name always has '_' (issue #15: "nl<N>" was a valid
  // bridge name, "host_<N>" node "host" interface "<N>").
  EXPECT_EQ(fabric_host_end_name(0), "host.0");
  EXPECT_NE(fabric_host_end_name(0), fabric_end_name("host", "0", 0));
  for (const char* fallback : {"nl.3", "host.0"})
    EXPECT_NE(topo::name_problem(topo::NameKind::kBridge, fallback), "") << fallback;
  // A generated name the kernel may already hold in a fresh namespace takes the fallback.
  EXPECT_EQ(fabric_end_name("ip", "vti0", 7), "nl.7");
}

TEST(Plan, NoTwoLabObjectPairsShareAPinOrAHostInterface) {
  // Lab names have no '-': "<lab>-<node>" splits at its first '-', and the
  // fabric's "netlab-<lab>" would be lab "netlab"'s node, a reserved lab name.
  HostFacts f;
  EXPECT_NE(topo::name_problem(topo::NameKind::kLab, "a-b"), "");
  EXPECT_EQ(topo::name_problem(topo::NameKind::kNode, "b-c"), "");
  EXPECT_NE(topo::name_problem(topo::NameKind::kLab, "netlab"), "");
  std::set<std::string> pins;
  for (std::string lab : {"a", "ab", "netlab2", "x"})
    for (std::string node : {"b", "b-c", "c", "ab", "x-y"}) {
      ASSERT_EQ(topo::name_problem(topo::NameKind::kLab, lab), "");
      EXPECT_TRUE(pins.insert(node_pin(f, lab, node)).second) << node_pin(f, lab, node);
      pins.insert(fabric_pin(f, lab));
    }
  EXPECT_EQ(pins.size(), 4u * 5u + 4u);
}

TEST(Plan, NamesDeriveFromTheLab) {
  HostFacts f;
  f.state_dir = "/s";
  f.netns_dir = "/n";
  f.cgroup_parent = "p";
  EXPECT_EQ(fabric_pin(f, "lab1"), "/n/netlab-lab1");
  EXPECT_EQ(node_pin(f, "lab1", "h1"), "/n/lab1-h1");
  EXPECT_EQ(node_dir(f, "lab1", "h1"), "/s/lab1/nodes/h1");
  EXPECT_EQ(cgroup_path(f, "lab1", "h1"), "p/lab1/h1");
  EXPECT_EQ(host_nft_table("lab1"), "netlab_lab1");
}

// A bridge port comes up in the request after its creation, not a phase later:
// ports left down in thousands made the kernel's link watcher quadratic.
TEST(Plan, BridgePortsComeUpRightAfterCreationAndNodeEndsWithTheirNode) {
  auto lab = three_nodes("up");
  std::vector<std::pair<std::string, bool>> veths;
  for (const auto& a : plan(lab, HostFacts{}).actions)
    if (auto* v = std::get_if<CreateVeth>(&a)) {
      veths.emplace_back(v->b_ns + ":" + v->b_name, v->b_up);
      nlohmann::json j = a;
      EXPECT_EQ(std::get<CreateVeth>(action_from_json(j)).b_up, v->b_up);
    }
  EXPECT_EQ(veths, (std::vector<std::pair<std::string, bool>>{{"b:eth0", false}, {std::string(kFabricNs) + ":c_eth0", true}}));
  // A journal written before the field existed still reads (as not up at once).
  nlohmann::json old = Action(CreateVeth{});
  old.erase("b_up");
  EXPECT_FALSE(std::get<CreateVeth>(action_from_json(old)).b_up);
}

TEST(Plan, ImpairmentsBecomeQdiscsOnTheEgressOfEachEnd) {
  auto lab = three_nodes("imp", "delay = \"20ms\"\n[links.egress.\"b:eth0\"]\nrate = \"1mbit\"\n", "loss = \"30%\"\n");
  std::vector<std::string> qdiscs;
  for (const auto& a : plan(lab, HostFacts{}).actions)
    if (std::holds_alternative<AddQdisc>(a)) qdiscs.push_back(describe(a));
  EXPECT_EQ(qdiscs, (std::vector<std::string>{"impairment on a:eth0: delay 20ms",
                                              "impairment on b:eth0: delay 20ms rate 1mbit",
                                              "impairment on c:eth0: loss 30%", "impairment on c_eth0: loss 30%"}));
}

}  // namespace
}  // namespace netlab::lab
