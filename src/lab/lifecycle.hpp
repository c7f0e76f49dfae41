// The lab lifecycle entry points the CLI and the C++ API call: deploy, destroy,
// list. They own the state directory (<state-dir>/<lab>/{journal,lock,lab.json})
// and its lock; the kernel work goes through a Backend.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lab/apply.hpp"
#include "lab/backend.hpp"
#include "lab/destroy.hpp"
#include "lab/plan.hpp"
#include "topology/model.hpp"
#include "util/fd.hpp"

namespace netlab::lab {

/// A lab-level refusal the user resolves (already deployed, locked by another
/// command): exit code 1, not a kernel failure.
class LabConflict : public Error {
 public:
  using Error::Error;
};

/// Makes the backend for a lab (the real one, or a fake in tests). `lab` is null for destroy.
using BackendFactory = std::function<std::unique_ptr<Backend>(const topo::Lab* lab)>;

struct DeployResult {
  size_t actions = 0;
  double seconds = 0;
  uint64_t kernel_requests = 0;  // rtnetlink requests sent
};

/// Deploys `lab`: fails with Error(EEXIST) "lab X is already deployed" when its state
/// exists, with Error(EBUSY) when another netlab holds its lock. On failure the lab is
/// rolled back (DeployError) and its state dir removed when the rollback was complete.
DeployResult deploy_lab(const topo::Lab& lab, const HostFacts& facts, const BackendFactory& make,
                        const ApplyOptions& options = {});

struct DestroyResult {
  bool nothing_to_do = false;  // no state for that lab
  DestroyReport report;
  double seconds = 0;
};

/// Destroys the lab named `lab` from its journal alone. Idempotent.
DestroyResult destroy_lab(const std::string& lab, const HostFacts& facts, const BackendFactory& make);

/// Names of labs with state under facts.state_dir, sorted.
std::vector<std::string> list_labs(const HostFacts& facts);

/// An exclusive flock on <lab-dir>/lock, held while deploy/destroy/exec change the lab.
class LabLock {
 public:
  /// Throws Error(EBUSY) naming the lab when another process holds it.
  static LabLock acquire(const HostFacts& facts, const std::string& lab, bool create_dir);
  bool held() const { return fd_.valid(); }

 private:
  explicit LabLock(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
};

/// Throws LabConflict(EINVAL) with topo::name_problem's message when `lab`
/// cannot be a lab name (empty, "..", "images", "a/b", ...). Every entry point
/// that turns a lab name into a path calls it first.
void check_lab_name(const std::string& lab);

std::string journal_path(const HostFacts& facts, const std::string& lab);
std::string snapshot_path(const HostFacts& facts, const std::string& lab);

}  // namespace netlab::lab
