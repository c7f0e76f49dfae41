// remove_tree: whatever a node can build in its root goes, with a bounded
// number of descriptors and without following symlinks (issue #15: a
// 30 000-deep chain made destroy fail with EMFILE forever).
#include "util/remove_tree.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "util/fd.hpp"
#include "util/strings.hpp"

namespace netlab {
namespace {

namespace fs = std::filesystem;

class RemoveTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // tmpfs where there is one, as the state dir is (/run): 30 000 rmdirs on a
    // loaded ext4 take minutes, on tmpfs about a second.
    fs::path tmp = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    base_ = tmp / ("netlab-rmtree-" + std::to_string(getpid()));
    fs::create_directories(base_);
    root_ = (base_ / "tree").string();
    outside_ = (base_ / "outside").string();
    fs::create_directories(outside_);
    write_file(outside_ + "/keep", "precious");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  fs::path base_;
  std::string root_, outside_;
};

// Builds depth levels below dir with openat/mkdirat only (no path is ever that long).
void deep_chain(const std::string& dir, int depth) {
  Fd cur(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(cur.valid());
  for (int i = 0; i < depth; ++i) {
    ASSERT_EQ(::mkdirat(cur.get(), "d", 0755), 0) << i << ": " << std::strerror(errno);
    Fd next(::openat(cur.get(), "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(next.valid());
    cur = std::move(next);
  }
  ::close(::openat(cur.get(), "leaf", O_CREAT | O_WRONLY | O_CLOEXEC, 0));
}

TEST_F(RemoveTreeTest, ThirtyThousandDeepWithFewDescriptors) {
  fs::create_directories(root_);
  deep_chain(root_, 30000);
  // In a child with 16 descriptors at most: recursion with a descriptor per
  // level (std::filesystem::remove_all) fails with EMFILE here.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    rlimit lim{16, 16};
    ::setrlimit(RLIMIT_NOFILE, &lim);
    try {
      remove_tree(root_);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      ::_exit(1);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(fs::exists(root_));
}

TEST_F(RemoveTreeTest, OddTypesAndModesGoAndSymlinksAreNotFollowed) {
  fs::create_directories(root_ + "/a/b");
  write_file(root_ + "/a/b/file", "x");
  ::chmod((root_ + "/a/b/file").c_str(), 0);
  ASSERT_EQ(::mkfifo((root_ + "/a/fifo").c_str(), 0600), 0);
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::string sock = root_ + "/a/sock";
  std::strncpy(sun.sun_path, sock.c_str(), sizeof sun.sun_path - 1);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&sun), sizeof sun), 0);
  ::close(s);
  // Links to outside the tree: removed, what they point to stays.
  fs::create_symlink(outside_, root_ + "/a/to-dir");
  fs::create_symlink(outside_ + "/keep", root_ + "/a/to-file");
  fs::create_symlink("../../..", root_ + "/a/b/up");
  if (::geteuid() == 0) {
    ASSERT_EQ(::mknod((root_ + "/a/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    fs::create_directories(root_ + "/locked/inner");
    write_file(root_ + "/locked/inner/f", "x");
    ::chmod((root_ + "/locked/inner").c_str(), 0);
    ::chmod((root_ + "/locked").c_str(), 0);
  }
  ::chmod((root_ + "/a/b").c_str(), 0500);  // not writable: root may still unlink in it
  if (::geteuid() != 0) ::chmod((root_ + "/a/b").c_str(), 0700);
  remove_tree(root_);
  EXPECT_FALSE(fs::exists(root_));
  EXPECT_EQ(read_file(outside_ + "/keep"), "precious");
}

TEST_F(RemoveTreeTest, AbsentIsSuccessAndASymlinkRootIsNotFollowed) {
  remove_tree(root_);
  fs::create_symlink(outside_, root_);
  remove_tree(root_);
  EXPECT_FALSE(fs::is_symlink(root_));
  EXPECT_EQ(read_file(outside_ + "/keep"), "precious");
}

}  // namespace
}  // namespace netlab
