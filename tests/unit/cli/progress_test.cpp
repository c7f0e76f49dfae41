#include "cli/progress.hpp"

#include <gtest/gtest.h>

namespace netlab::cli {
namespace {

TEST(ProgressLine, SaysThePhaseCountRateAndTimeLeftOnceTheRateMeansSomething) {
  // The first two seconds: no rate yet.
  EXPECT_EQ(progress_line("namespaces", 501, 4502, 500, 500, 0.3),
            "namespaces · 501/4502 actions · 500 nodes, 500 links · 0.3 s");
  // 2000 of 10000 in 4 s: 500/s, 16 s left at that rate.
  EXPECT_EQ(progress_line("nodes", 2000, 10000, 1000, 999, 4.0),
            "nodes · 2000/10000 actions · 1000 nodes, 999 links · 500/s · about 16 s left · 4.0 s");
  // Done: no estimate.
  EXPECT_EQ(progress_line("netns pins", 10000, 10000, 1000, 999, 9.5),
            "netns pins · 10000/10000 actions · 1000 nodes, 999 links · 9.5 s");
}

}  // namespace
}  // namespace netlab::cli
