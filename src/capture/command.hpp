// The host command a capture runs alongside (`netlab capture ... -- COMMAND`):
// started once every handle is capturing, held as a pidfd so the capture's
// poll loop sees it end. It runs with default signal dispositions and an
// empty signal mask, whatever netlab blocked for itself. It is the user's own
// program, named on the command line: the one thing capture executes (its own
// work, the capture handles, is done in-process from inside each namespace).
#pragma once

#include <string>
#include <vector>

#include "util/fd.hpp"

namespace netlab::capture {

class Command {
 public:
  /// Starts argv[0] (searched in PATH). `stdout_to_stderr`: the command's
  /// output must not mix into a pcap stream on stdout. Throws Error naming it.
  static Command start(const std::vector<std::string>& argv, bool stdout_to_stderr);

  int pidfd() const { return pidfd_.get(); }
  bool running() const { return pidfd_.valid() && !status_; }
  /// Reaps the command if it has ended (blocking if `wait`); true once reaped.
  bool reap(bool wait);
  /// Its exit code, or 128 + signal; valid once reaped.
  int status() const { return status_ ? code_ : -1; }
  /// Sends `sig` through the pidfd (a reaped command is never signalled).
  void signal(int sig);

 Command() = default;
  Command(Command&&) = default;
  Command& operator=(Command&&) = default;
  /// A command still running when its owner goes (an error path) is killed and reaped.
  ~Command();

 private:
  Fd pidfd_;
  bool status_ = false;
  int code_ = 0;
};

}  // namespace netlab::capture
