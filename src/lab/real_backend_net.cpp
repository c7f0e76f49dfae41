// The network half of the real backend: namespaces, links, addresses, routes
// and netns pins, one rtnetlink socket per namespace, each phase's requests
// pipelined per namespace with acks mapped back to the plan's actions.
#include <net/if.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <set>
#include <spdlog/spdlog.h>

#include "util/log.hpp"
#include "lab/real_backend_impl.hpp"
#include "netlink/addr.hpp"
#include "netlink/dump.hpp"
#include "netlink/link.hpp"
#include "netlink/link_vxlan.hpp"
#include "netlink/qdisc.hpp"
#include "util/overloaded.hpp"
#include "util/parallel.hpp"
#include "util/strings.hpp"

namespace netlab::lab {

std::string RealBackend::ns_label(const std::string& ns) const {
  if (ns == kHostNs) return "host";
  if (ns == kFabricNs) return "netlab-" + lab_name_;
  return lab_name_ + "-" + ns;
}

namespace {

// Node namespaces kept open at once between steps (each step that needs more,
// such as a batch of veths, opens and closes its own).
constexpr size_t kCachedNetns = 16;
// Veths per request batch: each holds both ends' namespaces open.
constexpr size_t kVethsPerBatch = 128;

}  // namespace

nl::Netns RealBackend::open_node_netns(const std::string& node) {
  if (store_ && store_->has(node)) return store_->open(node);
  return nl::Netns::open(node_pin(facts_, lab_name_, node));
}

nl::Netns& RealBackend::netns(const std::string& ns) {
  if (ns == kHostNs) return host_;
  if (ns == kFabricNs) {
    if (!fabric_.valid()) fabric_ = nl::Netns::open(fabric_pin(facts_, lab_name_));
    return fabric_;
  }
  auto it = node_ns_.find(ns);
  if (it == node_ns_.end()) {
    if (node_ns_.size() >= kCachedNetns) node_ns_.clear();
    it = node_ns_.emplace(ns, open_node_netns(ns)).first;
  }
  return it->second;
}

nl::RtnlSocket& RealBackend::socket(const std::string& ns) {
  auto it = sockets_.find(ns);
  if (it != sockets_.end()) return it->second;
  auto sock = ns == kHostNs ? nl::RtnlSocket::open(ns_label(ns)) : nl::RtnlSocket::open_in(netns(ns), ns_label(ns));
  return sockets_.emplace(ns, std::move(sock)).first->second;
}

uint32_t RealBackend::host_ifindex(const std::string& name) {
  unsigned idx = if_nametoindex(name.c_str());
  if (idx == 0) throw_errno("looking up host interface {}", name);
  return idx;
}

void RealBackend::check_host_limits(size_t nodes, size_t contained) const {
  // Cheap estimates before anything is built: a limit met halfway through a
  // large deploy costs a long rollback and says less.
  auto limit = [](const char* key) -> long {
    try {
      return std::stol(read_file(sysctl_path(key)));
    } catch (const std::exception&) {
      return -1;
    }
  };
  auto refuse = [&](int errnum, const char* key, long value, size_t need, const char* what) {
    throw Error(errnum, "a lab of {} nodes needs {} {}; {} is {} on this host (raise it, e.g. sysctl -w {}={})", nodes,
                need, what, key, value, key, need * 2);
  };
  if (long v = limit("user.max_net_namespaces"); v >= 0 && static_cast<size_t>(v) < nodes + 1)
    refuse(ENOSPC, "user.max_net_namespaces", v, nodes + 1, "network namespaces");
  if (long v = limit("user.max_user_namespaces"); v >= 0 && static_cast<size_t>(v) < contained)
    refuse(ENOSPC, "user.max_user_namespaces", v, contained, "user namespaces (one per contained node)");
  if (long v = limit("kernel.pid_max"); v >= 0 && static_cast<size_t>(v) < nodes + 1000)
    refuse(EAGAIN, "kernel.pid_max", v, nodes + 1000, "process ids (a node is at least one process)");
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 64)
    throw Error(EMFILE, "the open-files limit (RLIMIT_NOFILE) is {}; netlab needs at least 64 whatever the lab's size "
                        "(raise it with ulimit -n 1024)", rl.rlim_cur);
}

void RealBackend::make_fabric() {
  fabric_ = nl::Netns::create([&] {
    // Lab addresses are unique by construction: no duplicate address detection.
    nl::write_sysctl("net.ipv6.conf.default.accept_dad", "0");
    sockets_.emplace(kFabricNs, nl::RtnlSocket::open(ns_label(kFabricNs)));
    // The fabric only switches frames: its bridges and their ports need
    // no IPv6 of their own. Without this, each port would autoconfigure,
    // solicit routers and report multicast groups, and each of those
    // completions walks the namespace's whole IPv6 routing table: O(N^2)
    // for a bridge with N ports.
    nl::write_sysctl("net.ipv6.conf.default.disable_ipv6", "1");
    // Bridged frames skip the host's iptables (when br_netfilter is
    // loaded, its switches are per namespace and default on): nodes
    // filter with their own nftables, and a flooded frame would
    // otherwise pass the hooks once per port.
    for (const char* key : {"net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables",
                            "net.bridge.bridge-nf-call-arptables"}) {
      if (::access(sysctl_path(key).c_str(), W_OK) == 0) nl::write_sysctl(key, "0");
    }
  });
}

void RealBackend::run_namespaces(std::span<Action> batch) {
  // Lab addresses are unique by construction: no duplicate address detection,
  // so IPv6 (link-local included, which neighbour discovery needs when a node
  // forwards) works the moment deploy returns. Everything a namespace needs
  // from the inside (that sysctl, its socket) is done while the thread is still
  // in it after creating or entering it: one round trip per namespace.
  auto set_up_inside = [&](bool ipv6) {
    // A node without IPv6 has it off before its first interface exists: on a
    // shared bridge every node's router solicitations and multicast reports
    // reach every other node (O(N^2) packets for N nodes).
    nl::write_sysctl(ipv6 ? "net.ipv6.conf.default.accept_dad" : "net.ipv6.conf.default.disable_ipv6", ipv6 ? "0" : "1");
  };
  // Node namespaces are made by two threads: the kernel sets a new namespace
  // up under a shared lock (pernet_ops_rwsem is taken for reading), and one
  // thread left a core idle for the whole phase. A contained node's network
  // namespace belongs to a user namespace of its own (its root governs that
  // network and nothing else). Each goes to the store at once.
  std::vector<size_t> nodes;
  for (size_t i = 0; i < batch.size(); ++i) {
    try {
      if (auto* f = std::get_if<CreateFabric>(&batch[i])) {
        // Made by prepare(), which journaled its inode; pinned now.
        if (!fabric_.valid()) make_fabric();
        nl::pin(fabric_, f->pin);
      } else if (std::holds_alternative<CreateNodeNetns>(batch[i])) {
        nodes.push_back(i);
      }
    } catch (Error& e) {
      throw ActionError(i, std::move(e.wrap("creating " + describe(batch[i]))));
    }
  }
  if (nodes.empty()) return;
  if (!store_) store_ = std::make_unique<nl::NetnsStore>();
  std::vector<std::optional<Error>> errors(nodes.size());
  const node::IdRange* range = nullptr;
  for (size_t k : nodes)
    if (!lab_->nodes[lab_->find_node(std::get<CreateNodeNetns>(batch[k]).node)].privileged) range = &userns_range();
  parallel_for(nodes.size(), 2, [&](size_t k) {
    const auto& n = std::get<CreateNodeNetns>(batch[nodes[k]]);
    try {
      const topo::Node& node = lab_->nodes[lab_->find_node(n.node)];
      bool ipv6 = node.ipv6_enabled();
      nl::Netns made;
      if (node.privileged) {
        made = nl::Netns::create([&] { set_up_inside(ipv6); });
      } else {
        made = nl::Netns(node::make_contained_netns(*range));
        nl::NetnsSwitch inside(made);
        set_up_inside(ipv6);
      }
      store_->put(n.node, made);
    } catch (Error& e) {
      errors[k] = std::move(e);
    }
  });
  for (size_t k = 0; k < nodes.size(); ++k) {
    if (errors[k]) throw ActionError(nodes[k], std::move(errors[k]->wrap("creating " + describe(batch[nodes[k]]))));
    // A node recreated by apply: forget the namespace it had (and its socket).
    const auto& node = std::get<CreateNodeNetns>(batch[nodes[k]]).node;
    node_ns_.erase(node);
    if (auto old = sockets_.find(node); old != sockets_.end()) {
      closed_socket_requests_ += old->second.requests_sent();
      sockets_.erase(old);
    }
  }
}

void RealBackend::run_links(std::span<Action> batch) {
  // In batches: a veth request names both ends' namespaces by descriptor, and
  // those stay open only until the batch's acks are in.
  std::vector<size_t> vxlans;  // multi-host: sent from the host's namespace afterwards
  for (size_t from = 0; from < batch.size();) {
    nl::Batch b;
    std::map<std::string, nl::Netns> open;
    auto fd_of = [&](const std::string& ns) {
      if (ns == kHostNs || ns == kFabricNs) return netns(ns).fd();
      auto it = open.find(ns);
      if (it == open.end()) it = open.emplace(ns, open_node_netns(ns)).first;
      return it->second.fd();
    };
    size_t to = from, veths = 0;
    std::vector<size_t> index;  // batch index of each request
    for (; to < batch.size() && veths < kVethsPerBatch; ++to) {
      auto& a = batch[to];
      index.push_back(to);
      try {
        std::visit(Overloaded{
                       [&](const CreateBridge& x) {
                         b.add(nl::encode(nl::BridgeSpec{x.name, x.ifindex, x.mtu, true}), "creating bridge " + x.name);
                       },
                       [&](const CreateVeth& x) {
                         nl::VethSpec v;
                         v.name = x.a_name;
                         v.ns_fd = fd_of(x.a_ns);
                         v.ifindex = x.a_ifindex;
                         v.mac = x.a_mac;
                         v.peer_name = x.b_name;
                         v.peer_ns_fd = fd_of(x.b_ns);
                         v.peer_ifindex = x.b_ifindex;
                         v.peer_mac = x.b_mac;
                         v.mtu = x.mtu;
                         b.add(nl::encode(v), "creating veth " + x.label);
                         ++veths;
                         if (x.b_up) {  // a second request, in the b end's namespace (the socket's)
                           if (x.b_ns != kFabricNs)
                             throw Error(EINVAL, "{}: only an end in the lab's namespace is brought up at creation", x.label);
                           b.add(nl::encode(nl::LinkSetSpec{x.b_name, x.b_ifindex, true, 0, 0, ""}),
                                 "bringing up " + x.b_name);
                           index.push_back(to);
                         }
                       },
                       [&](const CreateVxlan&) { vxlans.push_back(to); index.pop_back(); },
                       [&](const auto&) { throw Error(EINVAL, "{} is not a link action", describe(a)); },
                   },
                   a);
      } catch (Error& e) {
        throw ActionError(to, std::move(e.wrap("creating " + describe(a))));
      }
    }
    auto acks = socket(kFabricNs).commit(b);
    throw_first(acks, kFabricNs, [&](size_t i) { return index[i]; });
    from = to;
  }
  if (!vxlans.empty()) run_vxlans(batch, vxlans);
}

void RealBackend::run_net_config(std::span<Action> batch) {
  // Group by namespace, keeping plan order inside each: one pipelined batch per
  // socket, encoded just before it is sent (a batch of encoded requests per
  // namespace held at once cost 80 MiB at 2000 nodes). Rollback undoes every
  // journaled action of the phase, so the order across namespaces is free.
  std::map<std::string, std::vector<size_t>> per_ns;
  std::vector<std::string> order;
  for (size_t i = 0; i < batch.size(); ++i) {
    auto [it, fresh] = per_ns.try_emplace(ns_of(batch[i]));
    if (fresh) order.push_back(it->first);
    it->second.push_back(i);
  }
  for (const auto& ns : order) {
    nl::Batch b;
    std::vector<size_t> index;  // batch index of each request (a qdisc action may send several)
    for (size_t i : per_ns[ns]) {
      index.push_back(i);
      try {
        std::visit(
            Overloaded{
                [&](const SetLink& x) {
                  b.add(nl::encode(nl::LinkSetSpec{x.name, x.ifindex, x.up, x.master_ifindex, 0, x.alias}),
                        "setting " + describe(batch[i]));
                },
                [&](const AddAddress& x) {
                  uint32_t ifindex = x.ifindex ? x.ifindex : host_ifindex(x.ifname);
                  b.add(nl::encode(nl::AddrSpec{ifindex, x.prefix}), "adding " + describe(batch[i]));
                },
                [&](const AddRoute& x) {
                  uint32_t oif = x.dev_ifindex;
                  if (!oif && !x.dev.empty() && ns == kHostNs) oif = host_ifindex(x.dev);
                  b.add(nl::encode(nl::RouteSpec{x.to, x.via, oif, x.metric}), "adding " + describe(batch[i]));
                },
                [&](const AddFdb& x) {
                  b.add(nl::encode(nl::FdbSpec{x.ifindex, "00:00:00:00:00:00", x.remote}),
                        "adding " + describe(batch[i]));
                },
                [&](const AddQdisc& x) {
                  auto msgs = nl::encode_impairment(x.ifindex, impairment_of(x));
                  if (msgs.empty()) index.pop_back();  // nothing to send, nothing to ack
                  for (size_t k = 0; k < msgs.size(); ++k) {
                    if (k) index.push_back(i);  // one ack per qdisc, all about this action
                    b.add(std::move(msgs[k]), "adding " + describe(batch[i]));
                  }
                },
                [&](const auto&) { throw Error(EINVAL, "{} is not a network action", describe(batch[i])); },
            },
            batch[i]);
      } catch (Error& e) {
        throw ActionError(i, std::move(e));
      }
    }
    auto acks = socket(ns).commit(b);
    if (ns != kHostNs && ns != kFabricNs) {  // a node's socket is closed once its batch is in
      closed_socket_requests_ += sockets_.at(ns).requests_sent();
      sockets_.erase(ns);
    }
    throw_first(acks, ns, [&](size_t k) { return index[k]; });
  }
}

void RealBackend::throw_first(const std::vector<nl::Ack>& acks, const std::string& ns,
                              const std::function<size_t(size_t)>& to_batch_index) {
  for (size_t k = 0; k < acks.size(); ++k) {
    if (acks[k].errnum == 0) continue;
    Error e(acks[k].errnum, fmt::format("{} in netns {}", acks[k].what, ns_label(ns)));
    if (!acks[k].extack.empty()) e.set_extack(acks[k].extack);
    throw ActionError(to_batch_index(k), std::move(e));
  }
}

void RealBackend::run_pins(std::span<Action> batch) {
  for (size_t i = 0; i < batch.size(); ++i) {
    auto& p = std::get<PinNodeNetns>(batch[i]);
    try {
      nl::pin(open_node_netns(p.node), p.pin);
    } catch (Error& e) {
      throw ActionError(i, std::move(e));
    }
  }
}

uint32_t RealBackend::free_host_ifindex() {
  // A random index in a range the kernel's own counter takes years to reach:
  // with the name, it tells this lab's host interface from one someone else
  // made under the same name before or after (which destroy then leaves).
  std::set<uint32_t> used;
  for (const auto& l : nl::dump_links(socket(kHostNs))) used.insert(l.ifindex);
  for (int attempt = 0; attempt < 64; ++attempt) {
    uint32_t candidate = 0;
    if (::getrandom(&candidate, sizeof candidate, 0) != sizeof candidate) break;
    candidate = 0x01000000u + candidate % 0x3f000000u;
    if (!used.count(candidate)) return candidate;
  }
  throw Error(EAGAIN, "choosing an ifindex for a host interface");
}

void RealBackend::delete_host_link(const DeleteLink& d) {
  auto& sock = socket(kHostNs);
  for (const auto& l : nl::dump_links(sock)) {
    if (l.name != d.name) continue;
    // Never delete a host interface that is not ours: the identity recorded in
    // the journal must match (its ifindex, and the alias once it was set; a
    // crash may come between creating it and setting the alias).
    bool same_index = d.ifindex == 0 || l.ifindex == d.ifindex;
    bool same_alias = l.alias == d.alias || (d.ifindex != 0 && l.alias.empty());
    if (!same_index || !same_alias) {
      log::info("host interface {} (ifindex {}, alias \"{}\") is not the one this lab made (ifindex {}, \"{}\"); "
                   "left in place",
                   d.name, l.ifindex, l.alias, d.ifindex, d.alias);
      return;
    }
    auto acks = [&] {
      nl::Batch b;
      b.add(nl::encode(nl::LinkDeleteSpec{d.name, l.ifindex}), "deleting host interface " + d.name);
      return sock.commit(b);
    }();
    if (acks[0].errnum && acks[0].errnum != ENODEV && acks[0].errnum != ENOENT)
      nl::throw_first_failure(acks, "host");
    return;
  }
}

}  // namespace netlab::lab
