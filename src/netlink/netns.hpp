// Network namespaces as file descriptors: create (unpinned), open by path,
// pin at a path (a bind mount that outlives the process), unpin, and enter on
// the calling thread. setns(CLONE_NEWNET) acts on one thread only, so all of
// this is safe while other threads run. Knows nothing of topologies.
#pragma once

#include <functional>
#include <string>

#include "util/fd.hpp"

namespace netlab::nl {

class Netns {
 public:
  Netns() = default;
  explicit Netns(Fd fd) : fd_(std::move(fd)) {}

  /// A new network namespace, held only by the returned fd (it vanishes when the
  /// fd and every process in it are gone). `inside`, if given, runs while the
  /// calling thread is still in it (open its sockets, write its sysctls) — one
  /// namespace round trip instead of one per setup step. Throws Error naming the step.
  static Netns create(const std::function<void()>& inside = {});
  /// Opens /run/netns/NAME pins, /proc/PID/ns/net and the like. ENOENT if absent.
  static Netns open(const std::string& path);
  /// The calling thread's current network namespace.
  static Netns current();

  int fd() const { return fd_.get(); }
  bool valid() const { return fd_.valid(); }
  /// The namespace's inode number (identity, as `ip netns identify` uses).
  uint64_t inode() const;

 private:
  Fd fd_;
};

/// Makes the pin directory ready the way iproute2's `ip netns add` does, so the
/// two share it in any order: created (0755, parents too) when missing, then a
/// mount point (a recursive bind of itself) and shared. Sharing lets a pin made
/// in another mount namespace (netlab run under `ip netns exec`, a unit with a
/// private /tmp) appear on the host, as iproute2's do. Node mount namespaces
/// are cut off (made private) by their init before any pin exists. Once it is
/// a mount point, a later `ip netns add` only re-marks it shared instead of
/// stacking a new bind over existing pins.
void ensure_pin_dir(const std::string& dir);

/// Bind-mounts `ns` at `path` (creating the file, mode 0444 — iproute2's are
/// 0000; the directory must exist). EEXIST if the path exists.
void pin(const Netns& ns, const std::string& path);

/// What unpin() found at the path.
enum class UnpinResult { kRemoved, kAbsent, kNotOurs };

/// Removes the pin of the namespace with inode `ns_inode` at `path`, checked by
/// identity: a namespace pinned there that is not that one (another lab's,
/// `ip netns add`'s) is left in place (kNotOurs), as is any file netlab did not
/// make. Finds the pin also when the directory was bind-mounted over since it
/// was made (`ip netns add` on a plain /run/netns does that): the copy on top
/// and the original below are both unmounted, then the file is unlinked.
/// `ns_inode` 0 (journals written before inodes were recorded) accepts any namespace.
UnpinResult unpin(const std::string& path, uint64_t ns_inode);

/// Writes a per-namespace sysctl ("net.ipv6.conf.default.accept_dad") of `ns`
/// through /proc/sys, from a thread that entered it (/proc/sys/net follows the
/// opener's namespace). Throws Error naming the key.
void write_sysctl(const Netns& ns, const std::string& key, const std::string& value);
/// The same, for the namespace the calling thread is in now.
void write_sysctl(const std::string& key, const std::string& value);

/// Enters a network namespace on the calling thread; goes back on destruction.
class NetnsSwitch {
 public:
  explicit NetnsSwitch(const Netns& target);
  ~NetnsSwitch();
  NetnsSwitch(const NetnsSwitch&) = delete;
  NetnsSwitch& operator=(const NetnsSwitch&) = delete;

 private:
  Netns original_;
};

}  // namespace netlab::nl
