#include "cluster/vni.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <sstream>

namespace netlab::cluster {

namespace {

uint32_t fnv1a(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

uint32_t vni_of(const std::string& key) { return kMinVni + fnv1a(key) % (kMaxVni - kMinVni + 1); }

}  // namespace

std::string link_key(const topo::Lab& lab, const topo::Link& link) {
  std::string a = link.ends[0].str(), b = link.ends[1].str();
  if (b < a) std::swap(a, b);
  return fmt::format("{}/link/{}|{}", lab.name, a, b);
}

VniPlan vni_plan(const topo::Lab& lab, const Placement& p) {
  VniPlan v;
  v.port = lab.vxlan_port;
  // (key, is_bridge, index), assigned in key order so collisions resolve the same everywhere.
  std::vector<std::tuple<std::string, bool, int>> keys;
  for (size_t i = 0; i < lab.links.size(); ++i) keys.emplace_back(link_key(lab, lab.links[i]), false, i);
  for (size_t i = 0; i < lab.bridges.size(); ++i)
    keys.emplace_back(fmt::format("{}/bridge/{}", lab.name, lab.bridges[i].name), true, i);
  std::sort(keys.begin(), keys.end());
  v.link_vni.assign(lab.links.size(), 0);
  v.bridge_vni.assign(lab.bridges.size(), 0);
  std::set<uint32_t> used;
  for (auto& [key, is_bridge, i] : keys) {
    uint32_t vni = vni_of(key);
    for (int salt = 1; used.count(vni); ++salt) vni = vni_of(fmt::format("{}#{}", key, salt));
    used.insert(vni);
    (is_bridge ? v.bridge_vni : v.link_vni)[i] = vni;
  }
  for (size_t i = 0; i < lab.links.size(); ++i) {
    auto& l = lab.links[i];
    if (l.ends[0].kind != topo::Endpoint::Kind::kInterface || l.ends[1].kind != topo::Endpoint::Kind::kInterface)
      continue;
    int a = p.node_host[l.ends[0].node_index], b = p.node_host[l.ends[1].node_index];
    if (a != b) v.cross_links.push_back({static_cast<int>(i), v.link_vni[i], {a, b}});
  }
  for (size_t b = 0; b < lab.bridges.size(); ++b)
    if (p.bridge_hosts[b].size() > 1) v.spans.push_back({static_cast<int>(b), v.bridge_vni[b], p.bridge_hosts[b]});
  return v;
}

std::string render_placement(const topo::Lab& lab, const Placement& p, const VniPlan& v) {
  std::ostringstream out;
  out << fmt::format("lab {} on {} hosts: {} cross-host links, {} bridges spanning hosts (VXLAN UDP port {})\n",
                     lab.name, lab.hosts.size(), v.cross_links.size(), v.spans.size(), v.port);
  for (size_t h = 0; h < lab.hosts.size(); ++h)
    out << fmt::format("host {} ({}): {} nodes\n", lab.hosts[h].name, lab.hosts[h].address.str(),
                       p.nodes_per_host[h]);
  out << "placement:\n";
  for (size_t i = 0; i < lab.nodes.size(); ++i)
    out << fmt::format("  {} -> {}{}\n", lab.nodes[i].name, lab.hosts[p.node_host[i]].name,
                       lab.nodes[i].host_index >= 0 ? " (pinned)" : "");
  if (!v.cross_links.empty()) out << "cross-host links:\n";
  for (auto& c : v.cross_links) {
    auto& l = lab.links[c.link];
    out << fmt::format("  {} <-> {}  {} <-> {}  vni {}\n", l.ends[0].str(), l.ends[1].str(),
                       lab.hosts[c.host[0]].name, lab.hosts[c.host[1]].name, c.vni);
  }
  if (!v.spans.empty()) out << "bridges spanning hosts (a bridge per host, head-end replication):\n";
  for (auto& s : v.spans) {
    std::string hosts;
    for (int h : s.hosts) hosts += (hosts.empty() ? "" : " ") + lab.hosts[h].name;
    out << fmt::format("  {}  on {}  vni {}\n", lab.bridges[s.bridge].name, hosts, s.vni);
  }
  return out.str();
}

}  // namespace netlab::cluster
