// NetnsStore: network namespaces held by name without a descriptor each.
// A deploy makes thousands of namespaces before any of them is pinned at
// /run/netns (pins come last: every node's mount namespace would copy a pin
// made before its clone). Holding each by an open descriptor made a lab's size
// hit the open-files limit (about 6000 nodes under 20 000). The store holds
// them instead by bind mounts on a tmpfs in a mount namespace of its own, made
// and served by one thread; nobody else's mount table sees them, and when the
// store goes (or netlab dies) that namespace and every hold in it go too.
// Any thread reopens a namespace by name when a step needs it, and closes it
// after. Knows nothing of topologies.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "netlink/netns.hpp"
#include "util/error.hpp"
#include "util/fd.hpp"

namespace netlab::nl {

class NetnsStore {
 public:
  /// Starts the store's thread and its mount namespace. Throws Error naming the step.
  NetnsStore();
  ~NetnsStore();
  NetnsStore(const NetnsStore&) = delete;
  NetnsStore& operator=(const NetnsStore&) = delete;

  /// Holds `ns` under `key` (no '/'); returns at once, from any thread: the
  /// store keeps a duplicate descriptor until its thread has made the hold.
  void put(const std::string& key, const Netns& ns);
  /// Opens what `key` holds, waiting for its put to finish. Error(ENOENT) for
  /// a key never put; the put's own error if the hold failed.
  Netns open(const std::string& key);
  /// Whether `key` was put (it may still be in flight).
  bool has(const std::string& key);

 private:
  void serve();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::pair<std::string, Fd>> queue_;
  struct Hold {
    bool done = false;            // the thread has made it (or failed to)
    std::optional<Error> error;   // why it failed
  };
  std::map<std::string, Hold> holds_;
  Fd dir_;                      // the tmpfs that holds the binds, reachable from any mount namespace
  std::optional<Error> failed_;  // the thread could not start
  bool ready_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace netlab::nl
