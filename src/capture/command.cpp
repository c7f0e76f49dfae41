#include "capture/command.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "util/error.hpp"
#include "util/strings.hpp"

extern char** environ;

namespace netlab::capture {

Command Command::start(const std::vector<std::string>& argv, bool stdout_to_stderr) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_init(&actions);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (stdout_to_stderr) posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw Error(rc, "running {}", join(argv, " "));
  Command c;
  // The child cannot be reaped before this: only this process waits for it.
  c.pidfd_ = Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!c.pidfd_) {
    int saved = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw Error(saved, "pidfd_open for {}", argv[0]);
  }
  return c;
}

bool Command::reap(bool wait) {
  if (status_ || !pidfd_) return status_;
  siginfo_t info{};
  int flags = WEXITED | (wait ? 0 : WNOHANG);
  for (;;) {
    if (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, flags) == 0) break;
    if (errno != EINTR) return false;
  }
  if (info.si_pid == 0) return false;  // WNOHANG and still running
  status_ = true;
  code_ = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
  return true;
}

Command::~Command() {
  if (!running()) return;
  signal(SIGKILL);
  reap(true);
}

void Command::signal(int sig) {
  if (running()) ::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0);
}

}  // namespace netlab::capture
