// Check output patterns (topology/pattern.hpp): what crashed std::regex.
#include "topology/pattern.hpp"

#include <gtest/gtest.h>

#include "util/error.hpp"

namespace netlab::topo {
namespace {

TEST(OutputPattern, NestingThatCrashedStdRegexIsADiagnostic) {
  std::string deep = std::string(20000, '(') + "x" + std::string(20000, ')');
  EXPECT_EQ(OutputPattern::problem(deep), "is 40001 bytes; at most 4096");
  std::string nested = std::string(2000, '(') + "x" + std::string(2000, ')');
  EXPECT_EQ(OutputPattern::problem(nested), "");  // within the bound: RE2 compiles it without recursing
  EXPECT_TRUE(OutputPattern(nested).search("x"));
  EXPECT_EQ(OutputPattern::problem("(a"), "missing ): (a");
  EXPECT_THROW(OutputPattern("(a"), Error);
}

TEST(OutputPattern, SearchesLikeRegexSearch) {
  EXPECT_TRUE(OutputPattern("^0$").search("0"));
  EXPECT_FALSE(OutputPattern("^0$").search("10"));
  EXPECT_TRUE(OutputPattern("\\d+ packets received").search("3 packets transmitted, 3 packets received"));
  EXPECT_TRUE(OutputPattern("64 bytes from [0-9.]+").search("x\n64 bytes from 10.0.0.1: seq=0\n"));
}

TEST(OutputPattern, AHugeOutputIsSearchedWithoutRecursion) {
  // std::regex_search("x*y") recursed once per byte: 100 KB crashed it.
  std::string text(8 << 20, 'x');
  EXPECT_FALSE(OutputPattern("x*y").search(text));
  EXPECT_FALSE(OutputPattern("(x|z)*y").search(text));
  text += "y";
  EXPECT_TRUE(OutputPattern("(x|z)*y$").search(text));
}

}  // namespace
}  // namespace netlab::topo
