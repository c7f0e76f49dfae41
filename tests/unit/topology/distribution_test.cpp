// The link key `distribution`: the shape of a link's jitter, one of the tables
// iproute2 ships; it needs a jitter (which needs a delay).
#include <gtest/gtest.h>

#include "topology/parse.hpp"

namespace netlab::topo {
namespace {

std::optional<Lab> with_link(const std::string& link_keys, Diagnostics& diags) {
  std::string text = R"(name = "d"
[nodes.a]
interfaces.eth0 = "10.0.0.1/24"
[nodes.b]
interfaces.eth0 = "10.0.0.2/24"
[[links]]
endpoints = ["a:eth0", "b:eth0"]
)" + link_keys + "\n";
  return load_string(text, "d.toml", diags);
}

TEST(Distribution, NamesATableOfIproute2AndNeedsAJitter) {
  Diagnostics ok;
  auto lab = with_link("delay = \"20ms\"\njitter = \"5ms\"\ndistribution = \"normal\"", ok);
  ASSERT_TRUE(lab) << ok.render();
  EXPECT_EQ(lab->links[0].egress[0].distribution, "normal");
  EXPECT_EQ(lab->links[0].egress[1].distribution, "normal");

  Diagnostics unknown;
  EXPECT_FALSE(with_link("delay = \"20ms\"\njitter = \"5ms\"\ndistribution = \"gauss\"", unknown));
  EXPECT_NE(unknown.render().find("\"gauss\" is not one of normal, pareto, paretonormal, experimental"),
            std::string::npos)
      << unknown.render();

  Diagnostics no_jitter;
  EXPECT_FALSE(with_link("delay = \"20ms\"\ndistribution = \"pareto\"", no_jitter));
  EXPECT_NE(no_jitter.render().find("distribution shapes the jitter: it needs a jitter"), std::string::npos)
      << no_jitter.render();
}

}  // namespace
}  // namespace netlab::topo
