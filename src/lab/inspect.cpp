#include "lab/inspect.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <map>

#include "lab/node_status.hpp"
#include "lab/state.hpp"
#include "netlink/dump.hpp"
#include "netlink/netns.hpp"
#include "netlink/qdisc.hpp"
#include "nft/ruleset.hpp"
#include "node/cgroup.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

namespace netlab::lab {

namespace {

using json = nlohmann::json;

// The impairment netlab's qdiscs put on an interface's egress, null when none.
json egress_json(const std::vector<nl::QdiscInfo>& qdiscs, uint32_t ifindex) {
  nl::Impairment imp = nl::impairment_of(qdiscs, ifindex);
  if (imp.empty()) return nullptr;
  return {{"delay_ns", imp.delay_ns},          {"jitter_ns", imp.jitter_ns},     {"loss", imp.loss_percent},
          {"duplicate", imp.duplicate_percent}, {"corrupt", imp.corrupt_percent}, {"reorder", imp.reorder_percent},
          {"rate_bps", imp.rate_bits_per_sec},  {"text", imp.str()}};
}

json interfaces_of(const HostFacts& facts, const std::string& lab, const topo::Node* node, const topo::Lab* topology,
                   const std::string& name) {
  json out = json::array();
  auto ns = nl::Netns::open(node_pin(facts, lab, name));
  auto sock = nl::RtnlSocket::open_in(ns, lab + "-" + name);
  auto addrs = nl::dump_addresses(sock);
  auto qdiscs = nl::dump_qdiscs(sock);
  for (const auto& l : nl::dump_links(sock)) {
    if (l.name == "lo") continue;
    json i = {{"name", l.name}, {"ifindex", l.ifindex}, {"mac", l.mac}, {"mtu", l.mtu},
              {"up", l.up},     {"carrier", l.lower_up}, {"addresses", json::array()}, {"peer", nullptr},
              {"egress", egress_json(qdiscs, l.ifindex)}};
    for (const auto& a : addrs)
      if (a.ifindex == l.ifindex && a.prefix.rfind("fe80:", 0) != 0) i["addresses"].push_back(a.prefix);
    if (node && topology) {
      if (const auto* iface = node->find_interface(l.name); iface && iface->link >= 0) {
        const auto& link = topology->links[iface->link];
        const auto& other = link.ends[0].str() == name + ":" + l.name ? link.ends[1] : link.ends[0];
        i["peer"] = other.str();
      }
    }
    out.push_back(i);
  }
  return out;
}

// The node's netlab table as the kernel lists it: chains with their rule counts, and
// the rules' raw bytecode only when asked (null when the node has no table).
json nft_of(const HostFacts& facts, const std::string& lab, const std::string& name, bool raw) {
  auto ns = nl::Netns::open(node_pin(facts, lab, name));
  auto tables = nft::list_tables(ns, lab + "-" + name);
  if (std::find(tables.begin(), tables.end(), "netlab") == tables.end()) return nullptr;
  json chains = json::array();
  for (const auto& c : nft::list_table(ns, lab + "-" + name, "netlab")) {
    json chain = {{"name", c.name}, {"hook", c.hook}, {"type", c.type}, {"policy", c.policy},
                  {"rules", c.rules.size()}};
    if (raw) chain["raw"] = c.rules;
    chains.push_back(chain);
  }
  return {{"table", "inet netlab"}, {"chains", chains}};
}

// NAT rules in the topology's own terms ("masquerade": "eth1", ...).
json nat_of(const topo::Node* n) {
  json out = json::array();
  if (!n) return out;
  for (const auto& r : n->nat) {
    switch (r.kind) {
      case topo::NatKind::kMasquerade: out.push_back({{"masquerade", r.out_iface}}); break;
      case topo::NatKind::kSnat: {
        std::string to = r.to ? r.to->str() : "";
        if (r.to_end) to += "-" + r.to_end->str();
        out.push_back({{"snat", {{"out", r.out_iface}, {"to", to}}}});
        break;
      }
      case topo::NatKind::kDnat: {
        std::string to = r.to ? r.to->str() : "";
        if (r.to_port && r.to_port != r.port) to += ":" + std::to_string(r.to_port);
        out.push_back({{"dnat", {{"in", r.in_iface}, {"proto", r.proto}, {"port", r.port}, {"to", to}}}});
        break;
      }
    }
  }
  return out;
}

json firewall_of(const topo::Node* n) {
  if (!n || !n->firewall) return nullptr;
  const auto& f = *n->firewall;
  auto policy = [](topo::Policy p) { return p == topo::Policy::kDrop ? "drop" : "accept"; };
  json allow = json::array(), open = json::array();
  for (const auto& i : f.allow_ifaces) allow.push_back(i);
  for (const auto& p : f.allow_from) allow.push_back(p.str());
  for (const auto& p : f.open_ports) open.push_back(p.proto + "/" + std::to_string(p.port));
  return {{"input", policy(f.input)}, {"forward", policy(f.forward)}, {"allow", allow}, {"open", open}};
}

// "masquerade eth1; dnat eth1 tcp/8080 -> 192.168.50.2:80; firewall forward drop, allow eth0".
std::string nat_firewall_text(const json& node) {
  std::vector<std::string> parts;
  for (const auto& r : node["nat"]) {
    if (r.contains("masquerade")) parts.push_back("masquerade " + r["masquerade"].get<std::string>());
    if (r.contains("snat"))
      parts.push_back("snat " + r["snat"]["out"].get<std::string>() + " -> " + r["snat"]["to"].get<std::string>());
    if (r.contains("dnat"))
      parts.push_back(fmt::format("dnat {} {}/{} -> {}", r["dnat"]["in"].get<std::string>(),
                                  r["dnat"]["proto"].get<std::string>(), r["dnat"]["port"].get<int>(),
                                  r["dnat"]["to"].get<std::string>()));
  }
  if (!node["firewall"].is_null()) {
    const auto& f = node["firewall"];
    std::string t = "firewall input " + f["input"].get<std::string>() + ", forward " + f["forward"].get<std::string>();
    for (const char* key : {"allow", "open"}) {
      if (f[key].empty()) continue;
      t += ", ";
      t += key;
      for (const auto& v : f[key]) t += " " + v.get<std::string>();
    }
    parts.push_back(t);
  }
  if (!parts.empty() && node["nft"].is_null() && node["state"] == "running") parts.push_back("(no nft table loaded!)");
  return join(parts, "; ");
}

json limits_of(const topo::Node* n) {
  json l = {{"cpus", nullptr}, {"memory", nullptr}, {"pids", nullptr}, {"cpu_weight", nullptr}};
  if (!n) return l;
  if (n->limits.cpus) l["cpus"] = n->limits.cpus->cores;
  if (n->limits.memory) l["memory"] = n->limits.memory->bytes;
  if (n->limits.pids) l["pids"] = *n->limits.pids;
  if (n->limits.cpu_weight) l["cpu_weight"] = *n->limits.cpu_weight;
  return l;
}

}  // namespace

json inspect_lab(const HostFacts& facts, const std::string& lab, bool raw) {
  LabState state = read_lab_state(facts, lab);
  const topo::Lab* topology = state.topology ? &*state.topology : nullptr;
  auto cgroups = node::make_cgroups();
  json info = {{"name", lab},
               {"state_dir", lab_dir(facts, lab)},
               {"deployed_at", state.deployed_at},
               {"nodes", json::array()},
               {"bridges", json::array()}};
  for (const auto& n : state.nodes) {
    const topo::Node* tn = nullptr;
    if (topology && topology->find_node(n.name) >= 0) tn = &topology->nodes[topology->find_node(n.name)];
    json node = {{"name", n.name},
                 {"state", n.running ? "running" : "exited"},
                 {"cmd", read_cmd_status(facts, lab, n.name, tn && tn->cmd, n.running).to_json()},
                 {"pid", n.pid},
                 {"image", tn ? tn->image.str() : ""},
                 {"cgroup", n.cgroup},
                 {"limits", limits_of(tn)},
                 {"usage", nullptr},
                 {"interfaces", json::array()},
                 {"nat", nat_of(tn)},
                 {"firewall", firewall_of(tn)},
                 {"nft", nullptr}};
    if (n.running) {
      try {
        auto u = cgroups->usage(n.cgroup);
        node["usage"] = {{"memory", u.memory_bytes}, {"cpu_ns", u.cpu_ns}};
      } catch (const Error&) {
      }
      node["interfaces"] = interfaces_of(facts, lab, tn, topology, n.name);
      node["nft"] = nft_of(facts, lab, n.name, raw);
    }
    info["nodes"].push_back(node);
  }
  try {
    auto fabric = nl::Netns::open(fabric_pin(facts, lab));
    auto sock = nl::RtnlSocket::open_in(fabric, "netlab-" + lab);
    auto links = nl::dump_links(sock);
    std::map<uint32_t, json> bridges;
    for (const auto& l : links)
      if (l.kind == "bridge") bridges[l.ifindex] = {{"name", l.name}, {"ports", json::array()}, {"port_egress", json::object()}};
    auto qdiscs = nl::dump_qdiscs(sock);
    for (const auto& l : links) {
      if (!l.master || !bridges.count(l.master)) continue;
      std::string port = l.alias.empty() ? l.name : l.alias;
      bridges[l.master]["ports"].push_back(port);
      if (json e = egress_json(qdiscs, l.ifindex); !e.is_null()) bridges[l.master]["port_egress"][port] = e;
    }
    for (auto& [idx, b] : bridges) info["bridges"].push_back(b);
  } catch (const Error&) {
    // A lab whose fabric is gone (partially destroyed) still shows its nodes.
  }
  return info;
}

std::string render_inspect(const json& info) {
  std::string out = fmt::format("lab {}  ({} nodes, {} bridges)\n\n", info["name"].get<std::string>(),
                                info["nodes"].size(), info["bridges"].size());
  // A multi-host lab's merged view (netlab inspect from any host) names each node's host.
  bool hosts = false;
  for (const auto& n : info["nodes"]) hosts |= n.contains("host");
  auto host_cell = [&](const json& o) { return hosts ? fmt::format("{:<8} ", o.value("host", "")) : std::string(); };
  out += fmt::format("{:<12} {}{:<8} {:<10} {:>7} {:<8} {:>10} {:>9}  {}\n", "NODE", hosts ? "HOST     " : "", "STATE",
                     "CMD", "PID", "IMAGE", "MEMORY", "CPU", "INTERFACES");
  for (const auto& n : info["nodes"]) {
    std::string mem = "-", cpu = "-";
    if (!n["usage"].is_null()) {
      mem = fmt::format("{:.1f}M", n["usage"]["memory"].get<double>() / (1 << 20));
      cpu = fmt::format("{:.2f}s", n["usage"]["cpu_ns"].get<double>() / 1e9);
    }
    std::string ifaces;
    for (const auto& i : n["interfaces"]) {
      if (!ifaces.empty()) ifaces += ", ";
      ifaces += i["name"].get<std::string>();
      // A link `netlab link down` took down (or a peer gone) shows as such.
      if (!i["up"].get<bool>()) ifaces += " DOWN";
      else if (!i["carrier"].get<bool>()) ifaces += " NO-CARRIER";
      for (const auto& a : i["addresses"]) ifaces.append(" ").append(a.get<std::string>());
      if (!i["peer"].is_null()) ifaces.append(" -> ").append(i["peer"].get<std::string>());
      if (i.contains("egress") && !i["egress"].is_null())
        ifaces.append(" [").append(i["egress"]["text"].get<std::string>()).append("]");
    }
    std::string cmd = "-";
    if (n.contains("cmd") && !n["cmd"].is_null()) {
      const auto& c = n["cmd"];
      cmd = c["state"].get<std::string>();
      if (!c["exit_code"].is_null()) cmd = fmt::format("exited {}", c["exit_code"].get<int>());
      if (!c["signal"].is_null()) cmd = c.value("signal_name", fmt::format("signal {}", c["signal"].get<int>()));
    }
    out += fmt::format("{:<12} {}{:<8} {:<10} {:>7} {:<8} {:>10} {:>9}  {}\n", n["name"].get<std::string>(),
                       host_cell(n), n["state"].get<std::string>(), cmd, n["pid"].get<int>(), n["image"].get<std::string>(), mem,
                       cpu, ifaces);
  }
  std::string rules;
  for (const auto& n : info["nodes"])
    if (std::string t = nat_firewall_text(n); !t.empty()) rules += fmt::format("{:<12} {}\n", n["name"].get<std::string>(), t);
  if (!rules.empty()) out += "\nNODE         NAT AND FIREWALL\n" + rules;
  if (!info["bridges"].empty()) {
    out += std::string("\nBRIDGE       ") + (hosts ? "HOST     " : "") + "PORTS\n";
    for (const auto& b : info["bridges"]) {
      std::string ports;
      for (const auto& p : b["ports"]) {
        ports.append(ports.empty() ? "" : ", ").append(p.get<std::string>());
        if (b.contains("port_egress") && b["port_egress"].contains(p.get<std::string>()))
          ports.append(" [").append(b["port_egress"][p.get<std::string>()]["text"].get<std::string>()).append("]");
      }
      out += fmt::format("{:<12} {}{}\n", b["name"].get<std::string>(), host_cell(b), ports);
    }
  }
  return out;
}

}  // namespace netlab::lab
