#include "lab/stats.hpp"

#include <fmt/format.h>

#include <map>

#include "lab/state.hpp"
#include "netlink/dump.hpp"
#include "netlink/netns.hpp"
#include "util/error.hpp"

namespace netlab::lab {

namespace {

using json = nlohmann::json;

json counters(const nl::LinkCounters& c) {
  return {{"packets", c.packets}, {"bytes", c.bytes}, {"dropped", c.dropped}, {"errors", c.errors}};
}

std::vector<nl::LinkInfo> links_in(const std::string& pin, const std::string& label) {
  auto ns = nl::Netns::open(pin);
  auto sock = nl::RtnlSocket::open_in(ns, label);
  return nl::dump_links(sock);
}

std::string row(const std::string& where, const std::string& name, const json& i) {
  const auto& rx = i["rx"];
  const auto& tx = i["tx"];
  return fmt::format("{:<12} {:<16} {:>10} {:>12} {:>7} {:>7} {:>10} {:>12} {:>7} {:>7}\n", where, name,
                     rx["packets"].get<uint64_t>(), rx["bytes"].get<uint64_t>(), rx["dropped"].get<uint64_t>(),
                     rx["errors"].get<uint64_t>(), tx["packets"].get<uint64_t>(), tx["bytes"].get<uint64_t>(),
                     tx["dropped"].get<uint64_t>(), tx["errors"].get<uint64_t>());
}

}  // namespace

json interface_stats(const HostFacts& facts, const std::string& lab) {
  LabState state = read_lab_state(facts, lab);
  json out = {{"name", lab}, {"interfaces", json::array()}, {"bridges", json::array()}};
  for (const auto& n : state.nodes) {
    try {
      for (const auto& l : links_in(node_pin(facts, lab, n.name), lab + "-" + n.name)) {
        if (l.name == "lo") continue;
        out["interfaces"].push_back(
            {{"node", n.name}, {"name", l.name}, {"rx", counters(l.rx)}, {"tx", counters(l.tx)}});
      }
    } catch (const Error& e) {
      out["interfaces"].push_back({{"node", n.name}, {"error", e.what()}});
    }
  }
  try {
    auto links = links_in(fabric_pin(facts, lab), "netlab-" + lab);
    std::map<uint32_t, json> bridges;
    for (const auto& l : links)
      if (l.kind == "bridge")
        bridges[l.ifindex] = {{"name", l.name}, {"rx", counters(l.rx)}, {"tx", counters(l.tx)}, {"ports", json::array()}};
    for (const auto& l : links) {
      if (!l.master || !bridges.count(l.master)) continue;
      // The port's alias is the node end it faces ("h1:eth0"), set at deploy.
      bridges[l.master]["ports"].push_back(
          {{"name", l.alias.empty() ? l.name : l.alias}, {"rx", counters(l.rx)}, {"tx", counters(l.tx)}});
    }
    for (auto& [idx, b] : bridges) out["bridges"].push_back(b);
  } catch (const Error&) {
    // A lab whose fabric is gone (partly destroyed) still shows its nodes.
  }
  return out;
}

std::string render_stats(const json& stats) {
  std::string out = fmt::format("{:<12} {:<16} {:>10} {:>12} {:>7} {:>7} {:>10} {:>12} {:>7} {:>7}\n", "NODE",
                                "INTERFACE", "RX PKTS", "RX BYTES", "RX DROP", "RX ERR", "TX PKTS", "TX BYTES",
                                "TX DROP", "TX ERR");
  for (const auto& i : stats["interfaces"]) {
    if (i.contains("error")) {
      out += fmt::format("{:<12} {}\n", i["node"].get<std::string>(), i["error"].get<std::string>());
      continue;
    }
    std::string node = i["node"].get<std::string>();
    if (i.contains("host")) node += "@" + i["host"].get<std::string>();  // a multi-host lab's merged view
    out += row(node, i["name"].get<std::string>(), i);
  }
  for (const auto& b : stats["bridges"]) {
    std::string name = b["name"].get<std::string>();
    if (b.contains("host")) name += "@" + b["host"].get<std::string>();
    out += row("bridge " + name, "(itself)", b);
    for (const auto& p : b["ports"]) out += row("bridge " + name, p["name"].get<std::string>(), p);
  }
  return out;
}

}  // namespace netlab::lab
