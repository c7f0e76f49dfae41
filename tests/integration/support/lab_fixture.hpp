// LabTest: a FreshNamespaceTest that deploys and destroys labs with the real
// `netlab` binary, with the test's cgroup parent and state directory.
#pragma once

#include <string>
#include <vector>

#include "support/fresh_ns.hpp"
#include "support/netlab_cli.hpp"

namespace netlab::testing {

class LabTest : public FreshNamespaceTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// Environment for every netlab run: the test's cgroup parent.
  std::vector<std::string> env() const;
  CliResult netlab(const std::vector<std::string>& args) const;
  /// Writes `text` as <name>.toml in a per-test directory; returns the path.
  std::string topology(const std::string& name, const std::string& text);
  /// A shipped topology renamed for this test; returns the path; `lab` gets the name.
  std::string shipped(const std::string& file, std::string& lab, const std::string& suffix = "");
  /// A shipped directory lab (topologies/<dir>/: topology and per-node configs)
  /// copied under the test's files and renamed; returns its topology's path.
  std::string shipped_dir(const std::string& dir, std::string& lab, const std::string& suffix);
  /// Deploys and asserts exit 0 (prints netlab's stderr otherwise).
  void deploy_ok(const std::string& path);
  void destroy_ok(const std::string& lab);

  std::string files_dir_;
  std::vector<std::string> deployed_;  // destroyed in TearDown if a test bailed out
};

}  // namespace netlab::testing
