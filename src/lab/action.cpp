#include "lab/action.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "netlink/qdisc.hpp"
#include "util/error.hpp"
#include "util/overloaded.hpp"

namespace netlab::lab {

// JSON of each action (ADL needs these in the actions' namespace).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CreateFabric, pin, inode)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CreateNodeNetns, node)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CreateBridge, name, ifindex, mtu)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CreateVeth, label, a_ns, a_name, a_ifindex, b_ns, b_name,
                                                b_ifindex, mtu, a_mac, b_mac, a_alias, b_alias, b_up)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SetLink, ns, name, ifindex, master, master_ifindex, up, alias)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(AddAddress, ns, ifname, ifindex, prefix)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(AddRoute, ns, to, via, dev, dev_ifindex, metric)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AddQdisc, link, ns, ifname, ifindex, delay_ns, jitter_ns, loss, duplicate, corrupt,
                                   reorder, rate_bps, distribution)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ApplyNft, ns, family, table, spec_json)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SetHostSysctl, key, value, previous, has_previous)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CreateCgroup, node, path)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PrepareRootfs, node, dir)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(StartNode, node, node_index, pid, start_time)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PinNodeNetns, node, pin, inode)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CreateVxlan, label, ns, name, ifindex, vni, local, remote, port, mtu, learning,
                                   mac)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(AddFdb, ns, ifname, ifindex, remote)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RestartProgram, node)

namespace {


std::string where(const std::string& ns, const std::string& name) {
  if (ns == kHostNs) return fmt::format("host:{}", name);
  if (ns == kFabricNs) return name;
  return fmt::format("{}:{}", ns, name);
}

// One table for op names keeps to_json and action_from_json in step.
template <typename T>
struct OpName;
#define NETLAB_OP(Type, name) \
  template <>                 \
  struct OpName<Type> {       \
    static constexpr const char* value = name; \
  };
NETLAB_OP(CreateFabric, "create_fabric")
NETLAB_OP(CreateNodeNetns, "create_node_netns")
NETLAB_OP(CreateBridge, "create_bridge")
NETLAB_OP(CreateVeth, "create_veth")
NETLAB_OP(SetLink, "set_link")
NETLAB_OP(AddAddress, "add_address")
NETLAB_OP(AddRoute, "add_route")
NETLAB_OP(AddQdisc, "add_qdisc")
NETLAB_OP(ApplyNft, "apply_nft")
NETLAB_OP(SetHostSysctl, "set_host_sysctl")
NETLAB_OP(CreateCgroup, "create_cgroup")
NETLAB_OP(PrepareRootfs, "prepare_rootfs")
NETLAB_OP(StartNode, "start_node")
NETLAB_OP(PinNodeNetns, "pin_node_netns")
NETLAB_OP(CreateVxlan, "create_vxlan")
NETLAB_OP(AddFdb, "add_fdb")
NETLAB_OP(RestartProgram, "restart_program")
#undef NETLAB_OP

template <size_t I = 0>
Action from_op(const std::string& op, const nlohmann::json& j) {
  if constexpr (I < std::variant_size_v<Action>) {
    using T = std::variant_alternative_t<I, Action>;
    if (op == OpName<T>::value) return j.get<T>();
    return from_op<I + 1>(op, j);
  } else {
    throw Error(0, "unknown journal op \"{}\"", op);
  }
}

}  // namespace

std::string op_name(const Action& a) {
  return std::visit([](const auto& x) { return std::string(OpName<std::decay_t<decltype(x)>>::value); },
                    a);
}

nl::Impairment impairment_of(const AddQdisc& q) {
  return nl::Impairment{q.delay_ns, q.jitter_ns, q.loss, q.duplicate, q.corrupt, q.reorder, q.rate_bps, q.distribution};
}

std::string describe(const Action& a) {
  return std::visit(
      Overloaded{
          [](const CreateFabric& x) { return fmt::format("fabric netns {}", x.pin); },
          [](const CreateNodeNetns& x) { return fmt::format("netns of node {}", x.node); },
          [](const CreateBridge& x) { return fmt::format("bridge {}", x.name); },
          [](const CreateVeth& x) { return fmt::format("veth {}", x.label); },
          [](const SetLink& x) {
            if (!x.master.empty())
              return fmt::format("link {} up in bridge {}", where(x.ns, x.name), x.master);
            return fmt::format("link {} up", where(x.ns, x.name));
          },
          [](const AddAddress& x) {
            return fmt::format("address {} on {}", x.prefix, where(x.ns, x.ifname));
          },
          [](const AddRoute& x) {
            std::string s = fmt::format("route {} in {}", x.to, x.ns == kHostNs ? "host" : x.ns);
            if (!x.via.empty()) s += " via " + x.via;
            if (!x.dev.empty()) s += " dev " + x.dev;
            if (x.metric) s += fmt::format(" metric {}", x.metric);
            return s;
          },
          [](const AddQdisc& x) {
            return fmt::format("impairment on {}: {}", where(x.ns, x.ifname), impairment_of(x).str());
          },
          [](const ApplyNft& x) {
            return fmt::format("nftables table {} {} in {}", x.family, x.table,
                               x.ns == kHostNs ? "host" : x.ns);
          },
          [](const SetHostSysctl& x) { return fmt::format("host sysctl {} = {}", x.key, x.value); },
          [](const CreateCgroup& x) { return fmt::format("cgroup {}", x.path); },
          [](const PrepareRootfs& x) { return fmt::format("rootfs of node {}", x.node); },
          [](const StartNode& x) { return fmt::format("node {}", x.node); },
          [](const PinNodeNetns& x) { return fmt::format("netns pin {}", x.pin); },
          [](const CreateVxlan& x) { return fmt::format("vxlan {} (vni {})", x.label, x.vni); },
          [](const AddFdb& x) { return fmt::format("flooding entry on {} to {}", where(x.ns, x.ifname), x.remote); },
          [](const RestartProgram& x) { return fmt::format("program of node {} (exec, cmd)", x.node); },
      },
      a);
}

std::string describe(const Undo& u) {
  return std::visit(
      Overloaded{
          [](const KillNode& x) {
            return x.pid ? fmt::format("node {} (pid {})", x.node, x.pid)
                         : fmt::format("node {}", x.node);
          },
          [](const RemoveCgroup& x) { return fmt::format("cgroup {}", x.path); },
          [](const Unpin& x) { return fmt::format("netns pin {}", x.pin); },
          [](const DeleteLink& x) { return fmt::format("link {}", where(x.ns, x.name)); },
          [](const DeleteNft& x) {
            return fmt::format("nftables table {} {} in {}", x.family, x.table,
                               x.ns == kHostNs ? "host" : x.ns);
          },
          [](const RestoreSysctl& x) { return fmt::format("host sysctl {} (back to {})", x.key, x.value); },
          [](const RemoveDir& x) { return fmt::format("directory {}", x.dir); },
      },
      u);
}

std::optional<Undo> undo_of(const Action& a) {
  return std::visit(
      Overloaded{
          [](const CreateFabric& x) -> std::optional<Undo> { return Unpin{x.pin, x.inode, true}; },
          [](const CreateVeth& x) -> std::optional<Undo> {
            // Every veth has an end in the fabric or a node netns and dies with it;
            // a host-side end is deleted explicitly so destroy is synchronous.
            if (x.a_ns == kHostNs) return DeleteLink{x.a_ns, x.a_name, x.a_alias, x.a_ifindex};
            if (x.b_ns == kHostNs) return DeleteLink{x.b_ns, x.b_name, x.b_alias, x.b_ifindex};
            return std::nullopt;
          },
          [](const ApplyNft& x) -> std::optional<Undo> {
            if (x.ns == kHostNs) return DeleteNft{x.ns, x.family, x.table};
            return std::nullopt;
          },
          [](const SetHostSysctl& x) -> std::optional<Undo> {
            if (!x.has_previous) return std::nullopt;  // never written: the read came first
            return RestoreSysctl{x.key, x.previous};
          },
          [](const CreateCgroup& x) -> std::optional<Undo> { return RemoveCgroup{x.path}; },
          [](const PrepareRootfs& x) -> std::optional<Undo> { return RemoveDir{x.dir}; },
          [](const StartNode& x) -> std::optional<Undo> {
            return KillNode{x.node, x.pid, x.start_time};
          },
          [](const PinNodeNetns& x) -> std::optional<Undo> { return Unpin{x.pin, x.inode}; },
          [](const auto&) -> std::optional<Undo> { return std::nullopt; },
      },
      a);
}

int destroy_step(const Undo& u) {
  return std::visit(Overloaded{
                        [](const KillNode&) { return 1; },
                        [](const RemoveCgroup&) { return 2; },
                        [](const DeleteLink&) { return 3; },
                        [](const DeleteNft&) { return 3; },
                        [](const RestoreSysctl&) { return 3; },
                        // The fabric goes before the nodes' namespaces. The kernel
                        // frees a namespace in a worker that, for each dying one,
                        // searches every live namespace's peer-id table (and, for
                        // each of its veths, the table of the namespace holding the
                        // other end): the fabric's table names every node, so nodes
                        // dying while the fabric lives cost O(N) each, O(N^2) in all
                        // (cleanup_net's idr_for_each). A dead fabric is searched
                        // by no one, and its veths go in one batch.
                        [](const Unpin& x) { return x.fabric ? 4 : 5; },
                        [](const RemoveDir&) { return 6; },
                    },
                    u);
}

Phase phase_of(const Action& a) {
  return std::visit(Overloaded{
                        [](const CreateFabric&) { return Phase::kNamespaces; },
                        [](const CreateNodeNetns&) { return Phase::kNamespaces; },
                        [](const CreateBridge&) { return Phase::kLinks; },
                        [](const CreateVeth&) { return Phase::kLinks; },
                        [](const SetLink&) { return Phase::kNetConfig; },
                        [](const AddAddress&) { return Phase::kNetConfig; },
                        [](const AddRoute&) { return Phase::kNetConfig; },
                        [](const AddQdisc&) { return Phase::kNetConfig; },
                        [](const ApplyNft&) { return Phase::kNft; },
                        [](const SetHostSysctl&) { return Phase::kHost; },
                        [](const CreateCgroup&) { return Phase::kNodes; },
                        [](const PrepareRootfs&) { return Phase::kNodes; },
                        [](const StartNode&) { return Phase::kNodes; },
                        [](const PinNodeNetns&) { return Phase::kPins; },
                        [](const CreateVxlan&) { return Phase::kLinks; },
                        [](const AddFdb&) { return Phase::kNetConfig; },
                        [](const RestartProgram&) { return Phase::kNodes; },
                    },
                    a);
}

std::string ns_of(const Action& a) {
  return std::visit(Overloaded{
                        [](const CreateBridge&) { return std::string(kFabricNs); },
                        [](const CreateVeth&) { return std::string(kFabricNs); },
                        [](const SetLink& x) { return x.ns; },
                        [](const AddAddress& x) { return x.ns; },
                        [](const AddRoute& x) { return x.ns; },
                        [](const AddQdisc& x) { return x.ns; },
                        [](const ApplyNft& x) { return x.ns; },
                        [](const CreateVxlan&) { return std::string(kHostNs); },  // the underlay's namespace
                        [](const AddFdb& x) { return x.ns; },
                        [](const auto&) { return std::string(); },
                    },
                    a);
}

void to_json(nlohmann::json& j, const Action& a) {
  std::visit([&](const auto& x) { j = x; }, a);
  j["op"] = op_name(a);
}

Action action_from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("op") || !j["op"].is_string())
    throw Error(0, "journal record without an op: {}", j.dump());
  try {
    return from_op(j["op"].get<std::string>(), j);
  } catch (const nlohmann::json::exception& e) {
    throw Error(0, "malformed journal record {}: {}", j.dump(), e.what());
  }
}

}  // namespace netlab::lab
