// Which sysctls a topology may set in a node. A node's init writes them
// through its own /proc/sys, from inside all of the node's namespaces; only a
// key the kernel keeps per namespace then stays inside the node. Every other
// key (fs.*, vm.*, most of kernel.*) is one value for the whole machine: a
// node setting it would change the host, and destroy could not undo it.
#pragma once

#include <string>

namespace netlab::topo {

/// Why `key` may not be set in a node ("" when it may): a malformed key
/// ('/', an empty segment, a space or control character) or a host-global one.
/// Accepted: net.* (resolved in the node's network namespace) except the keys
/// the kernel keeps in the initial network namespace only; the IPC namespace's
/// kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.*.
std::string sysctl_refusal(const std::string& key);

}  // namespace netlab::topo
