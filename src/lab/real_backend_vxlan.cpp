// Multi-host (docs/multi-host.md): VXLAN devices are requested on the socket of
// the host's root namespace, so the kernel opens their UDP sockets there (the
// underlay), and created directly in their node's or the fabric's namespace
// (IFLA_NET_NS_FD): one request each, nothing left in the root namespace to
// mark or remove. Sent in batches with the target namespaces open.
//
// A VNI is unique per underlay socket (namespace, port, local address), and a
// destroyed lab's devices live on in their dying namespaces until the kernel's
// asynchronous netns cleanup has run. So a redeploy right after a destroy is
// (seen in MultiHostTest.DeployOverSshBuildsEveryPartOrRollsBackAll, without
// this) refused with EEXIST ("A VXLAN device with the specified VNI already
// exists"); those requests are resent every 50 ms for up to 5 s, then the
// refusal stands and names the device.
#include <chrono>
#include <map>
#include <thread>

#include "lab/real_backend_impl.hpp"
#include "netlink/link_vxlan.hpp"

namespace netlab::lab {

namespace {
constexpr size_t kVxlansPerBatch = 128;
}

void RealBackend::run_vxlans(std::span<Action> batch, const std::vector<size_t>& which) {
  for (size_t from = 0; from < which.size(); from += kVxlansPerBatch) {
    std::vector<size_t> todo(which.begin() + static_cast<long>(from),
                             which.begin() + static_cast<long>(std::min(which.size(), from + kVxlansPerBatch)));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!todo.empty()) {
      nl::Batch b;
      std::map<std::string, nl::Netns> open;
      for (size_t i : todo) {
        const auto& x = std::get<CreateVxlan>(batch[i]);
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
          b.add(nl::encode(v), "creating " + describe(batch[i]));
        } catch (Error& e) {
          throw ActionError(i, std::move(e.wrap("creating " + describe(batch[i]))));
        }
      }
      auto acks = socket(kHostNs).commit(b);
      std::vector<size_t> again;
      std::vector<nl::Ack> final_acks;
      std::vector<size_t> final_index;
      bool retry = std::chrono::steady_clock::now() < deadline;
      for (size_t k = 0; k < acks.size(); ++k) {
        if (acks[k].errnum == EEXIST && retry) {
          again.push_back(todo[k]);
        } else {
          final_acks.push_back(acks[k]);
          final_index.push_back(todo[k]);
        }
      }
      throw_first(final_acks, kHostNs, [&](size_t k) { return final_index[k]; });
      todo = std::move(again);
      if (!todo.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

}  // namespace netlab::lab
