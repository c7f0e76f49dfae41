#include "support/listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace netlab::testing {

Listener::Listener(const std::string& netns, int port, int timeout_ms) : future_(result_.get_future()) {
  std::promise<bool> listening;
  auto ready = listening.get_future();
  thread_ = std::thread([this, netns, port, timeout_ms, &listening] {
    int ns = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || ::setns(ns, CLONE_NEWNET) < 0) {
      listening.set_value(false);
      result_.set_value(std::nullopt);
      return;
    }
    ::close(ns);
    int s = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);  // dual-stack: v4 peers appear mapped
    int one = 1, zero = 0;
    ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ::setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons(static_cast<uint16_t>(port));
    bool ok = ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(s, 4) == 0;
    listening.set_value(ok);
    std::optional<std::string> peer;
    pollfd p{s, POLLIN, 0};
    if (ok && ::poll(&p, 1, timeout_ms) == 1) {
      sockaddr_in6 from{};
      socklen_t len = sizeof from;
      int c = ::accept(s, reinterpret_cast<sockaddr*>(&from), &len);
      if (c >= 0) {
        char text[INET6_ADDRSTRLEN] = {};
        ::inet_ntop(AF_INET6, &from.sin6_addr, text, sizeof text);
        std::string t = text;
        if (t.rfind("::ffff:", 0) == 0) t = t.substr(7);
        peer = t;
        ::close(c);
      }
    }
    ::close(s);
    result_.set_value(peer);
  });
  if (!ready.get()) {
    thread_.join();
    throw std::runtime_error("listener in " + netns + " could not start");
  }
}

Listener::~Listener() {
  if (thread_.joinable()) thread_.join();
}

std::optional<std::string> Listener::peer() {
  auto p = future_.get();
  if (thread_.joinable()) thread_.join();
  return p;
}

}  // namespace netlab::testing
