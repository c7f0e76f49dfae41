// Integration-test support: every test runs in its own process (gtest_discover_tests)
// and, through FreshNamespaceTest, in its own network + mount namespaces with a
// private /run (so /run/netns and /run/netlab are the test's own), a sysfs that
// matches the new network namespace, and its own cgroup parent. Tests are
// skipped cleanly when not root.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace netlab::testing {

/// Runs `cmd` through /bin/sh (tests may use iproute2/nft to cross-check); returns
/// stdout. `status` gets the exit code (or -1).
std::string run_shell(const std::string& cmd, int* status = nullptr);

/// The children of process `pid` (of its main thread), each as its pid and
/// name (comm), in pid order.
std::vector<std::pair<int, std::string>> child_processes(int pid);

/// What a test must leave as it found: compared before and after.
struct LeakSnapshot {
  std::vector<std::string> netns_pins;   // entries of /run/netns
  std::vector<std::string> links;        // interface names in the test's root netns
  std::vector<std::string> mounts;       // mount points in /proc/self/mountinfo
  std::vector<std::string> cgroups;      // directories under the test's cgroup parent
  std::vector<std::string> nft_tables;   // "family name" in the test's root netns
  std::vector<std::string> state_files;  // files under the state dir
  std::vector<int> children;             // direct child pids of this process
  bool operator==(const LeakSnapshot&) const = default;
  std::string diff(const LeakSnapshot& after) const;
};

class FreshNamespaceTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  LeakSnapshot snapshot() const;

  std::string state_dir_;      // "/run/netlab" inside the private /run
  std::string cgroup_parent_;  // "netlab-test-<pid>": relative to each cgroup hierarchy
  std::string lab_prefix_;     // short, unique per test process, for lab names

 private:
  bool entered_ = false;
};

}  // namespace netlab::testing
