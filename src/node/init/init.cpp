// netlab-init: a node's PID 1, forked into the node's new namespaces by the
// zygote, a netlab-init netlab execs once per batch of starts (zygote.cpp;
// protocol in node/init.hpp). A small static program rather than a copy of
// netlab: a fork of it copies few page tables, and an idle node keeps only
// this program's few pages.
//
// The node's side of a start, in order: read the spec, wait to be released (by
// then it is in its cgroup), join the node's network namespace, a cgroup
// namespace rooted at its own group, a private mount tree, sysctls, the root
// file system with its binds, /proc, /sys, /dev and /tmp (rootfs.cpp),
// pivot_root, hostname; a contained node's init then joins the node's user
// namespace as its root; the capability bounding set, the `exec` commands,
// READY, `cmd`, and the init loop (program.cpp) that reaps orphans and serves
// restarts of the program on its control socket for the rest of the node's
// life. Everything up to the user namespace is done as host root in
// namespaces that belong to the host: a contained node cannot undo it.
//
// Every step that fails writes its errno and name to the status pipe, so the
// deploy says "node h1: mounting overlay ...: Invalid argument (EINVAL)".
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <linux/nsfs.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "node/caps.hpp"
#include "node/init.hpp"
#include "node/init/program.hpp"
#include "node/init/rootfs.hpp"
#include "node/init/steps.hpp"
#include "node/spec.hpp"
#include "util/private_proc.hpp"
#include "util/strings.hpp"

namespace netlab::node::detail {

namespace {

int g_ready_fd = -1;

}  // namespace

[[noreturn]] void fail(const std::string& step) {
  ReadyMessage m;
  m.status = 1;
  m.errnum = errno;
  std::snprintf(m.step, sizeof m.step, "%s", step.c_str());
  if (g_ready_fd >= 0) (void)!::write(g_ready_fd, &m, sizeof m);
  ::_exit(127);
}

namespace {

// A contained node's init leaves host root behind for good: it joins the
// node's user namespace (the one its network namespace belongs to) and
// becomes root there, an unprivileged host uid. Every namespace but the
// network one still belongs to the host, so the node's root cannot mount,
// unmount or change the hostname, and the masks stay.
void become_contained_root(int netns_fd) {
  int userns = ::ioctl(netns_fd, NS_GET_USERNS);
  if (userns < 0) fail("finding the node's user namespace");
  check(::setns(userns, CLONE_NEWUSER), "joining the node's user namespace");
  ::close(userns);
  check(::setresgid(0, 0, 0), "becoming root (gid 0) of the user namespace");
  check(::setgroups(0, nullptr), "dropping supplementary groups");
  check(::setresuid(0, 0, 0), "becoming root (uid 0) of the user namespace");
}

// A procfs instance of the init's own, mounted nowhere, for the net.* writes:
// in the host's /proc every node's namespace leaves its dentries for
// /proc/sys/net/... in one hash chain, and each lookup compared against all
// of them (proc_sys_compare: a quarter of a 5000-router deploy's CPU, growing
// with the lab). -1 when the kernel cannot (then the host's /proc serves).
int private_proc = -2;

void close_private_proc() {
  if (private_proc >= 0) ::close(private_proc);  // its superblock goes with it
  private_proc = -2;
}

void write_sysctl(const std::string& key, const std::string& value) {
  std::string path = sysctl_path(key);
  int fd = -1;
  if (key.starts_with("net.")) {
    if (private_proc == -2) private_proc = open_private_proc();
    if (private_proc >= 0) fd = ::openat(private_proc, path.c_str() + 6, O_WRONLY | O_CLOEXEC);  // after "/proc/"
  }
  if (fd < 0) fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("opening sysctl " + key);
  if (::write(fd, value.data(), value.size()) < 0) fail("writing sysctl " + key + " = " + value);
  ::close(fd);
}

[[noreturn]] void node_child(const NodeSpec& spec, int release_fd, int ready_fd, int netns_fd) {
  std::string comm = "init:" + spec.name;  // ps shows the node
  ::prctl(PR_SET_NAME, comm.substr(0, 15).c_str());
  char go = 0;
  if (::read(release_fd, &go, 1) != 1) ::_exit(125);  // netlab gave up on us before release
  ::close(release_fd);
  check(::setns(netns_fd, CLONE_NEWNET), "joining the node's network namespace");
  check(::unshare(CLONE_NEWCGROUP), "creating the cgroup namespace");
  check(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), "making the mount tree private");

  int log = ::open((spec.node_dir + "/log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) fail("opening the node log");
  int devnull = ::open("/dev/null", O_RDONLY);
  ::dup2(devnull, 0);
  ::dup2(log, 1);
  ::dup2(log, 2);
  ::close(log);
  ::close(devnull);
  // Where the end of `cmd` is recorded (a restart may give a node without one a cmd).
  Program program;
  program.status_fd = ::open((spec.node_dir + "/status").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  // netlab's way in for restarts of the program, bound while the node directory is in view.
  program.control_fd = open_control(spec.node_dir);

  // Sysctls through the host's /proc while it is still in view: its
  // /proc/sys/net is this node's (it follows the writer's namespace), and a
  // contained node's own /proc/sys will be read-only but for net.
  if (spec.forwarding) {
    write_sysctl("net.ipv4.ip_forward", "1");
    write_sysctl("net.ipv6.conf.all.forwarding", "1");
  }
  for (const auto& [k, v] : spec.sysctls) write_sysctl(k, v);
  close_private_proc();

  // A contained node's image and host directories are idmapped to its user
  // namespace (the owner of its network namespace).
  int userns_fd = -1;
  if (spec.userns) {
    userns_fd = ::ioctl(netns_fd, NS_GET_USERNS);
    if (userns_fd < 0) fail("finding the node's user namespace");
  }
  const std::string root = spec.node_dir + "/root";
  build_root(spec, root, userns_fd);
  if (userns_fd >= 0) ::close(userns_fd);

  check(::chdir(root.c_str()), "entering " + root);
  check(static_cast<int>(::syscall(SYS_pivot_root, ".", ".")), "pivot_root into " + root);
  check(::umount2(".", MNT_DETACH), "detaching the old root");
  check(::chdir("/"), "chdir /");

  check(::sethostname(spec.hostname.data(), spec.hostname.size()), "setting the hostname");
  if (spec.userns) become_contained_root(netns_fd);
  ::close(netns_fd);
  // A contained node keeps CAP_SYS_ADMIN of its own user namespace (routing
  // daemons such as FRR's zebra ask for it): that namespace owns nothing but
  // the node's network, and a mount namespace it made would keep every mount
  // of the node's locked.
  if (int rc = restrict_bounding_set(spec.sys_admin || spec.userns.has_value()); rc < 0) {
    errno = -rc;
    fail("restricting the capability bounding set");
  }
  set_env(spec);
  block_signals(program);  // handled through a signalfd from here on

  ReadyMessage ready;
  program.spec = spec;
  ready.exec_failures = run_exec_commands(program);
  start_cmd(program);  // before READY: deploy returns with it running
  (void)!::write(ready_fd, &ready, sizeof ready);
  ::close(ready_fd);
  g_ready_fd = -1;
  supervise(program);
}

}  // namespace

void run_init(int release_fd, int ready_fd, int netns_fd, const char* node) {
  g_ready_fd = ready_fd;
  // Only our three descriptors (and stdio) stay: anything the zygote or netlab
  // held is not the node's.
  {
    int keep[] = {release_fd, ready_fd, netns_fd};
    std::sort(std::begin(keep), std::end(keep));
    unsigned next = 3;
    for (int fd : keep) {
      if (fd < static_cast<int>(next)) continue;
      if (static_cast<unsigned>(fd) > next) check(::close_range(next, static_cast<unsigned>(fd) - 1, 0), "closing what is not the node's");
      next = static_cast<unsigned>(fd) + 1;
    }
    check(::close_range(next, ~0U, 0), "closing what is not the node's");
  }
  // A session of its own, without a controlling terminal (the zygote's has none either).
  check(::setsid(), "starting its own session");
  // The zygote blocks every signal; the init sets its own mask.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  uint32_t size = 0;
  std::string message;
  if (!read_all(release_fd, &size, sizeof size)) ::_exit(125);  // netlab is gone
  message.resize(size);
  if (!read_all(release_fd, message.data(), size)) ::_exit(125);
  NodeSpec spec;
  try {
    spec = decode_spec(message);
  } catch (const std::exception&) {
    errno = EINVAL;
    fail(std::string("reading its spec from netlab (") + node + ")");
  }
  message = std::string();
  node_child(spec, release_fd, ready_fd, netns_fd);
}

int init_main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--zygote") == 0) return zygote_main(std::atoi(argv[2]));
  std::fprintf(stderr, "netlab-init is started by netlab deploy, not by hand\n");
  return 2;
}

}  // namespace netlab::node::detail
