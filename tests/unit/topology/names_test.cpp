// The one name validator (topology/names.hpp): what may become a path, an
// interface or a cgroup. Cases from issue #15's hostile names.
#include "topology/names.hpp"

#include <gtest/gtest.h>

namespace netlab::topo {
namespace {

TEST(Names, LabNamesThatWouldEscapeOrCollideAreRefused) {
  EXPECT_EQ(name_problem(NameKind::kLab, "natgw"), "");
  EXPECT_EQ(name_problem(NameKind::kLab, "t12345r"), "");
  EXPECT_EQ(name_problem(NameKind::kLab, ""), "lab name \"\" must match [a-z0-9]+");
  EXPECT_EQ(name_problem(NameKind::kLab, ".."), "lab name \"..\" must match [a-z0-9]+");
  EXPECT_EQ(name_problem(NameKind::kLab, "../x"), "lab name \"../x\" must match [a-z0-9]+");
  EXPECT_EQ(name_problem(NameKind::kLab, "a/b"), "lab name \"a/b\" must match [a-z0-9]+");
  EXPECT_EQ(name_problem(NameKind::kLab, "images"), "lab name \"images\" is reserved");
  EXPECT_EQ(name_problem(NameKind::kLab, "netlab"), "lab name \"netlab\" is reserved");
  EXPECT_EQ(name_problem(NameKind::kLab, "tasks"), "lab name \"tasks\" is reserved");
  EXPECT_EQ(name_problem(NameKind::kLab, "a-b"),
            "lab name \"a-b\" must match [a-z0-9]+ (no '-': node pins are /run/netns/<lab>-<node>)");
  EXPECT_EQ(name_problem(NameKind::kLab, "thisnameistoolong"),
            "lab name \"thisnameistoolong\" is 17 bytes; at most 12 fit the names derived from it");
  // Control bytes are shown escaped, never written raw to a terminal.
  EXPECT_EQ(name_problem(NameKind::kLab, std::string("a\x1b[2Jb", 6)), "lab name \"a\\x1b[2Jb\" must match [a-z0-9]+");
}

TEST(Names, NodeAndBridgeNames) {
  EXPECT_EQ(name_problem(NameKind::kNode, "b-c"), "");
  EXPECT_EQ(name_problem(NameKind::kNode, "-b"), "node name \"-b\" must match [a-z0-9][a-z0-9-]*");
  EXPECT_EQ(name_problem(NameKind::kNode, "tasks"), "node name \"tasks\" is reserved");
  EXPECT_EQ(name_problem(NameKind::kNode, "H1"), "node name \"H1\" must match [a-z0-9][a-z0-9-]*");
  EXPECT_EQ(name_problem(NameKind::kBridge, "lan"), "");
  EXPECT_EQ(name_problem(NameKind::kBridge, "lo"), "bridge name \"lo\" is reserved");
  EXPECT_EQ(name_problem(NameKind::kBridge, "all"), "bridge name \"all\" is reserved");
  EXPECT_EQ(name_problem(NameKind::kBridge, "sit0"), "bridge name \"sit0\" is reserved");
}

TEST(Names, InterfaceNames) {
  EXPECT_EQ(iface_problem("eth0"), "");
  EXPECT_EQ(iface_problem("eth0.100"), "");
  EXPECT_EQ(iface_problem("lo"), "interface name \"lo\" is reserved (the kernel or a fresh namespace already uses it)");
  EXPECT_EQ(iface_problem("default", "host iface"),
            "host iface \"default\" is reserved (the kernel or a fresh namespace already uses it)");
  for (const char* bad : {"", ".", "..", "a/b", "a:b", "a b", "0123456789abcdef"})
    EXPECT_NE(iface_problem(bad), "") << bad;
  EXPECT_NE(iface_problem(std::string("a\tb")), "");
  EXPECT_NE(iface_problem(std::string("a\0b", 3)), "");
}

}  // namespace
}  // namespace netlab::topo
