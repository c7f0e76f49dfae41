#include "node/userns.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "util/error.hpp"
#include "util/strings.hpp"

namespace netlab::node {

std::optional<std::pair<uint32_t, uint32_t>> find_subordinate_range(const std::string& text,
                                                                     std::initializer_list<const char*> names) {
  for (const char* wanted : names) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      auto parts = split(trim(line), ':');
      if (parts.size() != 3 || parts[0] != wanted) continue;
      try {
        unsigned long start = std::stoul(parts[1]), count = std::stoul(parts[2]);
        // Root inside needs uid 0 and the usual system ids; a tiny range is no use.
        if (count >= 65536 && start + count <= 0xffffffffUL) return std::pair{static_cast<uint32_t>(start), 65536u};
      } catch (const std::exception&) {
      }
    }
  }
  return std::nullopt;
}

IdRange userns_id_range(const std::string& subuid_path, const std::string& subgid_path) {
  auto read = [](const std::string& path) -> std::string {
    try {
      return read_file(path);
    } catch (const Error&) {
      return "";
    }
  };
  auto uid = find_subordinate_range(read(subuid_path), {"netlab", "root"});
  auto gid = find_subordinate_range(read(subgid_path), {"netlab", "root"});
  if (!uid || !gid) return kDefaultIdRange;
  return IdRange{uid->first, gid->first, std::min(uid->second, gid->second)};
}

void write_id_maps(pid_t pid, const IdRange& range) {
  std::string dir = fmt::format("/proc/{}/", pid);
  with_context(fmt::format("writing the uid map of pid {}", pid),
               [&] { write_file(dir + "uid_map", fmt::format("0 {} {}\n", range.host_uid, range.count)); });
  with_context(fmt::format("writing the gid map of pid {}", pid),
               [&] { write_file(dir + "gid_map", fmt::format("0 {} {}\n", range.host_gid, range.count)); });
}

namespace {

struct Hold {
  int wait_fd;
  pid_t parent;
};

// The child that makes a contained node's namespaces: it shares netlab's
// memory and descriptor table, so it may only make raw system calls. It waits
// until netlab has written its ID maps and opened its network namespace. It
// shares the pipe's write end too, so netlab's death is no end of file to it:
// it dies with the thread that made it instead.
int hold_namespaces(void* arg) {
  auto* h = static_cast<Hold*>(arg);
  ::syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (::syscall(SYS_getppid) != h->parent) return 0;  // already gone
  char byte;
  ::syscall(SYS_read, h->wait_fd, &byte, 1);
  return 0;
}

}  // namespace

Fd make_contained_netns(const IdRange& range) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) throw_errno("creating a pipe for a user namespace");
  Fd wait_r(p[0]), wait_w(p[1]);
  Hold hold{wait_r.get(), ::getpid()};
  alignas(64) thread_local char stack[16 * 1024];
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);  // no netlab handler may run in the child
  pid_t pid = ::clone(hold_namespaces, stack + sizeof stack, CLONE_VM | CLONE_FILES | CLONE_NEWUSER | CLONE_NEWNET | SIGCHLD,
                      &hold);
  int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) throw Error(clone_errno, "creating a user and a network namespace (clone)");
  auto let_go = [&] {
    wait_w.reset();  // end of file: the child exits
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  };
  Fd netns;
  try {
    write_id_maps(pid, range);
    std::string path = fmt::format("/proc/{}/ns/net", pid);
    netns = Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns) throw_errno("opening {}", path);
  } catch (...) {
    let_go();
    throw;
  }
  let_go();
  return netns;
}

}  // namespace netlab::node
