// One nftables transaction per call: a libmnl batch (begin, messages, end) on a
// NETLINK_NETFILTER socket opened inside the target namespace. The kernel
// processes the whole batch inside sendmsg(), so every reply is queued when it
// returns; they are drained without blocking and mapped back by sequence
// number to the object each message was about.
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <fmt/format.h>
#include <map>
#include "util/log.hpp"

#include "nft/rules.hpp"
#include "util/error.hpp"

namespace netlab::nft {

namespace {

struct MnlSocket {
  explicit MnlSocket(const nl::Netns& ns, const std::string& ns_name) {
    nl::NetnsSwitch in(ns);
    sock = mnl_socket_open(NETLINK_NETFILTER);
    if (!sock) throw_errno("opening an nftables socket in netns {}", ns_name);
    if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
      int saved = errno;
      mnl_socket_close(sock);
      throw Error(saved, "binding an nftables socket in netns {}", ns_name);
    }
    int one = 1;
    mnl_socket_setsockopt(sock, NETLINK_EXT_ACK, &one, sizeof one);
  }
  ~MnlSocket() { mnl_socket_close(sock); }
  mnl_socket* sock;
};

struct Batch {
  std::vector<char> buf = std::vector<char>(4 << 20);
  mnl_nlmsg_batch* batch = mnl_nlmsg_batch_start(buf.data(), buf.size());
  uint32_t seq = 1;
  std::map<uint32_t, std::string> what;  // seq → object, for messages that want an ack
  ~Batch() { mnl_nlmsg_batch_stop(batch); }
  char* cur() { return static_cast<char*>(mnl_nlmsg_batch_current(batch)); }
  void next() {
    if (!mnl_nlmsg_batch_next(batch)) throw Error(ENOBUFS, "nftables batch is too large");
  }
  nlmsghdr* msg(uint16_t type, uint16_t flags, std::string description) {
    uint32_t s = seq++;
    what[s] = std::move(description);
    return nftnl_nlmsg_build_hdr(cur(), type, NFPROTO_INET, flags | NLM_F_ACK, s);
  }
};

// Sends the batch and returns the first error (errno, object), or {0, ""}.
std::pair<int, std::string> send(MnlSocket& s, Batch& b, const std::string& ns_name, std::string* extack) {
  if (mnl_socket_sendto(s.sock, mnl_nlmsg_batch_head(b.batch), mnl_nlmsg_batch_size(b.batch)) < 0)
    throw_errno("sending an nftables batch in netns {}", ns_name);
  std::vector<char> rx(MNL_SOCKET_BUFFER_SIZE * 4);
  std::pair<int, std::string> first{0, ""};
  while (true) {
    ssize_t n = ::recv(mnl_socket_get_fd(s.sock), rx.data(), rx.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      throw_errno("receiving nftables acks in netns {}", ns_name);
    }
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(rx.data()); mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      auto* err = static_cast<nlmsgerr*>(mnl_nlmsg_get_payload(h));
      if (err->error == 0 || first.first != 0) continue;
      first = {-err->error, b.what.count(h->nlmsg_seq) ? b.what[h->nlmsg_seq] : "nftables batch"};
      // The kernel's extended ack, when it attached one.
      if (extack && (h->nlmsg_flags & NLM_F_ACK_TLVS)) {
        size_t off = sizeof(nlmsgerr) + ((h->nlmsg_flags & NLM_F_CAPPED) ? 0 : err->msg.nlmsg_len - sizeof(nlmsghdr));
        auto* attr = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(err) + off);
        int left = static_cast<int>(h->nlmsg_len - sizeof(nlmsghdr) - off);
        while (mnl_attr_ok(attr, left)) {
          if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG) *extack = mnl_attr_get_str(attr);
          attr = mnl_attr_next(attr);
          left -= static_cast<int>(MNL_ALIGN(attr->nla_len));
        }
      }
    }
  }
  return first;
}

void begin(Batch& b) {
  nftnl_batch_begin(b.cur(), b.seq++);
  b.next();
}
void end(Batch& b) {
  nftnl_batch_end(b.cur(), b.seq++);
  b.next();
}

void check(int errnum, const std::string& what, const std::string& extack, const std::string& table,
           const std::string& ns_name) {
  if (errnum == 0) return;
  Error e = what == "table" ? Error(errnum, fmt::format("replacing table inet {} in netns {}", table, ns_name))
                            : Error(errnum, fmt::format("adding {} to table inet {} in netns {}", what, table, ns_name));
  if (!extack.empty()) e.set_extack(extack);
  throw e;
}

template <typename Parse>
void dump(const nl::Netns& ns, const std::string& ns_name, uint16_t type, const std::function<void(nlmsghdr*)>& payload,
          Parse on_msg) {
  MnlSocket s(ns, ns_name);
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 4);
  uint32_t seq = 1;
  nlmsghdr* h = nftnl_nlmsg_build_hdr(buf.data(), type, NFPROTO_INET, NLM_F_DUMP, seq);
  if (payload) payload(h);
  if (mnl_socket_sendto(s.sock, h, h->nlmsg_len) < 0) throw_errno("nftables dump in netns {}", ns_name);
  unsigned portid = mnl_socket_get_portid(s.sock);
  while (true) {
    ssize_t n = mnl_socket_recvfrom(s.sock, buf.data(), buf.size());
    if (n < 0) throw_errno("nftables dump in netns {}", ns_name);
    int rc = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid,
                        [](const nlmsghdr* m, void* data) {
                          (*static_cast<Parse*>(data))(m);
                          return MNL_CB_OK;
                        },
                        &on_msg);
    if (rc < 0) throw_errno("nftables dump in netns {}", ns_name);
    if (rc == MNL_CB_STOP) return;
  }
}

}  // namespace

std::string TableSpec::str() const { return "table inet " + name; }

namespace detail {
std::vector<std::string> describe_batch(const TableSpec& spec) {
  Objects o = build(spec);
  std::vector<std::string> out = {"table " + spec.name + " (create)", "table " + spec.name + " (delete)",
                                  "table " + spec.name};
  for (auto& [c, what] : o.chains) out.push_back(what);
  for (auto& [r, what] : o.rules) out.push_back(what);
  return out;
}
}  // namespace detail

void apply_table(const nl::Netns& ns, const std::string& ns_name, const TableSpec& spec) {
  detail::Objects o = detail::build(spec);
  Batch b;
  begin(b);
  // Create-if-missing, delete, create: replacing a table is one transaction.
  for (auto [type, flags] : {std::pair{NFT_MSG_NEWTABLE, NLM_F_CREATE}, {NFT_MSG_DELTABLE, 0},
                             {NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL}}) {
    nlmsghdr* h = b.msg(static_cast<uint16_t>(type), static_cast<uint16_t>(flags), "table");
    nftnl_table_nlmsg_build_payload(h, o.table.get());
    b.next();
  }
  for (auto& [c, what] : o.chains) {
    nftnl_chain_nlmsg_build_payload(b.msg(NFT_MSG_NEWCHAIN, NLM_F_CREATE, what), c.get());
    b.next();
  }
  for (auto& [r, what] : o.rules) {
    nftnl_rule_nlmsg_build_payload(b.msg(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, what), r.get());
    b.next();
  }
  end(b);
  MnlSocket s(ns, ns_name);
  std::string extack;
  auto [errnum, what] = send(s, b, ns_name, &extack);
  check(errnum, what, extack, spec.name, ns_name);
  log::debug("nft {}: {} in one transaction ({} chains, {} rules)", ns_name, spec.str(), o.chains.size(),
                o.rules.size());
}

void delete_table(const nl::Netns& ns, const std::string& ns_name, const std::string& table) {
  auto t = detail::table_object(table);
  Batch b;
  begin(b);
  nftnl_table_nlmsg_build_payload(b.msg(NFT_MSG_DELTABLE, 0, "table"), t.get());
  b.next();
  end(b);
  MnlSocket s(ns, ns_name);
  std::string extack;
  auto [errnum, what] = send(s, b, ns_name, &extack);
  if (errnum == ENOENT) return;
  if (errnum) {
    Error e(errnum, fmt::format("deleting table inet {} in netns {}", table, ns_name));
    if (!extack.empty()) e.set_extack(extack);
    throw e;
  }
}

std::vector<std::string> list_tables(const nl::Netns& ns, const std::string& ns_name) {
  std::vector<std::string> out;
  dump(ns, ns_name, NFT_MSG_GETTABLE, nullptr, [&](const nlmsghdr* m) {
    detail::TablePtr t(nftnl_table_alloc());
    if (nftnl_table_nlmsg_parse(m, t.get()) == 0) out.push_back(nftnl_table_get_str(t.get(), NFTNL_TABLE_NAME));
  });
  return out;
}

std::vector<ChainInfo> list_table(const nl::Netns& ns, const std::string& ns_name, const std::string& table) {
  std::vector<ChainInfo> chains;
  auto tables = list_tables(ns, ns_name);
  if (std::find(tables.begin(), tables.end(), table) == tables.end())
    throw Error(ENOENT, "table inet {} in netns {}", table, ns_name);
  static const char* hooks[] = {"prerouting", "input", "forward", "output", "postrouting"};
  dump(ns, ns_name, NFT_MSG_GETCHAIN, nullptr, [&](const nlmsghdr* m) {
    detail::ChainPtr c(nftnl_chain_alloc());
    if (nftnl_chain_nlmsg_parse(m, c.get()) < 0) return;
    if (table != nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE)) return;
    ChainInfo info;
    info.name = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME);
    if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_HOOKNUM)) {
      uint32_t hook = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM);
      info.hook = hook < 5 ? hooks[hook] : std::to_string(hook);
      info.priority = nftnl_chain_get_s32(c.get(), NFTNL_CHAIN_PRIO);
      info.policy = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_POLICY) == NF_DROP ? "drop" : "accept";
      info.type = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TYPE);
    }
    chains.push_back(std::move(info));
  });
  dump(ns, ns_name, NFT_MSG_GETRULE, nullptr, [&](const nlmsghdr* m) {
    detail::RulePtr r(nftnl_rule_alloc());
    if (nftnl_rule_nlmsg_parse(m, r.get()) < 0) return;
    if (table != nftnl_rule_get_str(r.get(), NFTNL_RULE_TABLE)) return;
    std::string chain = nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN);
    char text[4096];
    nftnl_rule_snprintf(text, sizeof text, r.get(), NFTNL_OUTPUT_DEFAULT, 0);
    for (auto& c : chains)
      if (c.name == chain) c.rules.push_back(text);
  });
  return chains;
}

}  // namespace netlab::nft
