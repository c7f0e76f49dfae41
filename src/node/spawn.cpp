#include "node/spawn.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "node/init.hpp"
#include "util/strings.hpp"

namespace netlab::node {

namespace {

pid_t clone3_node(int cgroup_fd, int* pidfd, bool userns) {
  clone_args args{};
  args.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_PIDFD;
  if (userns) args.flags |= CLONE_NEWUSER | CLONE_NEWNET;  // the net namespace then belongs to the new user namespace
  args.pidfd = reinterpret_cast<uint64_t>(pidfd);
  args.exit_signal = SIGCHLD;
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cgroup_fd);
  }
  return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
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

void prepare_node_dir(const std::string& node_dir, const std::string& hosts_file, std::optional<IdRange> owner) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const char* d : {"upper/etc", "work", "root"}) {
    fs::create_directories(node_dir + "/" + d, ec);
    if (ec) throw Error(ec.value(), "creating {}/{}", node_dir, d);
  }
  write_file(node_dir + "/upper/etc/hosts", hosts_file);
  if (!owner) return;
  write_file(node_dir + "/log", "", 0644);  // the node opens it as its own root
  for (const char* p : {"upper", "upper/etc", "upper/etc/hosts", "work", "root", "log"}) {
    std::string path = node_dir + "/" + p;
    if (::lchown(path.c_str(), owner->host_uid, owner->host_gid) < 0) throw_errno("changing the owner of {}", path);
  }
}

Started clone_node(const NodeSpec& spec, Cgroups* clone_into) {
  int release[2], ready[2];
  if (::pipe2(release, O_CLOEXEC) < 0) throw_errno("node {}: creating its release pipe", spec.name);
  if (::pipe2(ready, O_CLOEXEC) < 0) {
    ::close(release[0]);
    ::close(release[1]);
    throw_errno("node {}: creating its status pipe", spec.name);
  }
  Fd release_r(release[0]), release_w(release[1]), ready_r(ready[0]), ready_w(ready[1]);
  Fd cgroup_fd;
  if (clone_into) cgroup_fd = clone_into->open_for_clone(spec.cgroup);
  int pidfd = -1;
  pid_t pid = clone3_node(cgroup_fd.get(), &pidfd, spec.userns.has_value());
  if (pid < 0) throw_errno("node {}: clone3 into new namespaces", spec.name);
  if (pid == 0) {
    ::close(release_w.release());  // else the child would hold its own release pipe open
    ::close(ready_r.release());
    detail::node_child(spec, release_r.get(), ready_w.get());
  }
  Started s;
  s.name = spec.name;
  s.pid = pid;
  s.pidfd = Fd(pidfd);
  s.ready = std::move(ready_r);
  s.release = std::move(release_w);
  s.in_cgroup = clone_into && clone_into->mode() == CgroupMode::kV2;
  if (spec.userns) {
    try {
      write_id_maps(pid, *spec.userns);
    } catch (Error& e) {
      abandon_node(s);
      throw e.wrap(fmt::format("node {}: mapping its user namespace", spec.name));
    }
  }
  s.start_time = process_start_time(pid);
  return s;
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
  if (::write(s.release.get(), &go, 1) != 1) throw_errno("node {}: releasing it", s.name);
  s.release.reset();
}

Started start_node(const NodeSpec& spec, Cgroups& cgroups) {
  Started s = clone_node(spec, &cgroups);
  release_node(s, spec.cgroup, cgroups);
  return s;
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

std::vector<std::optional<Error>> kill_nodes(std::span<const NodeProcess> nodes, int timeout_ms) {
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

void kill_node(pid_t pid, uint64_t start_time, int timeout_ms) {
  NodeProcess one{pid, start_time};
  if (auto& e = kill_nodes({&one, 1}, timeout_ms).front()) throw *e;
}

}  // namespace netlab::node
