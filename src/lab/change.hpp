// Changes: what `apply` does to a running lab besides the actions a deploy
// knows (action.hpp). A deploy only creates; an apply also removes single
// objects from namespaces that stay: a veth pair, an address, a route, an
// interface's qdiscs. Each is idempotent: already gone counts as done.
//
// An Op is one step of an apply or of its rollback: an Action (journaled like a
// deploy's, so destroy covers what it creates), an Undo (the destroy steps:
// kill a node, remove its cgroup, pin or directory, delete a table) or a Change.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include <nlohmann/json_fwd.hpp>

#include "lab/action.hpp"

namespace netlab::lab {

/// Deletes a link (a veth pair: both ends go; a bridge) in one namespace.
struct DelLink {
  std::string ns;
  std::string name;
  uint32_t ifindex = 0;
};
struct DelAddress {
  std::string ns;
  std::string ifname;
  uint32_t ifindex = 0;
  AddrText prefix;
};
struct DelRoute {
  std::string ns;
  AddrText to;
  AddrText via;
  std::string dev;
  uint32_t dev_ifindex = 0;
  uint32_t metric = 0;
};
/// Removes an interface's egress qdiscs (its impairments).
struct DelQdisc {
  std::string ns;
  std::string ifname;
  uint32_t ifindex = 0;
};

/// A sysctl of a running node, written from the host in the node's network
/// (net.*) or IPC namespace, as its init wrote it at the start. `pid` and
/// `start_time` identify the node's init (for the IPC namespace).
struct SetNodeSysctl {
  std::string node;
  std::string key;
  std::string value;
  int pid = 0;
  uint64_t start_time = 0;
};
/// The hostname of a running node, set in its UTS namespace.
struct SetHostname {
  std::string node;
  std::string hostname;
  int pid = 0;
  uint64_t start_time = 0;
};

using Change = std::variant<DelLink, DelAddress, DelRoute, DelQdisc, SetNodeSysctl, SetHostname>;

std::string describe(const Change& c);
std::string op_name(const Change& c);

using Op = std::variant<Action, Undo, Change>;

std::string describe_op(const Op& op);
/// "create_veth", "del_address", "kill_node", ...
std::string op_name_of(const Op& op);

nlohmann::json op_to_json(const Op& op);
/// Throws netlab::Error on a malformed record.
Op op_from_json(const nlohmann::json& j);

/// The action an AddRoute's removal undoes, and the other way round.
DelRoute del_route_of(const AddRoute& r);
AddRoute add_route_of(const DelRoute& r);

}  // namespace netlab::lab
