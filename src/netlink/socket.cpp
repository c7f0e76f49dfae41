#include "netlink/socket.hpp"

#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <cerrno>
#include <functional>
#include "util/log.hpp"

#include "util/error.hpp"

namespace netlab::nl {

namespace {

constexpr int kRcvBuf = 8 << 20;  // acks of a 1000-request window fit with room to spare

void set_opt(int fd, int opt, const char* name) {
  int one = 1;
  if (::setsockopt(fd, SOL_NETLINK, opt, &one, sizeof one) < 0)
    log::debug("netlink: cannot set {}: {}", name, describe_errno(errno));
}

// Parses an NLMSG_ERROR into errnum and extack.
void parse_error(nlmsghdr* h, int& errnum, std::string& extack) {
  auto* err = static_cast<nlmsgerr*>(nlmsg_data(h));
  errnum = -err->error;
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return;
  // With NETLINK_CAP_ACK the echoed request is only its header.
  size_t offset = sizeof(nlmsgerr);
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - NLMSG_HDRLEN;
  int len = static_cast<int>(h->nlmsg_len) - NLMSG_HDRLEN - static_cast<int>(offset);
  if (len <= 0) return;
  auto* attrs = reinterpret_cast<nlattr*>(static_cast<char*>(nlmsg_data(h)) + offset);
  nlattr* tb[NLMSGERR_ATTR_MAX + 1] = {};
  if (nla_parse(tb, NLMSGERR_ATTR_MAX, attrs, len, nullptr) < 0) return;
  if (tb[NLMSGERR_ATTR_MSG]) extack = nla_get_string(tb[NLMSGERR_ATTR_MSG]);
}

}  // namespace

void Batch::add(NlMsg msg, std::string what) {
  msgs_.push_back(std::move(msg));
  what_.push_back(std::move(what));
}

RtnlSocket RtnlSocket::open(std::string ns_name) {
  nl_sock* sk = nl_socket_alloc();
  if (!sk) throw Error(ENOMEM, "allocating a netlink socket for netns {}", ns_name);
  if (int rc = nl_connect(sk, NETLINK_ROUTE); rc < 0) {
    nl_socket_free(sk);
    // nl_connect reports libnl codes; the socket() errno is the useful part.
    throw Error(errno ? errno : EPROTO, "opening an rtnetlink socket in netns {}", ns_name);
  }
  nl_socket_disable_seq_check(sk);
  nl_socket_set_buffer_size(sk, kRcvBuf, kRcvBuf);
  int fd = nl_socket_get_fd(sk);
  set_opt(fd, NETLINK_EXT_ACK, "NETLINK_EXT_ACK");
  set_opt(fd, NETLINK_CAP_ACK, "NETLINK_CAP_ACK");
  set_opt(fd, NETLINK_GET_STRICT_CHK, "NETLINK_GET_STRICT_CHK");
  return RtnlSocket(sk, std::move(ns_name));
}

RtnlSocket RtnlSocket::open_in(const Netns& ns, std::string ns_name) {
  NetnsSwitch in(ns);
  return open(std::move(ns_name));
}

RtnlSocket::RtnlSocket(RtnlSocket&& o) noexcept
    : sock_(std::exchange(o.sock_, nullptr)), ns_name_(std::move(o.ns_name_)), seq_(o.seq_),
      requests_sent_(o.requests_sent_) {}

RtnlSocket& RtnlSocket::operator=(RtnlSocket&& o) noexcept {
  if (this != &o) {
    if (sock_) nl_socket_free(sock_);
    sock_ = std::exchange(o.sock_, nullptr);
    ns_name_ = std::move(o.ns_name_);
    seq_ = o.seq_;
    requests_sent_ = o.requests_sent_;
  }
  return *this;
}

RtnlSocket::~RtnlSocket() {
  if (sock_) nl_socket_free(sock_);
}

std::vector<Ack> RtnlSocket::commit(Batch& batch, size_t window) {
  std::vector<Ack> acks(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) acks[i].what = batch.what_[i];
  int fd = nl_socket_get_fd(sock_);
  std::vector<char> rx(64 * 1024);
  size_t next = 0;
  while (next < batch.size()) {
    size_t end = std::min(batch.size(), next + window);
    uint32_t first_seq = seq_ + 1;
    std::string tx;
    for (size_t i = next; i < end; ++i) {
      nlmsghdr* h = nlmsg_hdr(batch.msgs_[i].get());
      h->nlmsg_seq = ++seq_;
      h->nlmsg_pid = 0;
      h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
      log::trace("netlink {}: send type {} flags {:#x} seq {} len {}", ns_name_, h->nlmsg_type,
                 h->nlmsg_flags, h->nlmsg_seq, h->nlmsg_len);
      tx.append(reinterpret_cast<const char*>(h), NLMSG_ALIGN(h->nlmsg_len));
    }
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    ssize_t sent = ::sendto(fd, tx.data(), tx.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
    if (sent < 0) throw_errno("sending {} netlink requests in netns {}", end - next, ns_name_);
    requests_sent_ += end - next;
    size_t pending = end - next;
    while (pending > 0) {
      ssize_t n = ::recv(fd, rx.data(), rx.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno("receiving netlink acks in netns {}", ns_name_);
      }
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(rx.data()); nlmsg_ok(h, len); h = nlmsg_next(h, &len)) {
        if (h->nlmsg_type != NLMSG_ERROR) continue;
        if (h->nlmsg_seq < first_seq || h->nlmsg_seq > seq_) continue;  // stale
        Ack& a = acks[next + (h->nlmsg_seq - first_seq)];
        parse_error(h, a.errnum, a.extack);
        log::trace("netlink {}: ack seq {} errno {}", ns_name_, h->nlmsg_seq, a.errnum);
        --pending;
      }
    }
    next = end;
  }
  log::debug("netlink {}: {} requests", ns_name_, batch.size());
  return acks;
}

void throw_first_failure(const std::vector<Ack>& acks, const std::string& ns_name) {
  for (const auto& a : acks) {
    if (a.errnum == 0) continue;
    Error e(a.errnum, fmt::format("{} in netns {}", a.what, ns_name));
    if (!a.extack.empty()) e.set_extack(a.extack);
    throw e;
  }
}

void RtnlSocket::commit_or_throw(Batch& batch) { throw_first_failure(commit(batch), ns_name_); }

void RtnlSocket::request(NlMsg msg, std::string what) {
  Batch b;
  b.add(std::move(msg), std::move(what));
  commit_or_throw(b);
}

void RtnlSocket::exchange(NlMsg request, bool dump, const std::function<void(nlmsghdr*)>& on_msg) {
  int fd = nl_socket_get_fd(sock_);
  nlmsghdr* h = nlmsg_hdr(request.get());
  h->nlmsg_seq = ++seq_;
  h->nlmsg_flags |= NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, h, h->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
    throw_errno("sending a netlink request in netns {}", ns_name_);
  ++requests_sent_;
  std::vector<char> rx(256 * 1024);
  while (true) {
    ssize_t n = ::recv(fd, rx.data(), rx.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("receiving a netlink reply in netns {}", ns_name_);
    }
    int len = static_cast<int>(n);
    for (auto* m = reinterpret_cast<nlmsghdr*>(rx.data()); nlmsg_ok(m, len); m = nlmsg_next(m, &len)) {
      if (m->nlmsg_seq != seq_) continue;
      if (m->nlmsg_type == NLMSG_DONE) return;
      if (m->nlmsg_type == NLMSG_ERROR) {
        int errnum = 0;
        std::string extack;
        parse_error(m, errnum, extack);
        if (errnum == 0) return;
        Error e(errnum, fmt::format("netlink {} in netns {}", dump ? "dump" : "query", ns_name_));
        if (!extack.empty()) e.set_extack(extack);
        throw e;
      }
      on_msg(m);
    }
  }
}

}  // namespace netlab::nl
