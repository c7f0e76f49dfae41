#include "node/enter.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "node/caps.hpp"
#include "node/exec_as.hpp"
#include "node/spawn.hpp"
#include "node/terminal.hpp"
#include "util/error.hpp"
#include "util/fd.hpp"

namespace netlab::node {

int exec_in_node(const EnterSpec& spec, Cgroups& cgroups) {
  if (spec.argv.empty()) throw Error(EINVAL, "nothing to run");
  uint64_t now = process_start_time(spec.init_pid);
  if (now == 0 || (spec.start_time && now != spec.start_time))
    throw Error(ESRCH, "the node's init (pid {}) is not running", spec.init_pid);
  // Open every namespace before joining any: /proc changes meaning on the way.
  // A contained node's init is in the node's user namespace, which owns only
  // its network namespace; every other one belongs to the host's. So we join
  // them all as host root, and the user namespace last, as the init did.
  struct Ns {
    const char* name;
    int flag;
    Fd fd;
  } nss[] = {{"net", CLONE_NEWNET, {}}, {"cgroup", CLONE_NEWCGROUP, {}}, {"ipc", CLONE_NEWIPC, {}},
             {"uts", CLONE_NEWUTS, {}}, {"pid", CLONE_NEWPID, {}},       {"mnt", CLONE_NEWNS, {}},
             {"user", CLONE_NEWUSER, {}}};
  auto ns_path = [&](pid_t pid, const char* name) { return "/proc/" + std::to_string(pid) + "/ns/" + name; };
  for (auto& ns : nss) {
    std::string path = ns_path(spec.init_pid, ns.name);
    ns.fd = Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns.fd) throw_errno("opening {}", path);
  }
  struct stat mine{}, node{};
  bool userns = ::stat(ns_path(::getpid(), "user").c_str(), &mine) == 0 &&
                ::stat(ns_path(spec.init_pid, "user").c_str(), &node) == 0 && mine.st_ino != node.st_ino;
  cgroups.attach(spec.cgroup, ::getpid());
  if (::unshare(CLONE_FS) < 0) throw_errno("unsharing filesystem attributes");
  for (auto& ns : nss) {
    if (ns.flag == CLONE_NEWUSER && !userns) continue;
    if (::setns(ns.fd.get(), ns.flag) < 0) throw_errno("joining the node's {} namespace", ns.name);
  }
  // In the node's user namespace our host uid 0 is nobody: become its root.
  if (userns && (::setresgid(0, 0, 0) < 0 || ::setgroups(0, nullptr) < 0 || ::setresuid(0, 0, 0) < 0))
    throw_errno("becoming root of the node's user namespace");

  // The program's terminal: a pty of the node's own devpts (opened now, as
  // the node's root in its mount namespace), never the caller's.
  StdioPlan plan = plan_stdio(spec.interactive);
  Pty pty;
  if (plan.pty) {
    pty = open_node_pty();
    if (spec.user && ::fchown(pty.slave.get(), spec.user->first, spec.user->second) < 0)
      throw_errno("giving the node's pty to user {}:{}", spec.user->first, spec.user->second);
    prepare_pty(plan, pty);
  }
  // Until the program execs, this process and its child hold the caller's
  // terminal; the child is in the node's PID namespace. Not dumpable: no
  // process of the node may ptrace them, open their /proc/PID/fd or take a
  // descriptor with pidfd_getfd (exec makes the program dumpable again).
  if (::prctl(PR_SET_DUMPABLE, 0) < 0) throw_errno("making netlab exec non-dumpable");
  block_relay_signals();
  pid_t child = ::fork();
  if (child < 0) throw_errno("fork");
  if (child == 0) {
    unblock_relay_signals();
    if (int rc = attach_child_stdio(plan, pty.slave.get()); rc < 0) {
      std::fprintf(stderr, "netlab exec: setting up the command's terminal: %s\n", std::strerror(-rc));
      ::_exit(126);
    }
    if (::chdir("/") < 0) ::_exit(126);
    if (!spec.workdir.empty() && ::chdir(spec.workdir.c_str()) < 0) (void)::chdir("/");
    std::string term = std::getenv("TERM") ? std::getenv("TERM") : "xterm";
    ::clearenv();
    ::setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
    ::setenv("HOME", "/root", 1);
    ::setenv("TERM", term.c_str(), 1);
    for (const auto& [k, v] : spec.env) ::setenv(k.c_str(), v.c_str(), 1);
    // The same capabilities as the node's own processes, not netlab's.
    if (int rc = restrict_bounding_set(spec.sys_admin || userns); rc < 0) {
      std::fprintf(stderr, "netlab exec: restricting capabilities: %s\n", std::strerror(-rc));
      ::_exit(126);
    }
    exec_as(spec.user, spec.argv, "netlab exec");
  }
  pty.slave.reset();  // the pty hangs up when the program's side is all closed
  int status = relay_and_wait(child, plan, std::move(pty.master));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

}  // namespace netlab::node
