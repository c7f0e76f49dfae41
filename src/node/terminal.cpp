#include "node/terminal.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string>

#include "util/error.hpp"

namespace netlab::node {

namespace {

constexpr int kRelaySignals[] = {SIGCHLD, SIGWINCH, SIGINT, SIGQUIT, SIGTERM, SIGHUP};

sigset_t relay_set() {
  sigset_t set;
  ::sigemptyset(&set);
  for (int s : kRelaySignals) ::sigaddset(&set, s);
  return set;
}

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {  // a caller fd someone made non-blocking
      pollfd pfd{fd, POLLOUT, 0};
      ::poll(&pfd, 1, -1);
      continue;
    }
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

void copy_window_size(int from, int to) {
  winsize ws{};
  if (from >= 0 && ::ioctl(from, TIOCGWINSZ, &ws) == 0 && (ws.ws_row || ws.ws_col))
    ::ioctl(to, TIOCSWINSZ, &ws);
}

/// The caller's terminal in raw mode for the life of the relay.
class RawMode {
 public:
  RawMode(int fd, bool on) {
    if (!on || ::tcgetattr(fd, &saved_) < 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    if (::tcsetattr(fd, TCSADRAIN, &raw) == 0) fd_ = fd;
  }
  RawMode(const RawMode&) = delete;
  RawMode& operator=(const RawMode&) = delete;
  ~RawMode() { restore(); }
  void restore() {
    if (fd_ >= 0) ::tcsetattr(fd_, TCSADRAIN, &saved_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  termios saved_{};
};

}  // namespace

StdioPlan plan_stdio(bool interactive) {
  StdioPlan p;
  for (int fd = 0; fd < 3; ++fd) {
    bool tty = ::isatty(fd);
    if (tty && p.term_fd < 0) p.term_fd = fd;
    p.on_pty[fd] = interactive || tty;
  }
  p.pty = p.on_pty[0] || p.on_pty[1] || p.on_pty[2];
  if (!p.pty) return p;
  p.relay_input = p.on_pty[0];
  // Output goes to the caller's stdout when the pty holds it, else to the
  // caller's terminal it stands for (stderr, or stdin's terminal for the echo).
  for (int fd : {1, 2, 0}) {
    if (p.on_pty[fd] && (interactive || ::isatty(fd))) {
      p.out_fd = fd;
      break;
    }
  }
  // A background job (`netlab exec ... &` from an interactive shell) may not
  // read the terminal or switch it to raw mode (the kernel would stop it with
  // SIGTTIN/SIGTTOU): its program gets the pty, output only.
  if (p.relay_input && ::isatty(0) && ::tcgetpgrp(0) != ::getpgrp()) p.relay_input = false;
  p.raw = p.relay_input && ::isatty(0);
  return p;
}

Pty open_node_pty() {
  const char* path = "/dev/pts/ptmx";
  open_how how{};
  how.flags = O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  Pty pty;
  pty.master = Fd(static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how)));
  if (!pty.master) throw_errno("opening the node's {}", path);
  struct stat st {};
  struct statfs fs {};
  if (::fstat(pty.master.get(), &st) < 0 || ::fstatfs(pty.master.get(), &fs) < 0)
    throw_errno("checking the node's {}", path);
  if (fs.f_type != DEVPTS_SUPER_MAGIC || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 ||
      minor(st.st_rdev) != 2)
    throw Error(ENOTTY, "the node's {} is not the ptmx of a devpts", path);
  int unlock = 0;
  if (::ioctl(pty.master.get(), TIOCSPTLCK, &unlock) < 0)
    throw_errno("unlocking a pty of the node");
  pty.slave = Fd(::ioctl(pty.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.slave) throw_errno("opening the peer of a pty of the node");
  return pty;
}

void prepare_pty(const StdioPlan& plan, const Pty& pty) {
  termios t{};
  if (plan.term_fd >= 0 && ::tcgetattr(plan.term_fd, &t) == 0) {
    // Output is processed once: by the pty when the caller's terminal is raw,
    // by the caller's terminal otherwise.
    if (!plan.raw) t.c_oflag &= ~OPOST;
    if (::tcsetattr(pty.slave.get(), TCSANOW, &t) < 0) throw_errno("setting up a pty of the node");
  }
  copy_window_size(plan.term_fd, pty.master.get());
}

int attach_child_stdio(const StdioPlan& plan, int slave) {
  if (::setsid() < 0) return -errno;
  if (plan.pty) {
    if (::ioctl(slave, TIOCSCTTY, 0) < 0) return -errno;
    for (int fd = 0; fd < 3; ++fd)
      if (plan.on_pty[fd] && ::dup2(slave, fd) < 0) return -errno;
  }
  // Only stdin, stdout and stderr pass: any other fd netlab was started with
  // (a terminal among them) stays outside.
  if (::syscall(SYS_close_range, 3U, UINT_MAX, 0U) < 0) return -errno;
  return 0;
}

void block_relay_signals() {
  sigset_t set = relay_set();
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
}

void unblock_relay_signals() {
  sigset_t set = relay_set();
  ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
}

int relay_and_wait(pid_t child, const StdioPlan& plan, Fd master) {
  sigset_t set = relay_set();
  Fd sigfd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sigfd) throw_errno("opening a signalfd");
  ::signal(SIGPIPE, SIG_IGN);  // a closed stdout ends the relay's output, not netlab
  RawMode raw(plan.term_fd, plan.raw);

  int status = 0;
  bool reaped = false;
  bool input_open = plan.relay_input;
  bool output_ok = plan.out_fd >= 0;
  int hangups = 0;      // termination signals received in raw mode
  std::string pending;  // caller -> pty, not yet taken by the pty
  char buf[8192];

  auto reap = [&](int flags) {
    while (!reaped) {
      pid_t r = ::waitpid(child, &status, flags);
      if (r == child) reaped = true;
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && errno != EINTR) throw_errno("waiting for the command");
      break;
    }
  };
  auto drain_master = [&] {
    while (master) {
      ssize_t n = ::read(master.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // EAGAIN: all there is; EIO: every slave closed
      if (output_ok) output_ok = write_all(plan.out_fd, buf, static_cast<size_t>(n));
    }
  };

  while (!reaped) {
    pollfd pfds[3] = {{sigfd.get(), POLLIN, 0}, {-1, 0, 0}, {-1, 0, 0}};
    if (master) {
      pfds[1].fd = master.get();
      pfds[1].events = POLLIN | (pending.empty() ? 0 : POLLOUT);
    }
    if (input_open && master && pending.size() < sizeof buf) pfds[2] = {0, POLLIN, 0};
    if (::poll(pfds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("waiting for the command's terminal");
    }
    if (pfds[0].revents & POLLIN) {
      signalfd_siginfo si{};
      while (::read(sigfd.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGCHLD) {
          reap(WNOHANG);
        } else if (sig == SIGWINCH) {
          if (master) copy_window_size(plan.term_fd, master.get());
        } else if (!plan.raw) {
          // The terminal's ^C and ^\ reach netlab, not the program (it has a
          // session of its own): pass them on to its process group (to the
          // program alone if it has not made its session yet).
          if (::kill(-child, sig) < 0) ::kill(child, sig);
        } else if (++hangups == 1) {
          // The caller goes away: hang the node's pty up, as closing a terminal
          // window does (SIGHUP to the program's session), and stop relaying.
          raw.restore();
          master.reset();
          input_open = false;
          ::kill(child, SIGHUP);
        } else {
          ::kill(child, SIGKILL);  // asked twice: the program did not end on SIGHUP
        }
      }
    }
    if (master && (pfds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::read(master.get(), buf, sizeof buf);
      if (n > 0) {
        if (output_ok) output_ok = write_all(plan.out_fd, buf, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        // EIO: no process holds the pty any more; the program may still run.
        master.reset();
        input_open = false;
      }
    }
    if (master && !pending.empty() && (pfds[1].revents & POLLOUT)) {
      ssize_t n = ::write(master.get(), pending.data(), pending.size());
      if (n > 0) pending.erase(0, static_cast<size_t>(n));
    }
    if (pfds[2].fd >= 0 && (pfds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::read(0, buf, sizeof buf);
      if (n > 0) {
        pending.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        input_open = false;
        // End of piped input: the pty's end-of-file character, which a program
        // reading the pty in canonical mode sees as end of file.
        termios t{};
        if (!::isatty(0) && ::tcgetattr(master.get(), &t) == 0)
          pending.push_back(static_cast<char>(t.c_cc[VEOF]));
      }
    }
  }
  // What the program wrote before it ended is in the pty already.
  drain_master();
  raw.restore();
  return status;
}

}  // namespace netlab::node
