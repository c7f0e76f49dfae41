// The network half of the real backend: namespaces, links, addresses, routes
// and netns pins, one rtnetlink socket per namespace, each phase's requests
// pipelined per namespace with acks mapped back to the plan's actions.
#include <net/if.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <spdlog/spdlog.h>

#include "lab/real_backend_impl.hpp"
#include "netlink/addr.hpp"
#include "netlink/dump.hpp"
#include "netlink/link.hpp"
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

nl::Netns& RealBackend::netns(const std::string& ns) {
  if (ns == kHostNs) return host_;
  if (ns == kFabricNs) {
    if (!fabric_.valid()) fabric_ = nl::Netns::open(fabric_pin(facts_, lab_name_));
    return fabric_;
  }
  auto it = node_ns_.find(ns);
  if (it == node_ns_.end())
    it = node_ns_.emplace(ns, nl::Netns::open(node_pin(facts_, lab_name_, ns))).first;
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

void RealBackend::run_namespaces(std::span<Action> batch) {
  // Lab addresses are unique by construction: no duplicate address detection,
  // so IPv6 (link-local included, which neighbour discovery needs when a node
  // forwards) works the moment deploy returns. Everything a namespace needs
  // from the inside (that sysctl, its socket) is done while the thread is still
  // in it after creating or entering it: one round trip per namespace.
  auto set_up_inside = [&](const std::string& ns, bool ipv6 = true) {
    // A node without IPv6 has it off before its first interface exists: on a
    // shared bridge every node's router solicitations and multicast reports
    // reach every other node (O(N^2) packets for N nodes).
    nl::write_sysctl(ipv6 ? "net.ipv6.conf.default.accept_dad" : "net.ipv6.conf.default.disable_ipv6", ipv6 ? "0" : "1");
    return nl::RtnlSocket::open(ns_label(ns));
  };
  // Node namespaces are made by two threads: the kernel sets a new namespace
  // up under a shared lock (pernet_ops_rwsem is taken for reading), and one
  // thread left a core idle for the whole phase. A contained node's network
  // namespace belongs to a user namespace of its own (its root governs that
  // network and nothing else).
  std::vector<size_t> plain;
  for (size_t i = 0; i < batch.size(); ++i) {
    try {
      if (auto* f = std::get_if<CreateFabric>(&batch[i])) {
        fabric_ = nl::Netns::create([&] {
          sockets_.emplace(kFabricNs, set_up_inside(kFabricNs));
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
        nl::pin(fabric_, f->pin);
      } else if (auto* n = std::get_if<CreateNodeNetns>(&batch[i])) {
        (void)n;
        plain.push_back(i);
      }
    } catch (Error& e) {
      throw ActionError(i, std::move(e.wrap("creating " + describe(batch[i]))));
    }
  }

  struct Made {
    nl::Netns netns;
    std::optional<nl::RtnlSocket> socket;
    std::optional<Error> error;
  };
  std::vector<Made> made(plain.size());
  const node::IdRange* range = nullptr;
  for (size_t k : plain)
    if (!lab_->nodes[lab_->find_node(std::get<CreateNodeNetns>(batch[k]).node)].privileged) range = &userns_range();
  parallel_for(plain.size(), 2, [&](size_t k) {
    const auto& n = std::get<CreateNodeNetns>(batch[plain[k]]);
    try {
      const topo::Node& node = lab_->nodes[lab_->find_node(n.node)];
      bool ipv6 = node.ipv6_enabled();
      if (node.privileged) {
        made[k].netns = nl::Netns::create([&] { made[k].socket.emplace(set_up_inside(n.node, ipv6)); });
      } else {
        made[k].netns = nl::Netns(node::make_contained_netns(*range));
        nl::NetnsSwitch inside(made[k].netns);
        made[k].socket.emplace(set_up_inside(n.node, ipv6));
      }
    } catch (Error& e) {
      made[k].error = std::move(e);
    }
  });
  for (size_t k = 0; k < plain.size(); ++k) {
    auto& n = std::get<CreateNodeNetns>(batch[plain[k]]);
    if (made[k].error) throw ActionError(plain[k], std::move(made[k].error->wrap("creating " + describe(batch[plain[k]]))));
    node_ns_[n.node] = std::move(made[k].netns);
    // A node recreated by apply replaces the socket of its old namespace.
    if (auto old = sockets_.find(n.node); old != sockets_.end()) {
      closed_socket_requests_ += old->second.requests_sent();
      sockets_.erase(old);
    }
    sockets_.emplace(n.node, std::move(*made[k].socket));
  }
}

void RealBackend::run_links(std::span<Action> batch) {
  nl::Batch b;
  for (auto& a : batch) {
    std::visit(Overloaded{
                   [&](const CreateBridge& x) {
                     b.add(nl::encode(nl::BridgeSpec{x.name, x.ifindex, x.mtu, true}), "creating bridge " + x.name);
                   },
                   [&](const CreateVeth& x) {
                     nl::VethSpec v;
                     v.name = x.a_name;
                     v.ns_fd = netns(x.a_ns).fd();
                     v.ifindex = x.a_ifindex;
                     v.mac = x.a_mac;
                     v.peer_name = x.b_name;
                     v.peer_ns_fd = netns(x.b_ns).fd();
                     v.peer_ifindex = x.b_ifindex;
                     v.peer_mac = x.b_mac;
                     v.mtu = x.mtu;
                     b.add(nl::encode(v), "creating veth " + x.label);
                   },
                   [&](const auto&) { throw Error(EINVAL, "{} is not a link action", describe(a)); },
               },
               a);
  }
  auto acks = socket(kFabricNs).commit(b);
  throw_first(acks, kFabricNs, [](size_t i) { return i; });
}

void RealBackend::run_net_config(std::span<Action> batch) {
  // Group by namespace, keeping plan order inside each: one pipelined batch per socket.
  std::map<std::string, std::pair<nl::Batch, std::vector<size_t>>> per_ns;
  std::vector<std::string> order;
  for (size_t i = 0; i < batch.size(); ++i) {
    std::string ns = ns_of(batch[i]);
    auto [it, fresh] = per_ns.try_emplace(ns);
    if (fresh) order.push_back(ns);
    auto& [b, index] = it->second;
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
  for (const auto& ns : order) {
    auto& [b, index] = per_ns[ns];
    auto acks = socket(ns).commit(b);
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
      nl::pin(netns(p.node), p.pin);
    } catch (Error& e) {
      throw ActionError(i, std::move(e));
    }
  }
}

void RealBackend::delete_host_link(const DeleteLink& d) {
  auto& sock = socket(kHostNs);
  for (const auto& l : nl::dump_links(sock)) {
    if (l.name != d.name) continue;
    // Never delete a host interface that is not ours: the mark must match.
    if (l.alias != d.alias)
      throw Error(EPERM, "host interface {} carries alias \"{}\", not netlab's \"{}\"; left in place", d.name,
                  l.alias, d.alias);
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
