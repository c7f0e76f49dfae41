// A bulk TCP transfer between two lab nodes, run by two threads of the test,
// each inside one node's network namespace (setns acts on its thread only).
// The rate is timed at the receiver, from the first byte to the last, so it is
// what crossed the link, not what the sender's buffers swallowed.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace netlab::testing {

struct Transfer {
  size_t bytes = 0;
  double seconds = 0;
  double mbit_per_sec() const { return seconds > 0 ? bytes * 8 / seconds / 1e6 : 0; }
};

/// Sends `bytes` from netns `from` to `to_addr`:`port` where netns `to` listens
/// (both pinned under /run/netns). nullopt if the transfer did not complete
/// within `timeout_ms`.
std::optional<Transfer> tcp_transfer(const std::string& from, const std::string& to, const std::string& to_addr,
                                     int port, size_t bytes, int timeout_ms = 20000);

}  // namespace netlab::testing
