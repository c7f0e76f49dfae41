// The change plan of `netlab apply`: a diff of two plans (design decision 12).
// The running lab is the plan of the topology it was deployed from, with the
// interface indexes its journal recorded; the target is the plan of the new
// file. What both hold unchanged is not touched; the rest becomes an ordered
// list of steps, each with the ops that revert it. Pure: no kernel, no files.
#pragma once

#include <string>
#include <vector>

#include "lab/change.hpp"
#include "lab/plan.hpp"
#include "topology/model.hpp"
#include "util/error.hpp"

namespace netlab::lab {

/// One step of an apply: what it does, and what undoes it (run in order, after
/// the reverts of every later step). Reverts are idempotent (already done is fine).
struct Step {
  Op forward;
  std::vector<Op> revert;
};

struct ChangePlan {
  std::string lab;
  std::vector<Step> steps;
  // What the diff found, for messages: node names per kind of change.
  std::vector<std::string> added, removed, recreated, restarted;
  std::vector<std::string> programs;  // nodes whose program (not init) restarts
};

/// A change apply cannot make to a running lab (exit code 1: the user decides).
class ApplyRefused : public Error {
 public:
  using Error::Error;
};

/// Diffs the running lab (`running`, deployed with the actions in `journal`)
/// against `target`. Throws ApplyRefused for what apply does not change in
/// place (a different lab name; something in the host's namespace other than
/// bridge attachments and host NAT).
ChangePlan diff_labs(const topo::Lab& running, const std::vector<Action>& journal, const topo::Lab& target,
                     const HostFacts& facts);

/// One line per step, in the form of render_plan: "    3 del_link           link h1:eth1".
std::string render_change_plan(const ChangePlan& p);

}  // namespace netlab::lab
