// Multi-host (docs/multi-host.md): VXLAN devices are requested on the socket of
// the host's root namespace, so the kernel opens their UDP sockets there (the
// underlay), and created directly in their node's or the fabric's namespace
// (IFLA_NET_NS_FD): one request each, nothing left in the root namespace to
// mark or remove. Sent in batches with the target namespaces open.
#include <map>

#include "lab/real_backend_impl.hpp"
#include "netlink/link_vxlan.hpp"

namespace netlab::lab {

namespace {
constexpr size_t kVxlansPerBatch = 128;
}

void RealBackend::run_vxlans(std::span<Action> batch, const std::vector<size_t>& which) {
  for (size_t from = 0; from < which.size(); from += kVxlansPerBatch) {
    size_t to = std::min(which.size(), from + kVxlansPerBatch);
    nl::Batch b;
    std::map<std::string, nl::Netns> open;
    for (size_t k = from; k < to; ++k) {
      const auto& x = std::get<CreateVxlan>(batch[which[k]]);
      try {
        int fd;
        if (x.ns == kFabricNs) {
          fd = netns(kFabricNs).fd();
        } else {
          auto it = open.find(x.ns);
          if (it == open.end()) it = open.emplace(x.ns, open_node_netns(x.ns)).first;
          fd = it->second.fd();
        }
        nl::VxlanSpec v{x.name, fd, x.ifindex, x.vni, x.local, x.remote, x.port, x.mtu, x.learning, x.mac, true};
        b.add(nl::encode(v), "creating " + describe(batch[which[k]]));
      } catch (Error& e) {
        throw ActionError(which[k], std::move(e.wrap("creating " + describe(batch[which[k]]))));
      }
    }
    auto acks = socket(kHostNs).commit(b);
    throw_first(acks, kHostNs, [&](size_t i) { return which[from + i]; });
  }
}

}  // namespace netlab::lab
