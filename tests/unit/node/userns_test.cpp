#include "node/userns.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace netlab::node {
namespace {

TEST(Userns, SubordinateRangeOfTheFirstListedNameThatHasAFullOne) {
  std::string text = "alice:100000:65536\nroot:200000:65536\nnetlab:300000:131072\n";
  EXPECT_EQ(find_subordinate_range(text, {"netlab", "root"}), (std::pair<uint32_t, uint32_t>{300000, 65536}));
  EXPECT_EQ(find_subordinate_range(text, {"root"}), (std::pair<uint32_t, uint32_t>{200000, 65536}));
  EXPECT_EQ(find_subordinate_range(text, {"bob"}), std::nullopt);
  // Too small to hold root and the usual ids, malformed, or past the top of the uid space: skipped.
  EXPECT_EQ(find_subordinate_range("root:5000:1000\n", {"root"}), std::nullopt);
  EXPECT_EQ(find_subordinate_range("root:abc:65536\nroot:1:2:3\n", {"root"}), std::nullopt);
  EXPECT_EQ(find_subordinate_range("root:4294960000:65536\n", {"root"}), std::nullopt);
  EXPECT_EQ(find_subordinate_range("  root:70000:65536  \n", {"root"}), (std::pair<uint32_t, uint32_t>{70000, 65536}));
}

TEST(Userns, DefaultRangeWhenTheFilesSayNothingAndBothFilesWhenTheyDo) {
  EXPECT_EQ(userns_id_range("/nonexistent/subuid", "/nonexistent/subgid"), kDefaultIdRange);
  std::string dir = ::testing::TempDir();
  std::ofstream(dir + "/subuid") << "root:400000:65536\n";
  std::ofstream(dir + "/subgid") << "root:500000:65536\n";
  EXPECT_EQ(userns_id_range(dir + "/subuid", dir + "/subgid"), (IdRange{400000, 500000, 65536}));
  std::ofstream(dir + "/subgid") << "other:500000:65536\n";
  EXPECT_EQ(userns_id_range(dir + "/subuid", dir + "/subgid"), kDefaultIdRange) << "a uid range without a gid range";
}

}  // namespace
}  // namespace netlab::node
