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

TEST(Remote, NetlabSshIsAProgramWithArgumentsWhoseOptionsComeFirstAndWin) {
  setenv("NETLAB_SSH", "  ssh -F /etc/netlab/ssh_config\t-o ControlPath=/tmp/x/cm-%C ", 1);
  EXPECT_EQ(ssh_command(), (std::vector<std::string>{"ssh", "-F", "/etc/netlab/ssh_config", "-o", "ControlPath=/tmp/x/cm-%C"}));
  topo::Host h;
  h.name = "h2";
  h.ssh = "h2.lab";
  auto argv = ssh_argv(h, {"destroy", "--lab", "big", "--local"});
  ASSERT_GE(argv.size(), 7u);
  EXPECT_EQ(argv[4], "ControlPath=/tmp/x/cm-%C");  // ssh takes the first value of an option: the user's
  EXPECT_EQ(argv[argv.size() - 2], "h2.lab");
  EXPECT_EQ(argv.back(), "netlab 'destroy' '--lab' 'big' '--local'");
  setenv("NETLAB_SSH", "   ", 1);
  EXPECT_EQ(ssh_command(), std::vector<std::string>{"ssh"});
  unsetenv("NETLAB_SSH");
}

TEST(Remote, WithoutMultiplexingNoControlOptionsAreGiven) {
  unsetenv("NETLAB_SSH");
  topo::Host h;
  h.name = "h1";
  h.ssh = "root@192.0.2.11";
  std::string all;
  for (auto& a : ssh_argv(h, {"ls"}, /*multiplex=*/false)) all += a + " ";
  EXPECT_EQ(all.find("Control"), std::string::npos) << all;
  EXPECT_NE(all.find("BatchMode=yes"), std::string::npos) << all;
}

}  // namespace
}  // namespace netlab::cluster
