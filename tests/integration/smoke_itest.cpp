// The fixture itself: a fresh namespace really is fresh and isolated.
#include "support/fresh_ns.hpp"

namespace netlab::testing {

class FixtureTest : public FreshNamespaceTest {};

TEST_F(FixtureTest, StartsWithOnlyLoopbackAndEmptyPins) {
  auto s = snapshot();
  EXPECT_EQ(s.links, std::vector<std::string>{"lo"});
  EXPECT_TRUE(s.netns_pins.empty());
  EXPECT_TRUE(s.state_files.empty());
}

TEST_F(FixtureTest, LeakSnapshotSeesANewLink) {
  auto before = snapshot();
  int rc = -1;
  run_shell("ip link add leak0 type bridge", &rc);
  ASSERT_EQ(rc, 0);
  auto after = snapshot();
  EXPECT_NE(before, after);
  EXPECT_NE(before.diff(after).find("+ link leak0"), std::string::npos);
  run_shell("ip link del leak0", &rc);
  EXPECT_EQ(before, snapshot());
}

}  // namespace netlab::testing
