#include "lab/change.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "util/error.hpp"
#include "util/overloaded.hpp"

namespace netlab::lab {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DelLink, ns, name, ifindex)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DelAddress, ns, ifname, ifindex, prefix)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DelRoute, ns, to, via, dev, dev_ifindex, metric)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DelQdisc, ns, ifname, ifindex)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SetNodeSysctl, node, key, value, pid, start_time)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SetHostname, node, hostname, pid, start_time)

namespace {

std::string where(const std::string& ns, const std::string& name) {
  if (ns == kHostNs) return fmt::format("host:{}", name);
  if (ns == kFabricNs) return name;
  return fmt::format("{}:{}", ns, name);
}

std::string undo_name(const Undo& u) {
  return std::visit(Overloaded{
                        [](const KillNode&) { return "kill_node"; },
                        [](const RemoveCgroup&) { return "remove_cgroup"; },
                        [](const Unpin&) { return "unpin"; },
                        [](const DeleteLink&) { return "delete_host_link"; },
                        [](const DeleteNft&) { return "delete_nft"; },
                        [](const RestoreSysctl&) { return "restore_sysctl"; },
                        [](const RemoveDir&) { return "remove_dir"; },
                    },
                    u);
}

nlohmann::json undo_to_json(const Undo& u) {
  nlohmann::json j = std::visit(
      Overloaded{
          [](const KillNode& x) {
            return nlohmann::json{{"node", x.node}, {"pid", x.pid}, {"start_time", x.start_time}};
          },
          [](const RemoveCgroup& x) { return nlohmann::json{{"path", x.path}}; },
          [](const Unpin& x) { return nlohmann::json{{"pin", x.pin}}; },
          [](const DeleteLink& x) { return nlohmann::json{{"ns", x.ns}, {"name", x.name}, {"alias", x.alias}}; },
          [](const DeleteNft& x) { return nlohmann::json{{"ns", x.ns}, {"family", x.family}, {"table", x.table}}; },
          [](const RestoreSysctl& x) { return nlohmann::json{{"key", x.key}, {"value", x.value}}; },
          [](const RemoveDir& x) { return nlohmann::json{{"dir", x.dir}}; },
      },
      u);
  j["op"] = undo_name(u);
  return j;
}

Undo undo_from_json(const nlohmann::json& j) {
  std::string op = j.at("op");
  if (op == "kill_node") return KillNode{j.at("node"), j.at("pid"), j.at("start_time")};
  if (op == "remove_cgroup") return RemoveCgroup{j.at("path")};
  if (op == "unpin") return Unpin{j.at("pin")};
  if (op == "delete_host_link") return DeleteLink{j.at("ns"), j.at("name"), j.at("alias")};
  if (op == "delete_nft") return DeleteNft{j.at("ns"), j.at("family"), j.at("table")};
  if (op == "restore_sysctl") return RestoreSysctl{j.at("key"), j.at("value")};
  if (op == "remove_dir") return RemoveDir{j.at("dir")};
  throw Error(0, "unknown undo op \"{}\"", op);
}

}  // namespace

std::string op_name(const Change& c) {
  return std::visit(Overloaded{
                        [](const DelLink&) { return std::string("del_link"); },
                        [](const DelAddress&) { return std::string("del_address"); },
                        [](const DelRoute&) { return std::string("del_route"); },
                        [](const DelQdisc&) { return std::string("del_qdisc"); },
                        [](const SetNodeSysctl&) { return std::string("set_sysctl"); },
                        [](const SetHostname&) { return std::string("set_hostname"); },
                    },
                    c);
}

std::string describe(const Change& c) {
  return std::visit(
      Overloaded{
          [](const DelLink& x) { return fmt::format("link {}", where(x.ns, x.name)); },
          [](const DelAddress& x) { return fmt::format("address {} on {}", x.prefix, where(x.ns, x.ifname)); },
          [](const DelRoute& x) {
            return describe(Action(add_route_of(x)));
          },
          [](const DelQdisc& x) { return fmt::format("impairment on {}", where(x.ns, x.ifname)); },
          [](const SetNodeSysctl& x) { return fmt::format("sysctl {} = {} in {}", x.key, x.value, x.node); },
          [](const SetHostname& x) { return fmt::format("hostname of {}: {}", x.node, x.hostname); },
      },
      c);
}

DelRoute del_route_of(const AddRoute& r) { return DelRoute{r.ns, r.to, r.via, r.dev, r.dev_ifindex, r.metric}; }
AddRoute add_route_of(const DelRoute& r) { return AddRoute{r.ns, r.to, r.via, r.dev, r.dev_ifindex, r.metric}; }

std::string describe_op(const Op& op) {
  return std::visit([](const auto& x) { return describe(x); }, op);
}

std::string op_name_of(const Op& op) {
  return std::visit(Overloaded{
                        [](const Action& a) { return op_name(a); },
                        [](const Undo& u) { return std::string(undo_name(u)); },
                        [](const Change& c) { return op_name(c); },
                    },
                    op);
}

nlohmann::json op_to_json(const Op& op) {
  return std::visit(Overloaded{
                        [](const Action& a) { return nlohmann::json{{"action", nlohmann::json(a)}}; },
                        [](const Undo& u) { return nlohmann::json{{"undo", undo_to_json(u)}}; },
                        [](const Change& c) {
                          nlohmann::json j;
                          std::visit([&](const auto& x) { j = x; }, c);
                          j["op"] = op_name(c);
                          return nlohmann::json{{"change", j}};
                        },
                    },
                    op);
}

Op op_from_json(const nlohmann::json& j) {
  try {
    if (j.contains("action")) return action_from_json(j["action"]);
    if (j.contains("undo")) return undo_from_json(j["undo"]);
    if (j.contains("change")) {
      const auto& c = j["change"];
      std::string op = c.at("op");
      if (op == "del_link") return Change(c.get<DelLink>());
      if (op == "del_address") return Change(c.get<DelAddress>());
      if (op == "del_route") return Change(c.get<DelRoute>());
      if (op == "del_qdisc") return Change(c.get<DelQdisc>());
      if (op == "set_sysctl") return Change(c.get<SetNodeSysctl>());
      if (op == "set_hostname") return Change(c.get<SetHostname>());
      throw Error(0, "unknown change op \"{}\"", op);
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(0, "malformed apply record {}: {}", j.dump(), e.what());
  }
  throw Error(0, "apply record without an op: {}", j.dump());
}

}  // namespace netlab::lab
