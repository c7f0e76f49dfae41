// The graph: one vertex per node and per bridge (a bridge weighs nothing; it
// is cut when its ports are on several hosts), one edge per link, parallel
// links summed into one weighted edge. Pinned nodes of one host are contracted
// into a single vertex before partitioning, so METIS keeps them together; the
// parts are then named after hosts by the pins they hold, pinned nodes forced
// home, and the balance repaired by moving unpinned nodes with the best gain.
#include "cluster/placement.hpp"

#include <metis.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <stdexcept>

#include "util/error.hpp"

namespace netlab::cluster {

namespace {

struct Graph {
  size_t n = 0;  // vertices: nodes, then bridges
  std::vector<std::map<int, int>> adj;
  std::vector<std::vector<idx_t>> weight;  // per vertex, per constraint
  int ncon = 1;
};

int vertex_of(const topo::Lab& lab, const topo::Endpoint& e) {
  return e.kind == topo::Endpoint::Kind::kBridge ? static_cast<int>(lab.nodes.size()) + e.bridge_index
                                                 : e.node_index;
}

// One balance constraint: a node's load. Without cpus/memory anywhere every
// node weighs the same; when some node sets cpus, a node weighs its cpus (in
// millicores; nodes without cpus weigh the mean of those given), else by
// memory the same way (MiB). Bridges weigh nothing.
Graph build(const topo::Lab& lab) {
  Graph g;
  g.n = lab.nodes.size() + lab.bridges.size();
  g.adj.resize(g.n);
  g.weight.assign(g.n, std::vector<idx_t>(1, 0));
  std::vector<idx_t> given(lab.nodes.size(), 0);
  for (int pass = 0; pass < 2; ++pass) {
    long sum = 0, count = 0;
    for (size_t i = 0; i < lab.nodes.size(); ++i) {
      auto& l = lab.nodes[i].limits;
      if (pass == 0 && l.cpus) given[i] = std::max<idx_t>(1, std::lround(l.cpus->cores * 1000));
      if (pass == 1 && l.memory) given[i] = std::max<idx_t>(1, static_cast<idx_t>(l.memory->bytes >> 20));
      if (given[i]) sum += given[i], ++count;
    }
    if (count == 0) continue;
    idx_t mean = static_cast<idx_t>(sum / count);
    for (size_t i = 0; i < lab.nodes.size(); ++i) g.weight[i][0] = given[i] ? given[i] : mean;
    break;
  }
  for (size_t i = 0; i < lab.nodes.size(); ++i)
    if (!g.weight[i][0]) g.weight[i][0] = 1;
  for (auto& link : lab.links) {
    int a = vertex_of(lab, link.ends[0]), b = vertex_of(lab, link.ends[1]);
    if (a < 0 || b < 0 || a == b) continue;
    g.adj[a][b] += 1;
    g.adj[b][a] += 1;
  }
  return g;
}

// Contracts the pinned vertices of each host into one, partitions with METIS
// and returns a part per original vertex (parts not yet named after hosts).
std::vector<int> metis_parts(const Graph& g, const std::vector<int>& pin, int k) {
  std::vector<int> to_c(g.n);
  std::map<int, int> host_vertex;
  int nc = 0;
  for (size_t v = 0; v < g.n; ++v) {
    if (pin[v] >= 0) {
      auto [it, fresh] = host_vertex.emplace(pin[v], nc);
      if (fresh) ++nc;
      to_c[v] = it->second;
    } else {
      to_c[v] = nc++;
    }
  }
  std::vector<std::map<int, int>> cadj(nc);
  std::vector<idx_t> vwgt(static_cast<size_t>(nc) * g.ncon, 0);
  for (size_t v = 0; v < g.n; ++v) {
    for (int c = 0; c < g.ncon; ++c) vwgt[to_c[v] * g.ncon + c] += g.weight[v][c];
    for (auto [u, w] : g.adj[v])
      if (to_c[u] != to_c[v]) cadj[to_c[v]][to_c[u]] += w;
  }
  std::vector<idx_t> xadj{0}, adjncy, adjwgt;
  for (auto& m : cadj) {
    for (auto [u, w] : m) {
      adjncy.push_back(u);
      adjwgt.push_back(w);
    }
    xadj.push_back(static_cast<idx_t>(adjncy.size()));
  }
  if (nc <= k) {  // fewer vertices than hosts: one each
    std::vector<int> out(g.n);
    for (size_t v = 0; v < g.n; ++v) out[v] = to_c[v];
    return out;
  }
  idx_t nvtxs = nc, ncon = g.ncon, nparts = k, objval = 0;
  std::vector<idx_t> part(nc, 0);
  idx_t options[METIS_NOPTIONS];
  METIS_SetDefaultOptions(options);
  options[METIS_OPTION_SEED] = 1;  // deterministic: the same file, the same placement
  options[METIS_OPTION_NUMBERING] = 0;
  options[METIS_OPTION_CONTIG] = 0;
  int rc = METIS_PartGraphKway(&nvtxs, &ncon, xadj.data(), adjncy.data(), vwgt.data(), nullptr,
                               adjwgt.data(), &nparts, nullptr, nullptr, options, &objval, part.data());
  if (rc != METIS_OK) throw Error(EINVAL, "partitioning {} vertices into {} hosts: METIS error {}", nc, k, rc);
  std::vector<int> out(g.n);
  for (size_t v = 0; v < g.n; ++v) out[v] = static_cast<int>(part[to_c[v]]);
  return out;
}

// Names METIS's parts after hosts: each host takes the free part holding most
// of its pinned nodes (hosts in file order), the rest in order.
std::vector<int> name_parts(const Graph& g, const std::vector<int>& part, const std::vector<int>& pin, int k) {
  std::vector<std::vector<long>> score(k, std::vector<long>(k, 0));  // [host][part]
  for (size_t v = 0; v < g.n; ++v)
    if (pin[v] >= 0) score[pin[v]][part[v]] += 1;
  std::vector<int> part_host(k, -1);
  std::vector<bool> host_done(k, false);
  for (int h = 0; h < k; ++h) {
    int best = -1;
    for (int p = 0; p < k; ++p)
      if (part_host[p] < 0 && score[h][p] > 0 && (best < 0 || score[h][p] > score[h][best])) best = p;
    if (best >= 0) {
      part_host[best] = h;
      host_done[h] = true;
    }
  }
  int next = 0;
  for (int p = 0; p < k; ++p) {
    if (part_host[p] >= 0) continue;
    while (host_done[next]) ++next;
    part_host[p] = next;
    host_done[next] = true;
  }
  std::vector<int> host(g.n);
  for (size_t v = 0; v < g.n; ++v) host[v] = pin[v] >= 0 ? pin[v] : part_host[part[v]];
  return host;
}

// Moves unpinned nodes from hosts loaded above the even share (plus METIS's
// 3 % tolerance) to the least loaded host, each time the node whose move cuts
// fewest links; a move never pushes the target above the share.
void rebalance(const topo::Lab& lab, const Graph& g, const std::vector<int>& pin, std::vector<int>& host, int k) {
  size_t nodes = lab.nodes.size();
  std::vector<long> load(k, 0), pinned(k, 0);
  long total = 0;
  for (size_t v = 0; v < nodes; ++v) {
    load[host[v]] += g.weight[v][0];
    total += g.weight[v][0];
    if (pin[v] >= 0) pinned[pin[v]] += g.weight[v][0];
  }
  long cap = (total + k - 1) / k;
  cap += cap * 3 / 100;
  for (int from = 0; from < k; ++from) {
    long limit = std::max(cap, pinned[from]);
    while (load[from] > limit) {
      int to = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
      long best_gain = std::numeric_limits<long>::min();
      int best = -1;
      for (size_t v = 0; v < nodes; ++v) {
        if (host[v] != from || pin[v] >= 0 || load[to] + g.weight[v][0] > std::max(cap, load[from] - g.weight[v][0]))
          continue;
        long gain = 0;
        for (auto [u, w] : g.adj[v]) gain += host[u] == to ? w : host[u] == from ? -w : 0;
        if (gain > best_gain) best_gain = gain, best = static_cast<int>(v);
      }
      if (best < 0) break;
      host[best] = to;
      load[from] -= g.weight[best][0], load[to] += g.weight[best][0];
    }
  }
}

}  // namespace

void measure(const topo::Lab& lab, Placement& p) {
  size_t k = lab.hosts.size();
  p.nodes_per_host.assign(k, 0);
  for (int h : p.node_host) p.nodes_per_host[h]++;
  p.cross_links = 0;
  std::vector<std::vector<int>> ports(lab.bridges.size(), std::vector<int>(k, 0));
  for (auto& l : lab.links) {
    auto& a = l.ends[0];
    auto& b = l.ends[1];
    bool a_br = a.kind == topo::Endpoint::Kind::kBridge, b_br = b.kind == topo::Endpoint::Kind::kBridge;
    if (!a_br && !b_br) {
      if (p.node_host[a.node_index] != p.node_host[b.node_index]) p.cross_links++;
    } else if (a_br != b_br) {
      auto& br = a_br ? a : b;
      auto& nd = a_br ? b : a;
      ports[br.bridge_index][p.node_host[nd.node_index]]++;
    }
  }
  p.bridge_home.assign(lab.bridges.size(), 0);
  p.bridge_hosts.assign(lab.bridges.size(), {});
  p.bridge_tunnels = 0;
  for (size_t b = 0; b < lab.bridges.size(); ++b) {
    for (size_t h = 0; h < k; ++h) {
      if (ports[b][h] > 0) p.bridge_hosts[b].push_back(static_cast<int>(h));
      if (ports[b][h] > ports[b][p.bridge_home[b]]) p.bridge_home[b] = static_cast<int>(h);
    }
    if (p.bridge_hosts[b].size() > 1) p.bridge_tunnels += p.bridge_hosts[b].size() - 1;
  }
}

Placement place(const topo::Lab& lab, Method method) {
  if (lab.hosts.empty()) throw Error(EINVAL, "placing lab {}: it has no [hosts.NAME]", lab.name);
  int k = static_cast<int>(lab.hosts.size());
  Graph g = build(lab);
  std::vector<int> pin(g.n, -1);
  for (size_t i = 0; i < lab.nodes.size(); ++i) pin[i] = lab.nodes[i].host_index;
  std::vector<int> host(g.n, 0);
  if (method == Method::kRoundRobin) {
    int next = 0;
    for (size_t v = 0; v < lab.nodes.size(); ++v) host[v] = pin[v] >= 0 ? pin[v] : next++ % k;
  } else if (k > 1 && lab.nodes.size() > 1) {
    host = name_parts(g, metis_parts(g, pin, k), pin, k);
    rebalance(lab, g, pin, host, k);
  } else {
    for (size_t v = 0; v < lab.nodes.size(); ++v) host[v] = pin[v] >= 0 ? pin[v] : 0;
  }
  Placement p;
  p.node_host.assign(host.begin(), host.begin() + static_cast<long>(lab.nodes.size()));
  measure(lab, p);
  return p;
}

}  // namespace netlab::cluster
