// A TCP listener inside a lab node's network namespace, run by a thread of the
// test (setns acts on that thread only). It records the peer address of the
// first connection it accepts: how a test sees what NAT did to a flow.
#pragma once

#include <future>
#include <optional>
#include <string>
#include <thread>

namespace netlab::testing {

class Listener {
 public:
  /// Listens on port in the netns pinned at /run/netns/<netns>; returns once listening.
  Listener(const std::string& netns, int port, int timeout_ms = 3000);
  ~Listener();
  /// The peer address of the accepted connection, or nullopt if none came in time.
  std::optional<std::string> peer();

 private:
  std::thread thread_;
  std::promise<std::optional<std::string>> result_;
  std::future<std::optional<std::string>> future_;
};

}  // namespace netlab::testing
