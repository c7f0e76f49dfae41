// The zygote: one netlab-init, exec'd once per batch of node starts, that
// forks each node's init into its new namespaces (protocol in node/init.hpp).
// Exec'ing netlab-init per node cost 0.6-1.3 ms of CPU each on a VM (the C
// library's start-up probes the caches with cpuid, a trap to the hypervisor
// every time) — 9% of a 10 000-node deploy; a fork of this small process
// copies a few page tables.
//
// A child is cloned with CLONE_PARENT: netlab, not the zygote, is its parent
// and reaps it, as when netlab cloned it itself; CLONE_PIDFD gives netlab a
// descriptor that names exactly that process.
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "node/init.hpp"
#include "node/init/steps.hpp"

namespace netlab::node::detail {

namespace {

constexpr uint64_t kNodeNamespaces = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;

// The three descriptors of a request, or none when the message is not one.
bool take_fds(msghdr& msg, int (&fds)[3]) {
  int got = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    auto* data = reinterpret_cast<int*>(CMSG_DATA(c));
    for (size_t i = 0; i < n; ++i) {
      if (got < 3) fds[got] = data[i];
      else ::close(data[i]);
      ++got;
    }
  }
  if (got == 3 && !(msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) return true;
  for (int i = 0; i < got && i < 3; ++i) ::close(fds[i]);
  return false;
}

void reply(int sock, const ZygoteReply& r, int pidfd) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{const_cast<ZygoteReply*>(&r), sizeof r};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (pidfd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &pidfd, sizeof pidfd);
  }
  if (::sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) ::_exit(1);  // netlab is gone
}

}  // namespace

int zygote_main(int sock) {
  ::prctl(PR_SET_NAME, "netlab-zygote");
  // Only the socket stays, close-on-exec (no program a node runs may hold it).
  if (sock < 3 || ::fcntl(sock, F_SETFD, FD_CLOEXEC) < 0) return 2;
  if (sock > 3) ::close_range(3, static_cast<unsigned>(sock) - 1, 0);
  ::close_range(static_cast<unsigned>(sock) + 1, ~0U, 0);
  // No terminal: a session of its own, without a controlling terminal, and
  // /dev/null as stdio. The inits are forked in it (each then makes its own),
  // so no node program can open /dev/tty onto the terminal netlab ran in and
  // push input into it (TIOCSTI). Stdio also keeps the request's descriptors,
  // which recvmsg places at the lowest free numbers, above 2.
  ::setsid();
  int devnull = ::open("/dev/null", O_RDWR);
  if (devnull < 0) return 2;
  for (int fd = 0; fd < 3; ++fd)
    if (fd != devnull) ::dup2(devnull, fd);
  if (devnull > 2) ::close(devnull);
  // Signals wait (a Ctrl-C meant for netlab must not end the zygote between
  // two starts; netlab ends it by closing the socket); a child does not
  // inherit what is pending, and its init sets its own mask. Dispositions
  // back to the defaults: what netlab ignored is not the nodes' to ignore.
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);

  for (;;) {
    ZygoteRequest req{};
    iovec iov{&req, sizeof req};
    alignas(cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;  // netlab closed the socket: the batch is done
    int fds[3] = {-1, -1, -1};
    if (n != static_cast<ssize_t>(sizeof req) || !take_fds(msg, fds)) {
      reply(sock, ZygoteReply{-1, EPROTO}, -1);
      continue;
    }
    req.node[sizeof req.node - 1] = '\0';

    int pidfd = -1;
    clone_args args{};
    args.flags = kNodeNamespaces | CLONE_PARENT | CLONE_PIDFD;
    args.pidfd = reinterpret_cast<uintptr_t>(&pidfd);
    // Like fork: the child runs on its copy of this stack and memory. It is
    // single-threaded, as this process is, and holds no lock of the C library.
    // What a raw clone3 leaves stale in the child, and why nothing here minds:
    // the thread's cached TID in the C library (only PI/robust mutexes and
    // pthread calls on itself by TID would care: none is used; raise and
    // getpid ask the kernel) and its robust-futex list (none); rseq stays
    // registered, at the same address in the child's copy. The init's own
    // forks of node programs go through the C library's fork, which sets both.
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
      ::close(sock);
      ::prctl(PR_SET_NAME, kInitProgram);  // until its spec names it init:NODE
      run_init(fds[0], fds[1], fds[2], req.node);
    }
    int err = pid < 0 ? errno : 0;
    for (int fd : fds) ::close(fd);
    reply(sock, ZygoteReply{static_cast<int32_t>(pid < 0 ? -1 : pid), err}, pidfd);
    if (pidfd >= 0) ::close(pidfd);
  }
}

}  // namespace netlab::node::detail
