// RtnlSocket: one rtnetlink socket bound to one network namespace (opened by a
// thread inside it; a socket stays in the namespace it was created in), with
// extended acks, capped acks and strict checking on, and a large receive
// buffer. Requests go out pipelined: a window of messages in one send(), then
// their acks, each mapped back by sequence number to the object it was about.
//
// Log levels: debug for each batch, trace for each message (type, flags, seq).
#pragma once

#include <netlink/msg.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "netlink/netns.hpp"

struct nl_sock;

namespace netlab::nl {

struct NlMsgDeleter {
  void operator()(nl_msg* m) const { nlmsg_free(m); }
};
using NlMsg = std::unique_ptr<nl_msg, NlMsgDeleter>;

/// The outcome of one request.
struct Ack {
  int errnum = 0;      // 0 = success; otherwise the kernel's errno
  std::string extack;  // NLMSGERR_ATTR_MSG, if the kernel gave one
  std::string what;    // the object, for messages: "creating veth h1:eth0 <-> lan"
};

/// Requests to send together on one socket, in order.
class Batch {
 public:
  void add(NlMsg msg, std::string what);
  size_t size() const { return msgs_.size(); }
  bool empty() const { return msgs_.empty(); }

 private:
  friend class RtnlSocket;
  std::vector<NlMsg> msgs_;
  std::vector<std::string> what_;
};

class RtnlSocket {
 public:
  /// A socket in the calling thread's current network namespace.
  static RtnlSocket open(std::string ns_name);
  /// A socket inside `ns` (entered and left on the calling thread).
  static RtnlSocket open_in(const Netns& ns, std::string ns_name);

  RtnlSocket(RtnlSocket&&) noexcept;
  RtnlSocket& operator=(RtnlSocket&&) noexcept;
  ~RtnlSocket();

  /// Sends every request (pipelined, `window` in flight) and returns one Ack per
  /// request, in order. A failed request does not hide the acks of later ones.
  /// Throws Error only when the socket itself fails.
  std::vector<Ack> commit(Batch& batch, size_t window = 256);

  /// Like commit(), then throws the first failure as an Error:
  /// "<what> in netns <ns>: <strerror> (<ENAME>): <extack>".
  void commit_or_throw(Batch& batch);

  /// A single request, acked; throws on failure.
  void request(NlMsg msg, std::string what);

  /// Sends a dump request (NLM_F_DUMP) and calls `on_msg` for each reply message.
  void dump(NlMsg request, const std::function<void(nlmsghdr*)>& on_msg) {
    exchange(std::move(request), true, on_msg);
  }
  /// Sends one request (acked) and calls `on_msg` for each reply before the ack
  /// (RTM_GETROUTE for one destination). Throws the request's error.
  void query(NlMsg request, const std::function<void(nlmsghdr*)>& on_msg) {
    exchange(std::move(request), false, on_msg);
  }

  nl_sock* raw() const { return sock_; }
  const std::string& ns_name() const { return ns_name_; }
  uint64_t requests_sent() const { return requests_sent_; }

 private:
  RtnlSocket(nl_sock* sock, std::string ns_name) : sock_(sock), ns_name_(std::move(ns_name)) {}
  void exchange(NlMsg request, bool dump, const std::function<void(nlmsghdr*)>& on_msg);

  nl_sock* sock_ = nullptr;
  std::string ns_name_;
  uint32_t seq_ = 0;
  uint64_t requests_sent_ = 0;
};

/// Throws the first failed ack of `acks` as an Error (see commit_or_throw).
void throw_first_failure(const std::vector<Ack>& acks, const std::string& ns_name);

}  // namespace netlab::nl
