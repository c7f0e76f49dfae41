// The busybox image is built from the binary's own applet table.
#include "node/image.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "node/caps.hpp"
#include "util/error.hpp"

namespace netlab::node {
namespace {

namespace fs = std::filesystem;

TEST(BusyboxImage, AppletTableIsReadFromTheBinary) {
  if (!fs::exists("/bin/busybox")) GTEST_SKIP() << "busybox-static is not installed";
  auto applets = busybox_applets("/bin/busybox");
  EXPECT_GT(applets.size(), 100u);
  EXPECT_EQ(applets[0], "[");
  for (const char* a : {"sh", "ping", "ip", "nc", "ps", "hostname"})
    EXPECT_NE(std::find(applets.begin(), applets.end(), a), applets.end()) << a;
  EXPECT_TRUE(std::is_sorted(applets.begin(), applets.end()));
}

TEST(BusyboxImage, BuildsOnceIntoAFullRoot) {
  if (!fs::exists("/bin/busybox")) GTEST_SKIP() << "busybox-static is not installed";
  fs::path dir = fs::temp_directory_path() / ("netlab-img-" + std::to_string(getpid()));
  std::string image = ensure_busybox_image(dir);
  EXPECT_TRUE(fs::exists(image + "/bin/busybox"));
  EXPECT_TRUE(fs::is_symlink(image + "/bin/sh"));
  EXPECT_TRUE(fs::exists(image + "/usr/bin/env"));  // through the usr/bin -> ../bin link
  EXPECT_TRUE(fs::exists(image + "/etc/passwd"));
  auto mtime = fs::last_write_time(image + "/bin/busybox");
  EXPECT_EQ(ensure_busybox_image(dir), image);  // the second call reuses it
  EXPECT_EQ(fs::last_write_time(image + "/bin/busybox"), mtime);
  fs::remove_all(dir);
}

TEST(BusyboxImage, NotBusyboxIsRefused) {
  EXPECT_THROW(busybox_applets("/etc/hostname"), Error);
}

TEST(Capabilities, NodeSetLeavesOutTheDangerousOnes) {
  auto caps = node_capabilities(false);
  for (int dangerous : {16 /*SYS_MODULE*/, 25 /*SYS_TIME*/, 22 /*SYS_BOOT*/, 17 /*SYS_RAWIO*/, 27 /*MKNOD*/, 21})
    EXPECT_EQ(std::find(caps.begin(), caps.end(), dangerous), caps.end()) << dangerous;
  EXPECT_NE(std::find(caps.begin(), caps.end(), 12 /*NET_ADMIN*/), caps.end());
  auto admin = node_capabilities(true);
  EXPECT_NE(std::find(admin.begin(), admin.end(), 21 /*SYS_ADMIN*/), admin.end());
}

}  // namespace
}  // namespace netlab::node
