#include "node/spawn.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <tuple>

#include "node/init.hpp"
#include "util/remove_tree.hpp"
#include "util/strings.hpp"

namespace netlab::node {

namespace {

// A descriptor number, reserved while the table is still small, where the
// parent puts what the zygote keeps (its socket) just before cloning it. The
// child then leaves the shared table with close_range(top + 1, ~0,
// CLOSE_RANGE_UNSHARE): the kernel copies only the few descriptors below, and
// nothing of the parent's is closed one by one. The child is a vfork child:
// when clone returns it has its own table, and the slot is emptied again.
struct SpawnSlots {
  Fd devnull;  // what the slot holds when no child needs it
  int release = -1;
  unsigned top = 0;  // highest reserved number
};

SpawnSlots& spawn_slots() {
  static SpawnSlots slots = [] {
    SpawnSlots s;
    s.devnull = Fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!s.devnull) throw_errno("opening /dev/null");
    s.release = ::fcntl(s.devnull.get(), F_DUPFD_CLOEXEC, 3);
    if (s.release < 0) throw_errno("reserving a descriptor for node starts");
    s.top = static_cast<unsigned>(std::max(s.devnull.get(), s.release));
    return s;
  }();
  return slots;
}

void fill_slot(int fd, int slot) {
  if (::dup3(fd, slot, O_CLOEXEC) < 0) throw_errno("placing descriptor {} for a node start", fd);
}

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
int pidfd_send_signal(int fd, int sig) { return static_cast<int>(::syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0)); }

}  // namespace

uint64_t process_start_time(pid_t pid) {
  std::string stat;
  try {
    stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  } catch (const Error&) {
    return 0;
  }
  // Field 2 (comm) may hold spaces and parentheses: count from the last ')'.
  auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i < 22 && in >> field; ++i) {
  }
  uint64_t start = 0;
  in >> start;
  return start;
}

bool process_running(pid_t pid, uint64_t start_time) {
  if (pid <= 0 || process_start_time(pid) != start_time) return false;
  std::string stat;
  try {
    stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  } catch (const Error&) {
    return false;
  }
  auto close = stat.rfind(')');
  char state = close != std::string::npos && close + 2 < stat.size() ? stat[close + 2] : 'X';
  return state != 'Z' && state != 'X';
}

void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

void prepare_node_dir(const std::string& node_dir, std::optional<IdRange> owner, bool host_image) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> dirs = {"upper", "upper/etc", "work", "root"};
  if (host_image) dirs.insert(dirs.end(), {"var", "var-work"});
  for (const auto& d : dirs) {
    fs::create_directories(node_dir + "/" + d, ec);
    if (ec) throw Error(ec.value(), "creating {}/{}", node_dir, d);
  }
  // A restarted node's earlier overlays were volatile (rootfs.cpp): overlayfs
  // refuses a work directory that still holds their marker. They were
  // unmounted cleanly (their init is gone), so the upper layers are intact.
  for (const char* work : {"/work/work/incompat", "/var-work/work/incompat"}) remove_tree(node_dir + work);
  // A (re)started node sees the lab's current /etc/hosts (the shared layer):
  // a copy in its upper layer (its own edit, or a lab deployed before the
  // layer existed) would hide it, as the per-node file was rewritten before.
  if (::unlink((node_dir + "/upper/etc/hosts").c_str()) < 0 && errno != ENOENT)
    throw_errno("removing {}/upper/etc/hosts", node_dir);
  write_file(node_dir + "/status", "", 0644);  // how `cmd` ended, written by the node's init
  if (!owner) return;
  write_file(node_dir + "/log", "", 0644);  // the node writes it as its own root
  dirs.insert(dirs.end(), {"log", "status"});
  for (const auto& p : dirs) {
    std::string path = node_dir + "/" + p;
    if (::lchown(path.c_str(), owner->host_uid, owner->host_gid) < 0) throw_errno("changing the owner of {}", path);
  }
}

void prepare_node_starts() { spawn_slots(); }

namespace {

bool executable(const std::string& path) { return !path.empty() && ::access(path.c_str(), X_OK) == 0; }

// $NETLAB_INIT, else beside the running program (the build tree, or bin/ with
// ../libexec/netlab/ when installed), else where the build put it.
std::string& init_override() {
  static std::string path;
  return path;
}

const std::string& init_program() {
  static std::string found;
  if (!init_override().empty()) {
    if (!executable(init_override()))
      throw Error(errno, "the node init program {} is not executable", init_override());
    return init_override();
  }
  if (!found.empty()) return found;
  std::vector<std::string> tried;
  if (const char* env = std::getenv("NETLAB_INIT"); env && *env) {
    if (!executable(env)) throw Error(errno, "NETLAB_INIT={} is not an executable node init", env);
    return found = env;
  }
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  for (const auto& candidate : {(self / detail::kInitProgram).string(),
                                (self / "../libexec/netlab" / detail::kInitProgram).lexically_normal().string(),
                                std::string(NETLAB_INIT_INSTALL_PATH), std::string(NETLAB_INIT_BUILD_PATH)}) {
    if (executable(candidate)) return found = candidate;
    tried.push_back(candidate);
  }
  throw Error(ENOENT, "the node init program {} is missing (looked at {}); set NETLAB_INIT to its path",
              detail::kInitProgram, join(tried, ", "));
}

// Everything the child needs between clone and exec, prepared by the parent:
// a vfork child shares netlab's memory and must not allocate.
struct ExecInit {
  const char* path = nullptr;
  std::array<std::string, 3> args;
  std::array<char*, 4> argv{};
  std::array<char*, 1> envp{};
  int keep = -1;  // the slot that stays open across the exec
  unsigned top = 0;
  int err = 0;  // set by a vfork child whose exec failed
};

// The child's last steps before the exec: leave the shared descriptor table
// (the kernel copies only the reserved low slots), let the zygote's socket
// survive the exec.
bool leave_table(ExecInit& e) {
  if (::syscall(SYS_close_range, e.top + 1, ~0U, CLOSE_RANGE_UNSHARE) < 0) return false;
  return ::fcntl(e.keep, F_SETFD, 0) == 0;
}

int exec_init(void* arg) {  // a vfork child, on its own stack
  auto& e = *static_cast<ExecInit*>(arg);
  if (leave_table(e)) ::execve(e.path, e.argv.data(), e.envp.data());
  e.err = errno;
  ::_exit(127);
}

void send_all(int fd, const void* data, size_t size) {
  auto* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::send(fd, p, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("sending");
    p += n;
    size -= static_cast<size_t>(n);
  }
}

// The stack of a vfork child: one suffices, as the parent stays suspended until
// its child has exec'd. The mutex keeps two threads from sharing it.
std::mutex g_vfork_mutex;
alignas(64) char g_vfork_stack[64 * 1024];

void send_request(int sock, const detail::ZygoteRequest& req, std::array<int, 3> fds) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof fds)] = {};
  iovec iov{const_cast<detail::ZygoteRequest*>(&req), sizeof req};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof fds);
  std::memcpy(CMSG_DATA(c), fds.data(), sizeof fds);
  ssize_t n;
  do n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw_errno("sending the request");
}

// The reply and the pidfd that comes with it (-1 if none).
std::pair<detail::ZygoteReply, int> receive_reply(int sock) {
  detail::ZygoteReply r;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{&r, sizeof r};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw_errno("reading the reply");
  int pidfd = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
      std::memcpy(&pidfd, CMSG_DATA(c), sizeof pidfd);
  if (n != static_cast<ssize_t>(sizeof r)) {
    if (pidfd >= 0) ::close(pidfd);
    throw Error(EPIPE, "it exited");
  }
  // The kernel drops a passed descriptor that does not fit (netlab at its
  // open-files limit): the child exists, but without the pidfd that names it.
  if (r.pid > 0 && pidfd < 0 && (msg.msg_flags & MSG_CTRUNC)) r.errnum = EMFILE;
  return {r, pidfd};
}

}  // namespace

Starter::Starter() = default;

Starter::~Starter() { stop_zygote(); }

void Starter::start_zygote() {
  const std::string& program = init_program();
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) throw_errno("creating the node starter's socket");
  Fd mine(sv[0]), theirs(sv[1]);
  SpawnSlots& slots = spawn_slots();
  // The slot is shared: it holds this zygote's socket from here until the
  // clone, under the lock that also guards the vfork stack.
  std::lock_guard lock(g_vfork_mutex);
  fill_slot(theirs.get(), slots.release);

  ExecInit e;
  e.path = program.c_str();
  e.args = {detail::kInitProgram, "--zygote", std::to_string(slots.release)};
  for (size_t i = 0; i < e.args.size(); ++i) e.argv[i] = e.args[i].data();
  e.keep = slots.release;
  e.top = slots.top;

  int pidfd = -1;
  pid_t pid;
  int clone_errno = 0;
  {
    // CLONE_VM | CLONE_VFORK: the child runs in netlab's memory until its exec
    // (nothing to copy), and we resume once it has exec'd or failed to.
    sigset_t all, old;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);  // no netlab handler may run in the child
    pid = ::clone(exec_init, g_vfork_stack + sizeof g_vfork_stack,
                  static_cast<int>(CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_PIDFD) | SIGCHLD, &e, &pidfd);
    clone_errno = errno;
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  fill_slot(slots.devnull.get(), slots.release);  // the child has its own table now
  if (pid < 0) throw Error(clone_errno, "starting the node starter {}", program);
  if (e.err) {
    siginfo_t info{};
    ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED);
    ::close(pidfd);
    throw Error(e.err, "executing {}", program);
  }
  pid_ = pid;
  pidfd_ = Fd(pidfd);
  sock_ = std::move(mine);
}

void Starter::stop_zygote() noexcept {
  if (!pidfd_) return;
  sock_.reset();  // the zygote reads end of file and exits
  siginfo_t info{};
  while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info, WEXITED) < 0 && errno == EINTR) {
  }
  pidfd_.reset();
  pid_ = 0;
}

Started Starter::clone(const NodeSpec& spec) {
  if (!sock_) start_zygote();
  int release[2], ready[2];
  // The release channel is a socket: a send to a node that died fails with
  // EPIPE instead of raising SIGPIPE in netlab (or in a test using the API).
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, release) < 0)
    throw_errno("node {}: creating its release channel", spec.name);
  if (::pipe2(ready, O_CLOEXEC) < 0) {
    ::close(release[0]);
    ::close(release[1]);
    throw_errno("node {}: creating its status pipe", spec.name);
  }
  Fd release_r(release[0]), release_w(release[1]), ready_r(ready[0]), ready_w(ready[1]);

  detail::ZygoteRequest req;
  std::snprintf(req.node, sizeof req.node, "%s", spec.name.c_str());
  detail::ZygoteReply reply;
  int pidfd = -1;
  try {
    send_request(sock_.get(), req, {release_r.get(), ready_w.get(), spec.netns_fd});
    std::tie(reply, pidfd) = receive_reply(sock_.get());
  } catch (Error& e) {
    pid_t zygote = pid_;
    stop_zygote();  // the next start begins a new one
    throw e.wrap(fmt::format("node {}: netlab's node starter ({}, pid {})", spec.name, init_program(), zygote));
  }
  if (reply.pid > 0 && pidfd < 0) {
    // Our child (CLONE_PARENT), never released: it reads end of file on its
    // release channel and exits; reap it (its pid stays ours until then).
    release_w.reset();
    int status = 0;
    while (::waitpid(reply.pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw Error(reply.errnum ? reply.errnum : EPROTO, "node {}: receiving the descriptor of its init (pid {})", spec.name,
                reply.pid);
  }
  if (reply.pid <= 0) {
    if (pidfd >= 0) ::close(pidfd);
    throw Error(reply.errnum ? reply.errnum : EPROTO, "node {}: clone into new namespaces", spec.name);
  }
  Started s;
  s.name = spec.name;
  s.pid = reply.pid;
  s.pidfd = Fd(pidfd);
  s.ready = std::move(ready_r);
  s.release = std::move(release_w);
  std::string message = encode_spec(spec);
  auto size = static_cast<uint32_t>(message.size());
  try {
    send_all(s.release.get(), &size, sizeof size);
    send_all(s.release.get(), message.data(), message.size());
  } catch (Error& e) {
    abandon_node(s);
    throw e.wrap(fmt::format("node {}: sending its spec", spec.name));
  }
  s.start_time = process_start_time(s.pid);
  return s;
}

Started Starter::start(const NodeSpec& spec, Cgroups& cgroups) {
  Started s = clone(spec);
  release_node(s, spec.cgroup, cgroups);
  return s;
}

Started clone_node(const NodeSpec& spec) {
  Starter one;
  return one.clone(spec);
}

void release_node(Started& s, const std::string& cgroup, Cgroups& cgroups) {
  try {
    if (!s.in_cgroup) cgroups.attach(cgroup, s.pid);
  } catch (Error& e) {
    abandon_node(s);  // never released: it ran nothing of its own
    throw e.wrap(fmt::format("node {}: joining cgroup {}", s.name, cgroup));
  }
  s.in_cgroup = true;
  char go = 1;
  if (::send(s.release.get(), &go, 1, MSG_NOSIGNAL) != 1) {
    if (errno == EPIPE) throw Error(EPIPE, "node {}: its init ({}) exited before it was released", s.name, init_program());
    throw_errno("node {}: releasing it", s.name);
  }
  s.release.reset();
}

Started start_node(const NodeSpec& spec, Cgroups& cgroups) {
  Starter one;
  return one.start(spec, cgroups);
}

void abandon_node(Started& s) {
  if (!s.pidfd) return;
  pidfd_send_signal(s.pidfd.get(), SIGKILL);
  siginfo_t info{};
  ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(s.pidfd.get()), &info, WEXITED);
  s.pidfd.reset();
  s.release.reset();
  s.ready.reset();
}

void wait_ready(const std::vector<Started*>& nodes, int timeout_ms) {
  std::vector<pollfd> fds;
  std::vector<size_t> index;
  for (size_t i = 0; i < nodes.size(); ++i) {
    fds.push_back({nodes[i]->ready.get(), POLLIN, 0});
    index.push_back(i);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  size_t remaining = fds.size();
  while (remaining > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      for (size_t k = 0; k < fds.size(); ++k)
        if (fds[k].fd >= 0)
          throw NodeError(index[k], Error(ETIMEDOUT, "node {}: not ready after {} ms (its exec commands may hang; see its log)",
                                          nodes[index[k]]->name, timeout_ms));
    }
    int rc = ::poll(fds.data(), fds.size(), static_cast<int>(left));
    if (rc < 0) {
      if (errno == EINTR) continue;
      throw_errno("waiting for nodes");
    }
    for (size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].fd < 0 || !fds[k].revents) continue;
      Started& s = *nodes[index[k]];
      detail::ReadyMessage m;
      ssize_t n = ::read(fds[k].fd, &m, sizeof m);
      fds[k].fd = -1;
      --remaining;
      if (n != static_cast<ssize_t>(sizeof m))
        throw NodeError(index[k], Error(ECHILD, "node {}: its init died during setup", s.name));
      if (m.status != 0) throw NodeError(index[k], Error(m.errnum, "node {}: {}", s.name, m.step));
      s.exec_failures = m.exec_failures;
      s.ready.reset();
    }
  }
}

namespace {

std::vector<std::optional<Error>> kill_chunk(std::span<const NodeProcess> nodes, int timeout_ms) {
  std::vector<std::optional<Error>> result(nodes.size());
  std::vector<Fd> fds(nodes.size());
  // Every node is signalled before any is waited for: their exits (PID
  // namespace, mounts, memory) are torn down by the kernel side by side.
  for (size_t i = 0; i < nodes.size(); ++i) {
    auto [pid, start_time] = nodes[i];
    if (pid <= 0) continue;
    Fd fd(pidfd_open(pid));
    if (!fd) {
      if (errno != ESRCH) result[i] = Error(errno, "opening pid {}", pid);
      continue;
    }
    // The pidfd pins the identity; the start time says it is still our node.
    uint64_t now = process_start_time(pid);
    if (now == 0 || (start_time && now != start_time)) continue;
    if (pidfd_send_signal(fd.get(), SIGKILL) < 0) {
      if (errno != ESRCH) result[i] = Error(errno, "killing node init pid {}", pid);
      continue;
    }
    fds[i] = std::move(fd);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::vector<pollfd> waiting;
  std::vector<size_t> index;
  for (size_t i = 0; i < fds.size(); ++i)
    if (fds[i]) {
      waiting.push_back({fds[i].get(), POLLIN, 0});
      index.push_back(i);
    }
  while (!waiting.empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    int rc = left > 0 ? ::poll(waiting.data(), waiting.size(), static_cast<int>(left)) : 0;
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) {
      for (size_t k : index) result[k] = Error(ETIMEDOUT, "node init pid {} did not exit after SIGKILL", nodes[k].pid);
      break;
    }
    size_t kept = 0;
    for (size_t k = 0; k < waiting.size(); ++k) {
      if (!waiting[k].revents) {
        waiting[kept] = waiting[k];
        index[kept++] = index[k];
        continue;
      }
      // When the node was started by this very process (the C++ API), it is
      // our child: reap it, or it stays a zombie. For anyone else's: ECHILD.
      siginfo_t info{};
      ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(waiting[k].fd), &info, WEXITED | WNOHANG);
    }
    waiting.resize(kept);
    index.resize(kept);
  }
  return result;
}

}  // namespace

std::vector<std::optional<Error>> kill_nodes(std::span<const NodeProcess> nodes, int timeout_ms) {
  // In chunks: each node's pidfd stays open from its signal until its exit,
  // and descriptors must not grow with the lab. A chunk's nodes still die side
  // by side.
  constexpr size_t kChunk = 512;
  std::vector<std::optional<Error>> result;
  result.reserve(nodes.size());
  for (size_t from = 0; from < nodes.size(); from += kChunk) {
    auto part = kill_chunk(nodes.subspan(from, std::min(kChunk, nodes.size() - from)), timeout_ms);
    for (auto& r : part) result.push_back(std::move(r));
  }
  return result;
}

void kill_node(pid_t pid, uint64_t start_time, int timeout_ms) {
  NodeProcess one{pid, start_time};
  if (auto& e = kill_nodes({&one, 1}, timeout_ms).front()) throw *e;
}

void set_init_program(const std::string& path) { init_override() = path; }

}  // namespace netlab::node
