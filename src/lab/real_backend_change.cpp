// The real backend's changes for apply (change.hpp): one request each, in the
// namespace's socket; an object already gone is success, so a rollback or a
// recovery after a crash may run the same change twice.
#include <fmt/format.h>

#include "lab/real_backend_impl.hpp"
#include "netlink/addr.hpp"
#include "netlink/link.hpp"
#include "netlink/qdisc.hpp"
#include "util/overloaded.hpp"

namespace netlab::lab {

void RealBackend::change(const Change& c) {
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
