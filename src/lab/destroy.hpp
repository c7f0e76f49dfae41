// Destroy: reads only the journal, computes each action's undo, and runs them
// in coarse steps (kill nodes, remove cgroups, host objects, netns pins, files),
// latest first within a step. Errors are collected, never fatal; "already gone"
// counts as success, so a second destroy is a no-op.
#pragma once

#include <string>
#include <vector>

#include "lab/action.hpp"
#include "lab/backend.hpp"

namespace netlab::lab {

struct DestroyReport {
  size_t removed = 0;                  // undos that succeeded
  std::vector<std::string> failures;   // "removing cgroup x: Device or resource busy (EBUSY)"
  bool ok() const { return failures.empty(); }
};

/// The undos of `actions`, in the order destroy runs them.
std::vector<Undo> undo_sequence(const std::vector<Action>& actions);

/// Runs undo_sequence(actions) through backend, collecting failures.
DestroyReport destroy_actions(const std::vector<Action>& actions, Backend& backend);

}  // namespace netlab::lab
