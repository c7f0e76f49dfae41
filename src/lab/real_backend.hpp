// The real Backend: netlink (one socket per namespace, pipelined batches),
// nftables batches, cgroupfs, and the node runtime. Only this file and the
// modules it calls touch the kernel.
#pragma once

#include <memory>

#include "lab/backend.hpp"
#include "lab/plan.hpp"
#include "topology/model.hpp"

namespace netlab::lab {

/// `lab` is the topology being deployed (null for destroy, which needs only the journal).
std::unique_ptr<Backend> make_real_backend(const topo::Lab* lab, const HostFacts& facts);

}  // namespace netlab::lab
