// netlab's C++ API: stand up a lab from a topology file in a test, run
// commands in its nodes, run its checks, and have it destroyed when the object
// goes out of scope. Everything a test needs is in this one header. From CMake:
// `find_package(netlab CONFIG REQUIRED)` and link `netlab::netlab`; otherwise
// `pkg-config --cflags --libs --static netlab`. Needs root (namespaces, cgroups),
// like the CLI. The library prints nothing unless set_log_handler is given one.
//
//   netlab::Lab lab = netlab::Lab::deploy("topologies/nat-gateway.toml");
//   EXPECT_EQ(lab.exec("gw", {"cat", "/proc/sys/net/ipv4/ip_forward"}).out, "1\n");
//   for (const auto& c : lab.check()) EXPECT_TRUE(c.passed) << c.name << ": " << c.got;
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace netlab {

enum class LogLevel { kTrace, kDebug, kInfo, kWarning, kError };

/// netlab's log lines ("deploying lab natgw: 4 nodes ...") at `min` and above go to
/// `handler`, from any thread. By default the library is silent; an empty handler
/// silences it again.
void set_log_handler(std::function<void(LogLevel, const std::string&)> handler, LogLevel min = LogLevel::kInfo);

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
    /// The node init program (netlab-init): $NETLAB_INIT when set, else this one, by
    /// default the one installed with this library (find_package(netlab) and the
    /// pkg-config file define NETLAB_INSTALLED_INIT); empty: beside the running
    /// program or in ../libexec/netlab.
#ifdef NETLAB_INSTALLED_INIT
    std::string init_program = NETLAB_INSTALLED_INIT;
#else
    std::string init_program;
#endif
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
  /// Destroys the lab now; throws std::runtime_error listing what could not be removed.
  void destroy();

 private:
  struct Impl;
  explicit Lab(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace netlab
