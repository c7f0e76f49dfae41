#include "node/spec.hpp"

#include <gtest/gtest.h>

namespace netlab::node {
namespace {

TEST(NodeSpecMessage, EveryFieldTheInitNeedsSurvivesTheTrip) {
  NodeSpec s;
  s.name = "h1";
  s.hostname = "host-one";
  s.netns_fd = 42;
  s.rootfs = RootfsKind::kHost;
  s.lower = "/var/lib/img";
  s.node_dir = "/run/netlab/x/nodes/h1";
  s.binds = {{"/src", "/dst", true}, {"/a b", "/c\"d", false}};
  s.env = {{"GREETING", "hello world"}, {"EMPTY", ""}};
  s.sysctls = {{"net.ipv4.tcp_syncookies", "0"}};
  s.forwarding = true;
  s.exec = {{"sh", "-c", "echo $X > /tmp/y"}, {"true"}};
  s.cmd = {"sleep", "600"};
  s.user = std::pair{1000u, 1001u};
  s.sys_admin = true;
  s.cgroup = "netlab/x/h1";
  s.userns = IdRange{100000, 200000, 65536};
  s.var_lower = "/run/netlab/images/host-var-100000-200000";

  NodeSpec d = decode_spec(encode_spec(s));
  EXPECT_EQ(d.name, s.name);
  EXPECT_EQ(d.hostname, s.hostname);
  EXPECT_EQ(d.rootfs, s.rootfs);
  EXPECT_EQ(d.lower, s.lower);
  EXPECT_EQ(d.node_dir, s.node_dir);
  EXPECT_EQ(d.binds, s.binds);
  EXPECT_EQ(d.env, s.env);
  EXPECT_EQ(d.sysctls, s.sysctls);
  EXPECT_TRUE(d.forwarding);
  EXPECT_EQ(d.exec, s.exec);
  EXPECT_EQ(d.cmd, s.cmd);
  EXPECT_EQ(d.user, s.user);
  EXPECT_TRUE(d.sys_admin);
  EXPECT_EQ(d.userns, s.userns);
  EXPECT_EQ(d.var_lower, s.var_lower);
  // netlab's own handles stay with netlab.
  EXPECT_EQ(d.netns_fd, -1);
  EXPECT_EQ(d.cgroup, "");
}

TEST(NodeSpecMessage, DefaultsStayDefaultsAndGarbageIsRefused) {
  NodeSpec s;
  s.name = "n";
  NodeSpec d = decode_spec(encode_spec(s));
  EXPECT_EQ(d.rootfs, RootfsKind::kBusybox);
  EXPECT_FALSE(d.user.has_value());
  EXPECT_FALSE(d.userns.has_value());
  EXPECT_FALSE(d.forwarding);
  EXPECT_TRUE(d.cmd.empty());
  EXPECT_ANY_THROW(decode_spec("{\"name\": \"n\"}"));
  EXPECT_ANY_THROW(decode_spec("not json"));
}

}  // namespace
}  // namespace netlab::node
