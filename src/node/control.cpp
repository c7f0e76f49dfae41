#include "node/control.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sched.h>
#include <sys/syscall.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <thread>

#include "node/init.hpp"
#include "node/spawn.hpp"
#include "util/error.hpp"
#include "util/fd.hpp"

namespace netlab::node {

int restart_program(const NodeSpec& spec, int timeout_ms) {
  // Through the directory's descriptor, as the init bound it: sun_path is short.
  Fd dir(::open(spec.node_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) throw_errno("node {}: opening {}", spec.name, spec.node_dir);
  Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) throw_errno("node {}: creating a socket", spec.name);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dir.get(), detail::kControlSocket);
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    int err = errno;
    if (err == ENOENT || err == ECONNREFUSED)
      throw Error(err, "node {}: its init takes no restart requests at {}/{} (not running, or started by an older "
                  "netlab: destroy and deploy the lab once)", spec.name, spec.node_dir, detail::kControlSocket);
    throw Error(err, "node {}: connecting to its init", spec.name);
  }
  std::string message = encode_spec(spec);
  auto size = static_cast<uint32_t>(message.size());
  message.insert(0, reinterpret_cast<const char*>(&size), sizeof size);
  for (size_t sent = 0; sent < message.size();) {
    ssize_t n = ::send(sock.get(), message.data() + sent, message.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("node {}: sending the restart request to its init", spec.name);
    sent += static_cast<size_t>(n);
  }
  detail::ReadyMessage reply;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto* p = reinterpret_cast<char*>(&reply);
  for (size_t got = 0; got < sizeof reply;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd f{sock.get(), POLLIN, 0};
    int rc = left.count() > 0 ? ::poll(&f, 1, static_cast<int>(left.count())) : 0;
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) throw_errno("node {}: waiting for its init", spec.name);
    if (rc == 0)
      throw Error(ETIMEDOUT, "node {}: its init did not finish restarting the program within {} ms", spec.name,
                  timeout_ms);
    ssize_t n = ::read(sock.get(), p + got, sizeof reply - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("node {}: reading its init's answer", spec.name);
    if (n == 0) throw Error(EPIPE, "node {}: its init closed the control connection without an answer", spec.name);
    got += static_cast<size_t>(n);
  }
  if (reply.status != 0) {
    reply.step[sizeof reply.step - 1] = 0;
    throw Error(reply.errnum, "node {}: restarting the program: {}", spec.name, reply.step);
  }
  return reply.exec_failures;
}

void in_node_namespaces(pid_t pid, uint64_t start_time, int nstypes, const std::function<void()>& fn) {
  // The pidfd names the process for good; the start time, read after it was
  // opened, says it is still the node's init and not a reuse of its pid.
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd || process_start_time(pid) != start_time)
    throw Error(ESRCH, "the node's init (pid {}) is not running", pid);
  std::exception_ptr failure;
  std::thread t([&] {
    try {
      if (::setns(pidfd.get(), nstypes) < 0) throw_errno("joining the namespaces of pid {}", pid);
      fn();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  t.join();
  if (failure) std::rethrow_exception(failure);
}

void set_node_hostname(pid_t pid, uint64_t start_time, const std::string& hostname) {
  in_node_namespaces(pid, start_time, CLONE_NEWUTS, [&] {
    if (::sethostname(hostname.data(), hostname.size()) < 0) throw_errno("setting the hostname {}", hostname);
  });
}

}  // namespace netlab::node
