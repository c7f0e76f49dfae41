#include "support/lab_fixture.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace netlab::testing {

void LabTest::SetUp() {
  FreshNamespaceTest::SetUp();
  if (IsSkipped() || HasFatalFailure()) return;
  files_dir_ = "/run/netlab-test-files";
  mkdir(files_dir_.c_str(), 0755);
}

void LabTest::TearDown() {
  for (const auto& lab : deployed_) netlab({"destroy", "--lab", lab});
  FreshNamespaceTest::TearDown();
}

std::vector<std::string> LabTest::env() const { return {"NETLAB_CGROUP_PARENT=" + cgroup_parent_}; }

CliResult LabTest::netlab(const std::vector<std::string>& args) const {
  return run_netlab(args, env());
}

std::string LabTest::topology(const std::string& name, const std::string& text) {
  return write_topology(files_dir_, name + ".toml", text);
}

std::string LabTest::shipped(const std::string& file, std::string& lab, const std::string& suffix) {
  lab = lab_prefix_ + suffix;
  return topology(lab, shipped_topology(file, lab));
}

std::string LabTest::shipped_dir(const std::string& dir, std::string& lab, const std::string& suffix) {
  namespace fs = std::filesystem;
  lab = lab_prefix_ + suffix;
  fs::path to = fs::path(files_dir_) / lab;
  fs::remove_all(to);
  fs::copy(fs::path(NETLAB_SOURCE_DIR) / "topologies" / dir, to, fs::copy_options::recursive);
  std::string text = shipped_topology(dir + "/topology.toml", lab);
  std::ofstream(to / "topology.toml") << text;
  return (to / "topology.toml").string();
}

void LabTest::deploy_ok(const std::string& path) {
  auto r = netlab({"deploy", path});
  ASSERT_EQ(r.exit_code, 0) << "deploy " << path << " failed:\n" << r.err << r.out;
  // Remember the lab so TearDown cleans up after a failed assertion.
  auto text = run_shell("sed -n 's/^name *= *\"\\(.*\\)\"/\\1/p' " + path);
  text = text.substr(0, text.find('\n'));  // the lab's name; a [[checks]] name may follow
  deployed_.push_back(text);
}

void LabTest::destroy_ok(const std::string& lab) {
  auto r = netlab({"destroy", "--lab", lab});
  ASSERT_EQ(r.exit_code, 0) << "destroy " << lab << " failed:\n" << r.err << r.out;
  deployed_.erase(std::remove(deployed_.begin(), deployed_.end(), lab), deployed_.end());
}

}  // namespace netlab::testing
