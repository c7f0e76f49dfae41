#include "util/error.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace netlab {

TEST(Error, RendersContextErrnoNameAndExtack) {
  Error e(EEXIST, "creating veth {} <-> {}", "h1:eth0", "lan");
  e.wrap("deploy");
  EXPECT_STREQ(e.what(), "deploy: creating veth h1:eth0 <-> lan: File exists (EEXIST)");
  EXPECT_EQ(e.errnum(), EEXIST);
  e.set_extack("Invalid prefix for given prefix length");
  EXPECT_STREQ(e.what(),
               "deploy: creating veth h1:eth0 <-> lan: File exists (EEXIST): Invalid prefix for "
               "given prefix length");
}

TEST(Error, NoErrnoMeansNoErrnoText) {
  Error e(0, "journal version 9 is not supported");
  EXPECT_STREQ(e.what(), "journal version 9 is not supported");
}

TEST(Error, WithContextAddsOuterStep) {
  try {
    with_context("destroy", [] { throw Error(ENOENT, "removing cgroup x"); });
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "destroy: removing cgroup x: No such file or directory (ENOENT)");
    ASSERT_EQ(e.context().size(), 2u);
    EXPECT_EQ(e.context()[0], "destroy");
  }
}

TEST(ErrnoName, KnownAndUnknown) {
  EXPECT_EQ(errno_name(ENOTCONN), "ENOTCONN");
  EXPECT_EQ(errno_name(9999), "E9999");
}

}  // namespace netlab
