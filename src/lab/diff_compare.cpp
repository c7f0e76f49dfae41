// What diff.cpp compares (diff_compare.hpp).
#include "lab/diff_compare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

namespace netlab::lab::detail {

namespace {

nlohmann::json command_json(const topo::Command& c) { return c.argv; }

}  // namespace

// What a node's init was started with and cannot change in place: a change
// restarts the init in the node's network namespace.
std::string init_print(const topo::Node& n) {
  nlohmann::json j;
  j["image"] = n.image.str();
  for (const auto& b : n.binds) j["binds"].push_back({b.host_path, b.node_path, b.read_only});
  if (!n.sysfs) j["sysfs"] = false;
  return j.dump();
}

// What the node's program runs: a change restarts the program (its init stays).
std::string program_print(const topo::Node& n) {
  nlohmann::json j;
  for (const auto& c : n.exec) j["exec"].push_back(command_json(c));
  if (n.cmd) j["cmd"] = command_json(*n.cmd);
  j["env"] = n.env;
  if (n.user) j["user"] = {n.user->uid, n.user->gid};
  return j.dump();
}

// The sysctls a node's init writes at its start, in its order (forwarding
// first, then the table, which may override it).
std::map<std::string, std::string> node_sysctls(const topo::Node& n) {
  std::map<std::string, std::string> out;
  if (n.forwarding) {
    out["net.ipv4.ip_forward"] = "1";
    out["net.ipv6.conf.all.forwarding"] = "1";
  }
  for (const auto& [k, v] : n.sysctls) out[k] = v;
  return out;
}

// What a node's network namespace was made with: a change recreates the node.
std::string namespace_print(const topo::Node& n) {
  return fmt::format("privileged={} ipv6={}", n.privileged, n.ipv6_enabled());
}

std::string limits_print(const topo::Node& n) {
  const auto& l = n.limits;
  return fmt::format("{}/{}/{}/{}", l.cpus ? l.cpus->cores : -1.0, l.memory ? l.memory->bytes : 0,
                     l.pids ? *l.pids : 0, l.cpu_weight ? *l.cpu_weight : 0);
}

bool same_veth(const CreateVeth& a, const CreateVeth& b) {
  return a.a_ns == b.a_ns && a.a_name == b.a_name && a.b_ns == b.b_ns && a.mtu == b.mtu && a.a_mac == b.a_mac &&
         a.b_mac == b.b_mac && (a.b_ns == kFabricNs || a.b_name == b.b_name);
}

std::string route_key(const AddRoute& r) { return describe(Action(r)); }

// A bridge's attachment to the host, as text: what must be equal for it to stay.
std::string attachment_print(const View::HostAttachment& h) {
  std::string out = h.veth ? fmt::format("{} mtu {} fabric end {}", describe(Action(*h.veth)), h.veth->mtu, h.veth->a_name)
                           : "";
  if (h.fabric_end) out += "; " + describe(Action(*h.fabric_end));
  if (h.host_end) out += "; " + describe(Action(*h.host_end)) + " alias " + h.host_end->alias;
  std::vector<std::string> addrs;
  for (const auto* a : h.addrs) addrs.push_back(a->prefix);
  std::sort(addrs.begin(), addrs.end());
  for (const auto& a : addrs) out += "; " + a;
  return out;
}

bool same_vxlan(const CreateVxlan& a, const CreateVxlan& b) {
  return a.vni == b.vni && a.local == b.local && a.remote == b.remote && a.port == b.port && a.mtu == b.mtu &&
         a.learning == b.learning && a.mac == b.mac;
}

// A bridge's VXLAN port to other hosts (multi-host part), as text: "" = none.
std::string bridge_tunnel_print(const topo::Lab& lab, const std::string& bridge) {
  int b = lab.find_bridge(bridge);
  if (b < 0 || !lab.bridges[static_cast<size_t>(b)].tunnel) return "";
  const auto& br = lab.bridges[static_cast<size_t>(b)];
  const auto& t = *br.tunnel;
  std::string remotes;
  for (const auto& r : t.remotes) remotes += " " + r.str();
  return fmt::format("vni {} local {} port {} mtu {} remotes{}", t.vni, t.local.str(), t.port, br.mtu.value_or(0),
                     remotes);
}

}  // namespace netlab::lab::detail
