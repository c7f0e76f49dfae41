// Starting nodes: clone into new PID, mount, UTS and IPC namespaces, inside the
// node's cgroup before the child runs a step of its own (the init waits on its
// release channel until netlab has attached it), joining the network namespace
// netlab built for it (for a contained node, one its own user namespace owns:
// see make_contained_netns; the init joins that user namespace once it has
// built the node's file system). The node's init is netlab-init
// (src/node/init/), a small static program: netlab execs it once per batch of
// starts (the zygote, sharing netlab's memory until that exec instead of
// copying its page tables), and it forks each node's init, so a start costs
// the same with 10 nodes running or 10 000, copies only the zygote's few
// pages, and skips the C library's start-up per node.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "node/cgroup.hpp"
#include "node/spec.hpp"
#include "node/userns.hpp"
#include "util/error.hpp"
#include "util/fd.hpp"

namespace netlab::node {

struct Started {
  std::string name;
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/PID/stat field 22: identity together with the pid
  Fd pidfd;
  Fd ready;                 // read end of the child's status pipe
  Fd release;               // write end of its release pipe, until released
  bool in_cgroup = false;   // attached to its cgroup
  int exec_failures = 0;    // filled by wait_ready
};

/// Creates the node's directories (upper, work, root; var and var-work for a
/// host-image node); with `owner` (a contained node), they belong to the node's
/// root as the host sees it. Idempotent. (/etc/hosts is the lab's: ensure_hosts_layer.)
void prepare_node_dir(const std::string& node_dir, std::optional<IdRange> owner = std::nullopt,
                      bool host_image = false);

/// Reserves, at the lowest free descriptor numbers, the three slots a node start
/// passes its child's descriptors in. Call it before opening many descriptors
/// (a deploy: before its namespaces); otherwise the first start does it.
void prepare_node_starts();

/// The node init program to exec from now on, ahead of $NETLAB_INIT and the places
/// looked at by default (the C++ API passes the one installed with the library).
void set_init_program(const std::string& path);

/// Starts a batch of nodes: the first start execs one netlab-init, the zygote,
/// which forks every node's init of the batch (CLONE_PARENT: each is this
/// process's child); the destructor ends the zygote and reaps it. One thread
/// at a time.
class Starter {
 public:
  Starter();
  ~Starter();
  Starter(const Starter&) = delete;
  Starter& operator=(const Starter&) = delete;

  /// See clone_node and start_node.
  Started clone(const NodeSpec& spec);
  Started start(const NodeSpec& spec, Cgroups& cgroups);
  /// The zygote's pid, 0 when none runs.
  pid_t zygote_pid() const { return pid_; }

 private:
  void start_zygote();
  void stop_zygote() noexcept;
  pid_t pid_ = 0;
  Fd pidfd_;
  Fd sock_;
};

/// Starts the node and returns once it runs inside its cgroup (not once it is
/// set up). One node: a Starter of its own (many: use one Starter).
Started start_node(const NodeSpec& spec, Cgroups& cgroups);

/// The two halves of start_node. clone_node creates the child in its new PID,
/// mount, UTS and IPC namespaces (they belong to the host's user namespace),
/// the node init forked by a zygote of its own, blocked before its first step. It joins
/// spec.netns_fd; a contained node's init later joins the user namespace that
/// owns that network namespace (see make_contained_netns).
Started clone_node(const NodeSpec& spec);
/// Puts the child in `cgroup` (unless it was cloned there) and lets it run.
void release_node(Started& s, const std::string& cgroup, Cgroups& cgroups);
/// Kills and reaps a child that was never released (or failed to be).
void abandon_node(Started& s);

/// A node that failed to come up: `index` into the vector given to wait_ready.
class NodeError : public Error {
 public:
  NodeError(size_t index, Error e) : Error(std::move(e)), index_(index) {}
  size_t index() const { return index_; }

 private:
  size_t index_;
};

/// Waits until every node reported READY (set up, exec commands run), in parallel.
/// Throws NodeError for the first that failed ("node h1: mounting overlay: ... (EINVAL)")
/// or that did not report within timeout_ms.
void wait_ready(const std::vector<Started*>& nodes, int timeout_ms);

/// A node's init, identified by its pid and start time (the pid alone may be reused).
struct NodeProcess {
  pid_t pid = 0;
  uint64_t start_time = 0;
};

/// Kills many nodes: all are signalled first, then all are awaited. One result
/// per node, nullopt when it is gone (or already was); same rules as kill_node.
std::vector<std::optional<Error>> kill_nodes(std::span<const NodeProcess> nodes, int timeout_ms = 5000);

/// Kills a node by its PID 1 — if pid still has that start time — and waits
/// until it is gone. Already gone (ESRCH, or a new process with that pid) is success.
void kill_node(pid_t pid, uint64_t start_time, int timeout_ms = 5000);

/// Start time of `pid` in clock ticks since boot, 0 if there is no such process.
uint64_t process_start_time(pid_t pid);

/// True if `pid` is that process (same start time) and has not exited (a zombie has).
bool process_running(pid_t pid, uint64_t start_time);

/// Raises RLIMIT_NOFILE to its hard limit: a deploy holds fds for many namespaces.
void raise_fd_limit();

}  // namespace netlab::node
