// SIGINT, SIGTERM and SIGHUP while a verb changes a lab: the handler only records
// the signal (and wakes a watcher thread); deploy's executor sees the flag between
// phases and rolls back, and a verb may register what to do at once (netlab test
// destroys the lab it deployed while its checks run). The exit code is 128 + signal.
#pragma once

#include <atomic>
#include <functional>
#include <string>

namespace netlab::cli {

class InterruptGuard {
 public:
  /// Installs the handlers (SA_RESTART); the destructor restores the previous ones.
  /// `notice` (a string literal) is written to stderr when the first signal arrives.
  explicit InterruptGuard(const char* notice = "netlab: interrupted; stopping and undoing what this command built...");
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  /// The first signal received, or 0: hand it to lab::ApplyOptions::cancel.
  const std::atomic<int>* flag() const;
  int signal() const { return flag()->load(); }
  /// "SIGINT".
  static std::string name(int sig);

  /// Runs fn(signal) on the watcher thread when a signal arrives, or at once (on the
  /// watcher) when one already has. Pass nullptr to stop. fn usually ends with _exit.
  void on_interrupt(std::function<void(int)> fn);
};

}  // namespace netlab::cli
