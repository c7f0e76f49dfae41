// Descriptors do not grow with the lab: a deploy, inspect, test, apply, exec and destroy of
// a lab with more nodes than an open-files limit of 256 would allow at even
// one descriptor per node, run under that limit (hard and soft, so netlab
// cannot raise it), with traffic end to end and nothing left afterwards.
#include <sys/resource.h>

#include <fmt/format.h>

#include "support/lab_fixture.hpp"

namespace netlab::testing {
namespace {

class ScaleTest : public LabTest {
 protected:
  // netlab under `ulimit -n limit` (soft and hard).
  CliResult limited(const std::vector<std::string>& args, int limit) {
    std::string cmd = fmt::format("ulimit -Sn {0}; ulimit -Hn {0}; NETLAB_CGROUP_PARENT={1} {2}", limit, cgroup_parent_,
                                  NETLAB_BINARY);
    for (const auto& a : args) cmd += " '" + a + "'";
    int status = -1;
    CliResult r;
    r.out = run_shell(cmd + " 2>&1", &status);
    r.exit_code = status;
    return r;
  }
};

TEST_F(ScaleTest, ALabOfThreeHundredNodesLivesUnderAnOpenFilesLimitOf256) {
  std::string lab = lab_prefix_ + "fd";
  auto gen = netlab({"generate", "line", "300", "--name", lab});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  std::string path = topology(lab, gen.out);
  auto before = snapshot();
  // Below what netlab needs whatever the size: refused before anything is built.
  auto low = limited({"deploy", path}, 40);
  EXPECT_EQ(low.exit_code, 2) << low.out;
  EXPECT_NE(low.out.find("the open-files limit (RLIMIT_NOFILE) is 40"), std::string::npos) << low.out;
  EXPECT_EQ(before, snapshot());
  auto d = limited({"deploy", path}, 256);
  ASSERT_EQ(d.exit_code, 0) << d.out;
  deployed_.push_back(lab);
  // Through 59 routers (a reply starts with TTL 64): r1 reaches r60, and the
  // last node is up too.
  EXPECT_TRUE(ping(lab + "-r300", "10.0.2.84"));
  auto last = ip_json(lab + "-r60", "-4 addr show dev eth0");
  ASSERT_EQ(last.size(), 1u);
  std::string far = last[0]["addr_info"][0]["local"];
  auto p = limited({"exec", lab, "r1", "--", "ping", "-c", "1", "-W", "5", far}, 256);
  EXPECT_EQ(p.exit_code, 0) << p.out;
  auto i = limited({"inspect", lab, "--json"}, 256);
  EXPECT_EQ(i.exit_code, 0) << i.out.substr(0, 500);
  EXPECT_EQ(nlohmann::json::parse(i.out, nullptr, false)["nodes"].size(), 300u);
  auto stats = limited({"inspect", lab, "--stats", "--json"}, 256);
  EXPECT_EQ(stats.exit_code, 0) << stats.out.substr(0, 500);
  // The file's checks, run against the running lab.
  auto t = limited({"test", path}, 256);
  EXPECT_EQ(t.exit_code, 0) << t.out.substr(0, 2000);
  // apply: one more node linked to the far end, and it answers.
  std::string text = gen.out;
  size_t at = text.find("[nodes.r300]\n");
  ASSERT_NE(at, std::string::npos);
  text.insert(at + 13, "interfaces.eth9 = \"192.0.2.1/30\"\n");
  std::string edited = topology(lab + "-2", text + R"(
[nodes.x1]
interfaces.eth0 = "192.0.2.2/30"
[[links]]
endpoints = ["r300:eth9", "x1:eth0"]
)");
  auto a = limited({"apply", edited}, 256);
  EXPECT_EQ(a.exit_code, 0) << a.out;
  EXPECT_TRUE(ping(lab + "-x1", "192.0.2.1"));
  auto x = limited({"destroy", "--lab", lab}, 256);
  EXPECT_EQ(x.exit_code, 0) << x.out;
  deployed_.clear();
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);
}

}  // namespace
}  // namespace netlab::testing
