#include "node/init/program.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "node/exec_as.hpp"
#include "node/init.hpp"
#include "node/init/steps.hpp"

namespace netlab::node::detail {

namespace {

constexpr uint32_t kMaxRequest = 16 << 20;

// Forks and execs argv; returns once the exec happened (or failed), so READY
// can promise that `cmd` runs: a close-on-exec pipe reaches EOF at the exec.
// `own_group`: the child leads a process group of its own (the cmd's, which a
// restart stops as a whole).
pid_t run(const NodeSpec& spec, const std::vector<std::string>& argv, bool own_group) {
  int execd[2];
  if (::pipe2(execd, O_CLOEXEC) < 0) return -1;
  pid_t pid = ::fork();
  if (pid != 0) {
    ::close(execd[1]);
    if (pid > 0 && own_group) ::setpgid(pid, pid);  // either side may win the race; both ask the same
    char byte;
    while (pid > 0 && ::read(execd[0], &byte, 1) < 0 && errno == EINTR) {
    }
    ::close(execd[0]);
    return pid;
  }
  ::close(execd[0]);
  if (own_group) ::setpgid(0, 0);
  ::signal(SIGCHLD, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // An image's WorkingDir; one the image lacks leaves the command in /, as a shell would be.
  if (!spec.workdir.empty() && ::chdir(spec.workdir.c_str()) < 0) (void)::chdir("/");
  exec_as(spec.user, argv, "netlab-init: exec");
}

// Records how `cmd` ended in <node_dir>/status ("exited 3", "killed 9"), where
// netlab inspect and ls read it. The fd was opened before pivot_root.
void record_cmd_end(int status_fd, int status) {
  if (status_fd < 0) return;
  char line[32];
  int n = WIFEXITED(status) ? std::snprintf(line, sizeof line, "exited %d\n", WEXITSTATUS(status))
                            : std::snprintf(line, sizeof line, "killed %d\n", WTERMSIG(status));
  (void)!::pwrite(status_fd, line, static_cast<size_t>(n), 0);
  (void)!::ftruncate(status_fd, n);
}

void reap(Program& p) {
  int status = 0;
  for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;)
    if (pid == p.cmd && !p.cmd_reaped) {
      record_cmd_end(p.status_fd, status);
      p.cmd_reaped = true;
    }
}

// Takes every pending signal: children are reaped; SIGTERM or SIGINT ends the node.
void take_signals(Program& p) {
  signalfd_siginfo info[8];
  ssize_t n;
  bool child = false;
  while ((n = ::read(p.signal_fd, info, sizeof info)) > 0) {
    for (size_t i = 0; i < static_cast<size_t>(n) / sizeof info[0]; ++i) {
      if (info[i].ssi_signo == SIGCHLD) {
        child = true;
      } else {
        ::kill(-1, SIGKILL);  // PID 1 leaving takes the whole PID namespace with it anyway
        ::_exit(0);
      }
    }
  }
  if (child) reap(p);
}

long now_ms() {
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

// Waits until process group `group` has no process left (every member reaped
// by whoever is its parent), at most `ms`; wakes on each SIGCHLD.
bool wait_group_gone(Program& p, pid_t group, int ms) {
  long deadline = now_ms() + ms;
  while (true) {
    reap(p);
    if (::kill(-group, 0) < 0 && errno == ESRCH) return true;
    long left = deadline - now_ms();
    if (left <= 0) return false;
    pollfd f{p.signal_fd, POLLIN, 0};
    if (::poll(&f, 1, static_cast<int>(left)) > 0) take_signals(p);
  }
}

// Stops the cmd and everything left in its process group: SIGTERM, then
// SIGKILL after the grace. A process that left the group (a daemon that
// called setsid) is not the cmd's any more and stays.
void stop_cmd(Program& p) {
  if (p.cmd <= 0) return;
  reap(p);
  pid_t group = p.cmd;
  // Once the cmd was reaped its pid is free unless its group still has
  // members; a process that holds that number now means the group is empty
  // (and a group of that id is someone else's).
  bool ours = !p.cmd_reaped || (::kill(group, 0) < 0 && errno == ESRCH);
  if (ours) {
    ::kill(-group, SIGTERM);
    if (!wait_group_gone(p, group, kStopGraceMs)) {
      std::fprintf(stderr, "netlab-init: cmd still running %d ms after SIGTERM: SIGKILL\n", kStopGraceMs);
      ::kill(-group, SIGKILL);
      if (!wait_group_gone(p, group, kStopGraceMs))
        std::fprintf(stderr, "netlab-init: processes of the old cmd outlived SIGKILL for %d ms\n", kStopGraceMs);
    }
  }
  p.cmd = -1;
  p.cmd_reaped = true;
}

// One restart request on a connection from netlab (node/init.hpp).
void serve(Program& p, int conn) {
  timeval timeout{10, 0};  // netlab sends the request at once; a stuck peer does not stall the node
  ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ReadyMessage reply;
  uint32_t size = 0;
  std::string message;
  if (!read_all(conn, &size, sizeof size) || size > kMaxRequest) return (void)::close(conn);
  message.resize(size);
  if (!read_all(conn, message.data(), size)) return (void)::close(conn);
  NodeSpec next;
  try {
    next = decode_spec(message);
  } catch (const std::exception&) {
    reply.status = 1;
    reply.errnum = EINVAL;
    std::snprintf(reply.step, sizeof reply.step, "reading the restart request");
    (void)!::write(conn, &reply, sizeof reply);
    return (void)::close(conn);
  }
  // The exec commands run again when they, or what they run with, changed.
  bool rerun = next.exec != p.spec.exec || next.env != p.spec.env || next.user != p.spec.user ||
               next.workdir != p.spec.workdir;
  std::fprintf(stderr, "netlab-init: restarting the program%s\n", rerun ? " (exec commands too)" : "");
  stop_cmd(p);
  if (p.status_fd >= 0) (void)!::ftruncate(p.status_fd, 0);
  p.spec.exec = std::move(next.exec);
  p.spec.cmd = std::move(next.cmd);
  p.spec.env = std::move(next.env);
  p.spec.user = next.user;
  p.spec.workdir = std::move(next.workdir);
  p.spec.hostname = std::move(next.hostname);
  set_env(p.spec);
  if (rerun) reply.exec_failures = run_exec_commands(p);
  start_cmd(p);
  (void)!::write(conn, &reply, sizeof reply);
  ::close(conn);
}

}  // namespace

bool read_all(int fd, void* buf, size_t size) {
  auto* c = static_cast<char*>(buf);
  while (size > 0) {
    ssize_t n = ::read(fd, c, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    c += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

int open_control(const std::string& node_dir) {
  // Bound through the directory's descriptor: a long state directory would not fit sun_path.
  int dir = ::open(node_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) fail("opening " + node_dir);
  ::unlinkat(dir, kControlSocket, 0);  // a previous init's (a restart of the node)
  int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail("creating the control socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dir, kControlSocket);
  mode_t old = ::umask(0177);  // 0600: the host's root only
  int rc = ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  check(rc, "binding the control socket " + node_dir + "/" + kControlSocket);
  check(::listen(s, 4), "listening on the control socket");
  ::close(dir);
  return s;
}

void set_env(const NodeSpec& spec) {
  ::clearenv();
  ::setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
  ::setenv("HOME", "/root", 1);
  ::setenv("HOSTNAME", spec.hostname.c_str(), 1);
  ::setenv("TERM", "xterm", 1);
  for (const auto& [k, v] : spec.env) ::setenv(k.c_str(), v.c_str(), 1);
}

void block_signals(Program& p) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  p.signal_fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (p.signal_fd < 0) fail("creating the signalfd");
}

int run_exec_commands(const Program& p) {
  int failures = 0;
  for (const auto& argv : p.spec.exec) {
    std::fprintf(stderr, "netlab-init: exec:");
    for (const auto& a : argv) std::fprintf(stderr, " %s", a.c_str());
    std::fprintf(stderr, "\n");
    pid_t pid = run(p.spec, argv, false);
    int status = 0;
    while (pid > 0 && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ++failures;
      std::fprintf(stderr, "netlab-init: exec command failed (%s %d)\n", WIFEXITED(status) ? "exit code" : "signal",
                   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    }
  }
  return failures;
}

void start_cmd(Program& p) {
  if (p.spec.cmd.empty()) return;
  p.cmd = run(p.spec, p.spec.cmd, true);
  p.cmd_reaped = p.cmd <= 0;
}

void supervise(Program& p) {
  pollfd fds[2] = {{p.signal_fd, POLLIN, 0}, {p.control_fd, POLLIN, 0}};
  while (true) {
    if (::poll(fds, p.control_fd >= 0 ? 2 : 1, -1) < 0) continue;
    if (fds[0].revents) take_signals(p);
    if (p.control_fd >= 0 && (fds[1].revents & POLLIN)) {
      int conn = ::accept4(p.control_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn >= 0) serve(p, conn);
    }
  }
}

}  // namespace netlab::node::detail
