// The cgroup backends against temporary directories laid out like cgroup
// mounts: which files each writes, with which values. The v2 path is tested
// only this way on machines with a v1 hierarchy (these development machines);
// the v1 path also runs for real in tests/integration/node_itest.cpp.
#include "node/cgroup.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "util/error.hpp"
#include "util/strings.hpp"

namespace netlab::node {
namespace {

namespace fs = std::filesystem;

class CgroupDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("netlab-cg-" + std::to_string(getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string read(const std::string& rel) { return std::string(trim(read_file(root_ / rel))); }
  fs::path root_;
};

TEST_F(CgroupDirTest, V2WritesControllersAndLimits) {
  auto cg = make_cgroups_v2(root_);
  EXPECT_EQ(cg->mode(), CgroupMode::kV2);
  CgroupLimits l;
  l.cpus = 0.5;
  l.memory_bytes = 64ull << 20;
  l.pids = 256;
  l.weight = 200;
  write_file(root_ / "cgroup.subtree_control", "");
  cg->create("netlab/lab1/h1", l);
  // Controllers enabled at every level above the leaf, not in the leaf itself.
  EXPECT_EQ(read("cgroup.subtree_control"), "+cpu +memory +pids");
  EXPECT_EQ(read("netlab/cgroup.subtree_control"), "+cpu +memory +pids");
  EXPECT_EQ(read("netlab/lab1/cgroup.subtree_control"), "+cpu +memory +pids");
  EXPECT_FALSE(fs::exists(root_ / "netlab/lab1/h1/cgroup.subtree_control"));
  EXPECT_EQ(read("netlab/lab1/h1/cpu.max"), "50000 100000");
  EXPECT_EQ(read("netlab/lab1/h1/memory.max"), std::to_string(64ull << 20));
  EXPECT_EQ(read("netlab/lab1/h1/pids.max"), "256");
  EXPECT_EQ(read("netlab/lab1/h1/cpu.weight"), "200");
}

TEST_F(CgroupDirTest, V2DisablesSwapWhenTheKernelHasIt) {
  auto cg = make_cgroups_v2(root_);
  fs::create_directories(root_ / "n");
  write_file(root_ / "n/memory.swap.max", "max");
  CgroupLimits l;
  l.memory_bytes = 32ull << 20;
  cg->create("n", l);
  EXPECT_EQ(read("n/memory.swap.max"), "0");
}

TEST_F(CgroupDirTest, V2UsageParsesMemoryCurrentAndCpuStat) {
  auto cg = make_cgroups_v2(root_);
  fs::create_directories(root_ / "n");
  write_file(root_ / "n/memory.current", "123456\n");
  write_file(root_ / "n/cpu.stat", "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n");
  auto u = cg->usage("n");
  EXPECT_EQ(u.memory_bytes, 123456u);
  EXPECT_EQ(u.cpu_ns, 2'500'000u);
}

TEST_F(CgroupDirTest, V2RemoveKillsThroughCgroupKillAndRemovesEmptyParents) {
  auto cg = make_cgroups_v2(root_);
  // rmdir of a real cgroup succeeds with its control files in place; here the
  // directories must be empty, so only cgroup.kill is left to check.
  fs::create_directories(root_ / "netlab/lab/n");
  write_file(root_ / "netlab/lab/n/cgroup.kill", "0");
  EXPECT_THROW(cg->remove("netlab/lab/n"), Error);  // ENOTEMPTY on a plain directory
  EXPECT_EQ(read("netlab/lab/n/cgroup.kill"), "1");
  fs::remove(root_ / "netlab/lab/n/cgroup.kill");
  cg->remove("netlab/lab/n");
  EXPECT_FALSE(fs::exists(root_ / "netlab")) << "empty lab and parent groups are removed too";
}

TEST_F(CgroupDirTest, V1WritesEachHierarchyAndMapsWeightToShares) {
  for (const char* h : {"cpu", "cpuacct", "memory", "pids"}) fs::create_directories(root_ / h);
  write_file(root_ / "memory/memory.memsw.limit_in_bytes", "");
  auto cg = make_cgroups_v1(root_);
  EXPECT_EQ(cg->mode(), CgroupMode::kV1);
  CgroupLimits l;
  l.cpus = 0.25;
  l.memory_bytes = 32ull << 20;
  l.pids = 64;
  l.weight = 100;
  cg->create("netlab/lab/n", l);
  EXPECT_EQ(read("cpu/netlab/lab/n/cpu.cfs_quota_us"), "25000");
  EXPECT_EQ(read("cpu/netlab/lab/n/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(read("cpu/netlab/lab/n/cpu.shares"), "1024");
  EXPECT_EQ(read("memory/netlab/lab/n/memory.limit_in_bytes"), std::to_string(32ull << 20));
  EXPECT_EQ(read("pids/netlab/lab/n/pids.max"), "64");
  EXPECT_TRUE(fs::is_directory(root_ / "cpuacct/netlab/lab/n"));
}

TEST_F(CgroupDirTest, V1NodeWithoutAMemoryLimitHasNoMemoryGroupOfItsOwn) {
  for (const char* h : {"cpu", "cpuacct", "memory", "pids"}) fs::create_directories(root_ / h);
  auto cg = make_cgroups_v1(root_);
  CgroupLimits l;
  l.pids = 64;
  cg->create("netlab/lab/n", l);
  for (const char* h : {"cpu", "cpuacct", "pids"}) EXPECT_TRUE(fs::is_directory(root_ / h / "netlab/lab/n")) << h;
  EXPECT_FALSE(fs::exists(root_ / "memory/netlab/lab/n"));
  EXPECT_TRUE(fs::is_directory(root_ / "memory/netlab/lab")) << "the lab's memory group holds the node";
  // The limits as the kernel reports them come from the group the node is in.
  write_file(root_ / "memory/netlab/lab/memory.limit_in_bytes", "9223372036854771712\n");
  for (const char* f : {"cpu/netlab/lab/n/cpu.cfs_quota_us", "cpu/netlab/lab/n/cpu.cfs_period_us",
                        "cpu/netlab/lab/n/cpu.shares"})
    write_file(root_ / f, "1\n");
  auto files = cg->limit_files("netlab/lab/n");
  EXPECT_NE(std::find(files.begin(), files.end(), "memory.limit_in_bytes=9223372036854771712"), files.end());
  // Usage without a memory group: the proportional set size of the node's
  // processes — all of their private (anonymous) memory, at most all they map.
  write_file(root_ / "pids/netlab/lab/n/cgroup.procs", std::to_string(getpid()) + "\n");
  write_file(root_ / "cpuacct/netlab/lab/n/cpuacct.usage", "5\n");
  std::vector<char> touched(8 << 20, 1);  // 8 MiB of anonymous memory, resident
  auto status_kib = [](const std::string& key) {
    std::ifstream in("/proc/self/status");
    for (std::string k; in >> k;) {
      uint64_t v = 0;
      if (k == key && in >> v) return v;
    }
    return uint64_t{0};
  };
  uint64_t usage = cg->usage("netlab/lab/n").memory_bytes;
  EXPECT_GE(usage, status_kib("RssAnon:") * 1024 * 9 / 10) << "anonymous memory is the process's own";
  EXPECT_LE(usage, status_kib("VmRSS:") * 1024 * 11 / 10);
  EXPECT_GE(usage, 8u << 20);
  EXPECT_EQ(touched[touched.size() - 1], 1);
}

TEST_F(CgroupDirTest, V2EnablesMemoryOnlyOnTheWayToANodeWithAMemoryLimit) {
  auto cg = make_cgroups_v2(root_);
  write_file(root_ / "cgroup.subtree_control", "");
  cg->create("netlab/lab1/h1", CgroupLimits{});
  EXPECT_EQ(read("netlab/lab1/cgroup.subtree_control"), "+cpu +pids");
  for (const char* f : {"cpu.max", "cpu.weight", "pids.max"}) write_file(root_ / "netlab/lab1/h1" / f, "max\n");
  auto files = cg->limit_files("netlab/lab1/h1");  // no memory.max file: no controller
  EXPECT_NE(std::find(files.begin(), files.end(), "memory.max=max"), files.end());
  CgroupLimits m;
  m.memory_bytes = 1 << 20;
  cg->create("netlab/lab2/h1", m);
  EXPECT_EQ(read("netlab/lab2/cgroup.subtree_control"), "+cpu +memory +pids");
}

TEST(CgroupGroups, ParentGroup) {
  EXPECT_EQ(detail::parent_group("netlab/lab/n"), "netlab/lab");
  EXPECT_EQ(detail::parent_group("n"), "");
}

TEST(CgroupWeight, MapsLikeSystemd) {
  EXPECT_EQ(weight_to_shares(100), 1024u);
  EXPECT_EQ(weight_to_shares(1), 10u);
  EXPECT_EQ(weight_to_shares(10000), 102400u);
}

TEST(CgroupDetect, ThisMachine) {
  if (!fs::exists("/sys/fs/cgroup")) GTEST_SKIP();
  auto cg = make_cgroups();
  EXPECT_TRUE(cg->mode() == CgroupMode::kV1 || cg->mode() == CgroupMode::kV2);
}

}  // namespace
}  // namespace netlab::node
