// Multi-host labs in the CLI (docs/multi-host.md): `deploy --host NAME` keeps
// only that host's part of the topology; `deploy --dry-run` of a lab with
// [hosts] prints the placement and the VNI plan.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "topology/model.hpp"

namespace netlab::cli {

/// Replaces `lab` by host `host`'s part ("" = the whole lab). With `dry_run`,
/// prints the placement to `out` first. Prints to stderr and returns false on
/// a user error (unknown host, --host without [hosts], a multi-host lab
/// deployed without --host).
bool select_host_part(topo::Lab& lab, const std::string& host, bool dry_run, std::ostream& out);

/// Whether `deploy FILE` (no --host) should deploy every part over ssh: the
/// lab has [hosts] and every host an `ssh` target.
bool deploys_over_ssh(const topo::Lab& lab, const std::string& host, bool dry_run);

/// Runs `netlab deploy FILE --host NAME` on every host over ssh in parallel;
/// if any part fails, destroys the parts that were built (and those of hosts
/// ssh could not reach, whose state is unknown). FILE
/// must be at the same path on every host. Returns the exit code.
/// What each host printed goes to `out` (test sends it to stderr, keeping
/// stdout for its results).
/// `reconfigure`: each part is deploy --reconfigure'd (its old part destroyed first).
int deploy_over_ssh(const topo::Lab& lab, const std::string& file, std::ostream& out, bool reconfigure = false);

}  // namespace netlab::cli
