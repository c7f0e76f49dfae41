// Runs independent blocking kernel work on a few threads: where each item waits
// on the kernel (an RCU grace period behind umount, a cgroup's rmdir) more than
// it computes, so even two cores overlap the waits; or where the kernel does the
// work under a lock it shares (network namespaces are set up under one taken
// for reading), so each core can do its part.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace netlab {

/// Calls fn(i) for every i in [0, n), on at most `workers` threads (the caller's
/// included). fn must not throw; items are handed out in order.
template <typename Fn>
void parallel_for(size_t n, unsigned workers, Fn&& fn) {
  workers = static_cast<unsigned>(std::clamp<size_t>(std::min<size_t>(workers, n), 1, 64));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) fn(i);
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < workers; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
}

}  // namespace netlab
