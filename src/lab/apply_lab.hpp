// `netlab apply`: changes a running lab to match a new topology file, touching
// only what differs (diff.hpp). Transactional like deploy: before each step
// its reverts are appended to <lab-dir>/apply.log (one write, one fdatasync)
// and what it creates to the lab's journal, so that
//   - a failed step rolls back every earlier step (their reverts, in reverse);
//   - destroy after a kill -9 still needs only the journal;
//   - the next apply after a kill -9 first rolls the interrupted one back
//     (or finishes its commit) from apply.log, then diffs as usual.
// The commit is the saved topology (<lab-dir>/topology.toml) replaced by rename.
#pragma once

#include <cstdint>
#include <string>

#include "lab/apply.hpp"
#include "lab/diff.hpp"
#include "lab/lifecycle.hpp"

namespace netlab::lab {

struct ApplyResult {
  ChangePlan plan;
  double seconds = 0;
  uint64_t kernel_requests = 0;  // netlink requests sent (0 for an unchanged file)
  bool recovered = false;        // an interrupted apply was rolled back first
};

/// The change plan apply would run (for --dry-run). Throws LabConflict(ENOENT)
/// when the lab is not deployed, ApplyRefused for a change apply cannot make.
ChangePlan plan_apply(const topo::Lab& target, const HostFacts& facts);

/// Applies `target` to the running lab of the same name. On failure everything
/// this apply changed is undone and DeployError is thrown (its rollback report
/// lists anything that could not be put back). NETLAB_FAIL_AT / NETLAB_CRASH_AT
/// (options) count the change plan's steps, from 1.
ApplyResult apply_lab(const topo::Lab& target, const HostFacts& facts, const BackendFactory& make,
                      const ApplyOptions& options = {});

std::string apply_log_path(const HostFacts& facts, const std::string& lab);

}  // namespace netlab::lab
