// The ssh command line of whole-lab operations (src/cluster/remote.*), no privileges.
#include <gtest/gtest.h>

#include <cstdlib>

#include "cluster/remote.hpp"

namespace netlab::cluster {
namespace {

TEST(Remote, ArgumentsAreQuotedForTheRemoteShell) {
  EXPECT_EQ(shell_quote("plain"), "'plain'");
  EXPECT_EQ(shell_quote("a b;$(rm -rf /)"), "'a b;$(rm -rf /)'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
}

TEST(Remote, OneMultiplexedNonInteractiveSshPerHostWithTheTargetLast) {
  unsetenv("NETLAB_SSH");
  topo::Host h;
  h.name = "h1";
  h.ssh = "root@192.0.2.11";
  auto argv = ssh_argv(h, {"deploy", "/labs/my lab.toml", "--host", "h1"});
  ASSERT_GE(argv.size(), 3u);
  EXPECT_EQ(argv.front(), "ssh");
  EXPECT_EQ(argv[argv.size() - 2], "root@192.0.2.11");
  EXPECT_EQ(argv.back(), "netlab 'deploy' '/labs/my lab.toml' '--host' 'h1'");
  std::string all;
  for (auto& a : argv) all += a + " ";
  EXPECT_NE(all.find("ControlMaster=auto"), std::string::npos);
  EXPECT_NE(all.find("BatchMode=yes"), std::string::npos);
}

}  // namespace
}  // namespace netlab::cluster
