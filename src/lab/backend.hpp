// The seam in front of the kernel (ninja's DiskInterface / CommandRunner). The
// executor and destroy call only this interface, so plan/apply/rollback are
// tested without root by a fake that records calls and fails on cue; the real
// implementation (real_backend.*) speaks netlink, nftables, cgroupfs and clone.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>

#include "lab/action.hpp"
#include "lab/change.hpp"
#include "util/error.hpp"

namespace netlab::lab {

struct Plan;

/// A failure of one action inside a batch: `index` is its position in the batch.
class ActionError : public Error {
 public:
  ActionError(size_t index, Error cause) : Error(std::move(cause)), index_(index) {}
  size_t index() const noexcept { return index_; }

 private:
  size_t index_;
};

class Backend {
 public:
  virtual ~Backend() = default;

  /// Checks the host before anything is built (the journal does not exist yet):
  /// what the plan needs is there and what it would create is free. Throws
  /// Error naming the object and the cause. The default checks nothing.
  virtual void preflight(const Plan& plan) { (void)plan; }

  /// Fills what an action must carry in the journal before it runs (the
  /// previous value of a host sysctl). Throws Error on failure.
  virtual void prepare(Action& action) = 0;

  /// Runs the actions of one phase, in order, possibly pipelined. Fills
  /// StartNode::pid/start_time. On the first failure throws ActionError with the
  /// batch index; later actions may or may not have run (they are journaled).
  virtual void run(std::span<Action> batch) = 0;

  /// Runs one undo. Something already gone (ENOENT, ENODEV, ESRCH) is success.
  /// Throws Error otherwise.
  virtual void undo(const Undo& u) = 0;

  /// Runs the undos of one destroy step: they do not depend on each other, so
  /// a backend may run them together (signal every node, then wait for all).
  /// Reports each through done(index, nullptr on success). The default runs
  /// undo() one after the other.
  virtual void undo_step(std::span<const Undo> undos, const std::function<void(size_t, const Error*)>& done) {
    for (size_t i = 0; i < undos.size(); ++i) {
      try {
        undo(undos[i]);
        done(i, nullptr);
      } catch (const Error& e) {
        done(i, &e);
      }
    }
  }

  /// Runs one change of an apply (change.hpp). Already gone (ENOENT, ENODEV,
  /// ESRCH, EADDRNOTAVAIL) is success. Throws Error otherwise.
  virtual void change(const Change& c) { throw Error(ENOTSUP, "{}: this backend cannot change a running lab", describe(c)); }

  /// The value a node's sysctl has now (what a SetNodeSysctl of a key the node
  /// never set must restore on a rollback). Throws Error.
  virtual std::string node_sysctl(const SetNodeSysctl& s) {
    throw Error(ENOTSUP, "sysctl {} of node {}: this backend cannot read it", s.key, s.node);
  }

  /// Kernel requests sent so far (netlink and nftables messages), for reports.
  virtual uint64_t requests_sent() const { return 0; }
  /// After a rolled-back apply: removes the files this backend made in the
  /// lab's directory for the steps that were undone (e.g. a new /etc/hosts
  /// layer), except those `keep` (the backend that restored the running lab) uses.
  virtual void discard_created(const Backend* keep) { (void)keep; }
  /// Files in the lab's directory that nodes this backend started use.
  virtual std::vector<std::string> files_in_use() const { return {}; }

  /// Set by the executor around run(): a backend may call it inside a long
  /// phase with how many of the batch's actions are done, for progress.
  std::function<void(size_t)> on_batch_progress;
};

}  // namespace netlab::lab
