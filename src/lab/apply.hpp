// The executor: walks a plan phase by phase; before each batch it appends the
// batch's intents to the journal (one write, one fdatasync), then hands the
// batch to the Backend. On a failure it runs destroy on the journal written so
// far (the same path as a destroy after kill -9) and rethrows the cause.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "lab/backend.hpp"
#include "lab/destroy.hpp"
#include "lab/journal.hpp"
#include "lab/plan.hpp"

namespace netlab::lab {

struct ApplyOptions {
  /// Test hook: fail the action with this 1-based plan index (as if the kernel refused).
  std::optional<size_t> fail_at;
  /// Test hook: _exit(137) just before this 1-based action runs (its batch journaled,
  /// the actions before it in the batch done) — a kill -9 at a chosen point.
  std::optional<size_t> crash_at;
  /// Called after each batch: (phase name, actions done, actions total).
  std::function<void(const char*, size_t, size_t)> progress;
  /// A signal number set asynchronously (SIGINT from the CLI): seen before each phase
  /// and after the last, it stops the deploy and rolls back; the cause is Error(EINTR).
  const std::atomic<int>* cancel = nullptr;
  /// apply: the topology text saved as the lab's (FILE read from stdin, or a
  /// multi-host lab's pinned file); unset: the text of the target's file.
  std::optional<std::string> topology_text;
};

/// Thrown when deploy failed and was rolled back: what() is the cause, plus the
/// rollback's outcome.
class DeployError : public Error {
 public:
  DeployError(Error cause, DestroyReport rollback)
      : Error(std::move(cause)), rollback_(std::move(rollback)) {}
  const DestroyReport& rollback() const { return rollback_; }

 private:
  DestroyReport rollback_;
};

/// Applies `plan` through `backend`, journaling into `journal` (already created).
/// On failure: rolls back from the journal file and throws DeployError.
void apply(Plan& plan, Backend& backend, Journal& journal, const ApplyOptions& options = {});

/// Reads NETLAB_FAIL_AT / NETLAB_CRASH_AT (test hooks) into options.
void apply_options_from_env(ApplyOptions& options);

const char* phase_name(Phase p);

}  // namespace netlab::lab
