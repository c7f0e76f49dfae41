#include "support/throughput.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>
#include <vector>

namespace netlab::testing {

namespace {

using Clock = std::chrono::steady_clock;

bool enter(const std::string& netns) {
  int fd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::setns(fd, CLONE_NEWNET) == 0;
  ::close(fd);
  return ok;
}

bool wait_for(int fd, short events, Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  pollfd p{fd, events, 0};
  return left > 0 && ::poll(&p, 1, static_cast<int>(left)) == 1;
}

}  // namespace

std::optional<Transfer> tcp_transfer(const std::string& from, const std::string& to, const std::string& to_addr,
                                     int port, size_t bytes, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::promise<bool> listening;
  auto ready = listening.get_future();
  std::promise<std::optional<Transfer>> received;
  auto result = received.get_future();

  std::thread receiver([&] {
    int s = -1;
    if (enter(to)) s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (s >= 0) ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    bool ok = s >= 0 && ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(s, 1) == 0;
    listening.set_value(ok);
    std::optional<Transfer> t;
    if (ok && wait_for(s, POLLIN, deadline)) {
      int c = ::accept4(s, nullptr, nullptr, SOCK_CLOEXEC);
      std::vector<char> buf(1 << 16);
      size_t got = 0;
      Clock::time_point first{}, last{};
      while (c >= 0 && wait_for(c, POLLIN, deadline)) {
        ssize_t n = ::read(c, buf.data(), buf.size());
        if (n <= 0) break;
        if (got == 0) first = Clock::now();
        got += static_cast<size_t>(n);
        last = Clock::now();
      }
      if (got == bytes) t = Transfer{got, std::chrono::duration<double>(last - first).count()};
      if (c >= 0) ::close(c);
    }
    if (s >= 0) ::close(s);
    received.set_value(t);
  });
  if (!ready.get()) {
    receiver.join();
    return std::nullopt;
  }
  std::thread sender([&] {
    if (!enter(from)) return;
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, to_addr.c_str(), &addr.sin_addr);
    if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      std::vector<char> buf(1 << 16, 'x');
      size_t sent = 0;
      while (sent < bytes && wait_for(s, POLLOUT, deadline)) {
        ssize_t n = ::write(s, buf.data(), std::min(buf.size(), bytes - sent));
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
      }
    }
    ::close(s);
  });
  sender.join();
  receiver.join();
  return result.get();
}

}  // namespace netlab::testing
