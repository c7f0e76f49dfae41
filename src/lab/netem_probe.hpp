// Before a lab with delay, jitter, loss, corrupt, duplicate or reorder is
// built: does this kernel have the netem qdisc? Many kernels (this project's
// VM among them) ship without it (CONFIG_NET_SCH_NETEM unset, no sch_netem
// module); without this check the deploy failed halfway with the kernel's
// "Specified qdisc kind is unknown" and rolled back.
#pragma once

#include <string>

#include "lab/plan.hpp"

namespace netlab::nl {
class Netns;
}

namespace netlab::lab {

/// The link keys of `q` that need netem ("delay, loss"); empty when none.
std::string netem_keys(const AddQdisc& q);

/// Probes once per process (a netem qdisc on lo of a throwaway namespace) and
/// throws Error(EOPNOTSUPP) naming the first impaired link end, its keys,
/// CONFIG_NET_SCH_NETEM and module sch_netem when the kernel lacks netem.
/// Does nothing when the plan needs no netem.
void check_netem(const Plan& plan, const nl::Netns& host);

/// The probe alone: true when the kernel creates a netem qdisc. Cached.
bool kernel_has_netem();

}  // namespace netlab::lab
