// netlab's C++ API: stand up a lab from a topology file in a test, run
// commands in its nodes, run its checks, and have it destroyed when the object
// goes out of scope. Everything a test needs is in this one header; link the
// `netlab_core` library. Needs root (namespaces, cgroups), like the CLI.
//
//   netlab::Lab lab = netlab::Lab::deploy("topologies/nat-gateway.toml");
//   EXPECT_EQ(lab.exec("gw", {"cat", "/proc/sys/net/ipv4/ip_forward"}).out, "1\n");
//   for (const auto& c : lab.check()) EXPECT_TRUE(c.passed) << c.name << ": " << c.got;
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace netlab {

struct ExecResult {
  int exit_code = -1;
  std::string out;  // the command's stdout
};

struct CheckOutcome {
  std::string name;
  std::string node;
  bool passed = false;
  std::string expected;
  std::string got;
};

class Lab {
 public:
  struct Options {
    std::string state_dir = "/run/netlab";
    std::string cgroup_parent = "netlab";
    bool keep = false;  // leave the lab running when the object is destroyed
  };

  /// Validates and deploys; throws std::runtime_error with every diagnostic, or
  /// with the kernel's refusal (the lab is rolled back then).
  static Lab deploy(const std::string& topology_file, const Options& options);
  static Lab deploy(const std::string& topology_file) { return deploy(topology_file, Options{}); }

  Lab(Lab&&) noexcept;
  Lab& operator=(Lab&&) noexcept;
  ~Lab();

  const std::string& name() const;
  /// Runs argv inside `node` (its namespaces, cgroup, root filesystem).
  ExecResult exec(const std::string& node, const std::vector<std::string>& argv);
  /// Runs the topology's [[checks]] (in parallel) and returns their outcomes.
  std::vector<CheckOutcome> check();
  /// Changes the running lab to match `topology_file` (same lab name), touching
  /// only what differs (docs/apply.md). Throws std::runtime_error with the
  /// diagnostics or the refusal; on a failure the lab is left as it was.
  void apply(const std::string& topology_file);
  /// Destroys the lab now; throws std::runtime_error listing what could not be removed.
  void destroy();

 private:
  struct Impl;
  explicit Lab(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace netlab
