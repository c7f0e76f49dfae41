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

/// Bind-mounts `ns` at `path` (creating the file; the directory must exist).
/// Unlike `ip netns add`, never turns the directory into a shared mount: every
/// mount under a shared /run/netns propagates to each peer mount namespace,
/// which is O(N²) with N node mount namespaces. EEXIST if the path is a pin already.
void pin(const Netns& ns, const std::string& path);

/// Unmounts (MNT_DETACH) and unlinks a pin. Already gone (ENOENT, EINVAL for a
/// path that is not a mount point any more) is success.
void unpin(const std::string& path);

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
