// The real backend's changes for apply (change.hpp): one request each, in the
// namespace's socket; an object already gone is success, so a rollback or a
// recovery after a crash may run the same change twice.
#include <sched.h>

#include <fmt/format.h>

#include "lab/real_backend_impl.hpp"
#include "netlink/addr.hpp"
#include "netlink/link.hpp"
#include "netlink/netns.hpp"
#include "netlink/qdisc.hpp"
#include "node/control.hpp"
#include "util/strings.hpp"
#include "util/overloaded.hpp"

namespace netlab::lab {

namespace {

// Where a sysctl of a node lives: net.* in its network namespace, the rest
// (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*: topology/sysctls.cpp)
// in its IPC namespace.
bool net_sysctl(const std::string& key) { return key.starts_with("net."); }

}  // namespace

void RealBackend::set_node_sysctl(const SetNodeSysctl& s) {
  try {
    if (net_sysctl(s.key)) nl::write_sysctl(netns(s.node), s.key, s.value);
    else node::in_node_namespaces(s.pid, s.start_time, CLONE_NEWIPC, [&] { nl::write_sysctl(s.key, s.value); });
  } catch (Error& e) {
    throw std::move(e.wrap("node " + s.node));
  }
}

std::string RealBackend::node_sysctl(const SetNodeSysctl& s) {
  std::string value;
  try {
    if (net_sysctl(s.key)) {
      nl::NetnsSwitch in(netns(s.node));
      value = read_file(sysctl_path(s.key));
    } else {
      node::in_node_namespaces(s.pid, s.start_time, CLONE_NEWIPC, [&] { value = read_file(sysctl_path(s.key)); });
    }
  } catch (Error& e) {
    throw std::move(e.wrap(fmt::format("node {}: reading sysctl {}", s.node, s.key)));
  }
  return std::string(trim(value));
}

void RealBackend::change(const Change& c) {
  if (auto* s = std::get_if<SetNodeSysctl>(&c)) return set_node_sysctl(*s);
  if (auto* h = std::get_if<SetHostname>(&c)) {
    try {
      return node::set_node_hostname(h->pid, h->start_time, h->hostname);
    } catch (Error& e) {
      throw std::move(e.wrap("node " + h->node));
    }
  }
  nl::Batch b;
  std::string ns;
  std::vector<int> gone;  // errnos that mean "already done"
  std::visit(Overloaded{
                 [&](const DelLink& x) {
                   ns = x.ns;
                   b.add(nl::encode(nl::LinkDeleteSpec{x.name, x.ifindex}), "deleting " + describe(c));
                   gone = {ENODEV, ENOENT};
                 },
                 [&](const DelAddress& x) {
                   ns = x.ns;
                   b.add(nl::encode_delete(nl::AddrSpec{x.ifindex, x.prefix}), "deleting " + describe(c));
                   gone = {EADDRNOTAVAIL, ENODEV, ENOENT};
                 },
                 [&](const DelRoute& x) {
                   ns = x.ns;
                   b.add(nl::encode_delete(nl::RouteSpec{x.to, x.via, x.dev_ifindex, x.metric}),
                         "deleting " + describe(c));
                   gone = {ESRCH, ENOENT, ENODEV};
                 },
                 [&](const DelQdisc& x) {
                   ns = x.ns;
                   b.add(nl::encode_qdisc_delete(x.ifindex), "deleting " + describe(c));
                   // The kernel: "Cannot delete qdisc with handle of zero" (the default) is ENOENT.
                   gone = {ENOENT, ENODEV};
                 },
                 [&](const SetNodeSysctl&) {},
                 [&](const SetHostname&) {},
             },
             c);
  nl::RtnlSocket* sock = nullptr;
  try {
    sock = &socket(ns);
  } catch (const Error& e) {
    // The namespace itself is gone (its pin was removed): so is everything in it.
    if (e.errnum() == ENOENT) return;
    throw;
  }
  auto acks = sock->commit(b);
  for (const auto& a : acks) {
    if (a.errnum == 0 || std::find(gone.begin(), gone.end(), a.errnum) != gone.end()) continue;
    Error e(a.errnum, fmt::format("{} in netns {}", a.what, ns_label(ns)));
    if (!a.extack.empty()) e.set_extack(a.extack);
    throw e;
  }
}

}  // namespace netlab::lab
