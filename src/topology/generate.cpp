#include "topology/generate.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <vector>

#include "topology/model.hpp"
#include "util/error.hpp"

namespace netlab::topo {

namespace {

struct Pool {
  uint32_t base = 0;
  int len = 0;
  uint64_t size() const { return uint64_t{1} << (32 - len); }
};

Pool parse_pool(const std::string& text, const char* what) {
  auto p = parse_prefix(text);
  if (!p || !p->addr.is_v4() || p->is_default)
    throw Error(EINVAL, "generate: {} \"{}\" is not an IPv4 prefix", what, text);
  uint32_t a;
  std::memcpy(&a, p->network().addr.bytes.data(), 4);
  return {ntohl(a), p->len};
}

std::string ip(uint32_t a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

// The fewest aligned CIDR blocks covering [lo, hi).
void cidr_cover(uint32_t lo, uint32_t hi, std::vector<std::pair<uint32_t, int>>& out) {
  while (lo < hi) {
    int bits = lo == 0 ? 32 : __builtin_ctz(lo);
    while (bits > 0 && (uint64_t{lo} + (uint64_t{1} << bits)) > hi) --bits;
    out.emplace_back(lo, 32 - bits);
    lo += static_cast<uint32_t>(uint64_t{1} << bits);
  }
}

class Writer {
 public:
  explicit Writer(std::string name) { out_ += fmt::format("name = \"{}\"\n", name); }

  void comment(const std::string& c) { out_.insert(0, "# " + c + "\n"); }
  void bridge(const std::string& b) { bridges_ += fmt::format("\n[bridges.{}]\n", b); }
  struct NodeText {
    std::string name;
    bool forwarding = false;
    std::vector<std::pair<std::string, std::string>> ifaces;  // name, address
    std::vector<std::string> routes;                           // "{ to = ..., via = ... }"
  };
  void node(const NodeText& n) {
    nodes_ += fmt::format("\n[nodes.{}]\n", n.name);
    if (n.forwarding) nodes_ += "forwarding = true\n";
    for (auto& [i, a] : n.ifaces) nodes_ += fmt::format("interfaces.{} = \"{}\"\n", i, a);
    if (!n.routes.empty()) {
      nodes_ += "routes = [\n";
      for (auto& r : n.routes) nodes_ += "  " + r + ",\n";
      nodes_ += "]\n";
    }
  }
  void link(const std::string& a, const std::string& b) {
    links_ += fmt::format("\n[[links]]\nendpoints = [\"{}\", \"{}\"]\n", a, b);
  }
  /// A reachability check `netlab test` runs: `from` pings `to` (a node: its first address).
  void check(const std::string& from, const std::string& to) {
    if (from == to) return;
    checks_ += fmt::format("\n[[checks]]\nname = \"{} reaches {}\"\nkind = \"ping\"\nfrom = \"{}\"\nto = \"{}\"\n",
                           from, to, from, to);
  }
  std::string text() const { return out_ + bridges_ + nodes_ + links_ + checks_; }

 private:
  std::string out_, bridges_, nodes_, links_, checks_;
};

std::string route(uint32_t net, int len, uint32_t via) {
  if (len == 0) return fmt::format("{{ to = \"default\", via = \"{}\" }}", ip(via));
  return fmt::format("{{ to = \"{}/{}\", via = \"{}\" }}", ip(net), len, ip(via));
}

void add_range_routes(std::vector<std::string>& routes, const Pool& pool, uint32_t lo_link,
                      uint32_t hi_link, uint32_t via) {
  std::vector<std::pair<uint32_t, int>> blocks;
  cidr_cover(pool.base + 2 * lo_link, pool.base + 2 * hi_link, blocks);
  for (auto& [net, len] : blocks) routes.push_back(route(net, len, via));
}

void need(bool ok, const std::string& what) {
  if (!ok) throw Error(EINVAL, "generate: {}", what);
}

// Checks of generated labs span at most this many routers (a ping's TTL is 64).
constexpr int kCheckHops = 60;

// Point-to-point link i uses pool.base + 2i (a end) and + 2i + 1 (b end), /31.
uint32_t p2p(const Pool& pool, uint32_t link, int end) { return pool.base + 2 * link + static_cast<uint32_t>(end); }

std::string gen_line(const GenerateSpec& s, Writer& w) {
  int n = s.n;
  need(n >= 2 && n <= 100000, "line needs 2..100000 nodes");
  Pool pool = parse_pool(s.pool, "pool");
  need(static_cast<uint64_t>(n - 1) * 2 <= pool.size(), "pool " + s.pool + " is too small");
  w.comment(fmt::format("line of {} routers r1..r{}: r_i:eth1 <-> r_i+1:eth0, a /31 each, static routes", n, n));
  for (int i = 0; i < n; ++i) {
    Writer::NodeText node{fmt::format("r{}", i + 1), true, {}, {}};
    // Link j joins r(j+1):eth1 and r(j+2):eth0.
    if (i > 0) node.ifaces.push_back({"eth0", fmt::format("{}/31", ip(p2p(pool, i - 1, 1)))});
    if (i < n - 1) node.ifaces.push_back({"eth1", fmt::format("{}/31", ip(p2p(pool, i, 0)))});
    if (i < n - 1) node.routes.push_back(route(0, 0, p2p(pool, i, 1)));      // right: default
    if (i > 0 && i - 1 > 0) add_range_routes(node.routes, pool, 0, i - 1, p2p(pool, i - 1, 0));  // left links
    if (i == n - 1) node.routes.push_back(route(0, 0, p2p(pool, i - 1, 0)));
    w.node(node);
  }
  for (int i = 0; i + 1 < n; ++i) w.link(fmt::format("r{}:eth1", i + 1), fmt::format("r{}:eth0", i + 2));
  // Pings live 64 hops: checks span at most kCheckHops routers.
  w.check("r1", fmt::format("r{}", std::min(n, kCheckHops + 1)));
  w.check(fmt::format("r{}", std::min(n, kCheckHops + 1)), "r1");
  if (n > kCheckHops + 1) {
    w.check(fmt::format("r{}", n), fmt::format("r{}", n - kCheckHops));
    w.check(fmt::format("r{}", n - kCheckHops), fmt::format("r{}", n));
  }
  return w.text();
}

std::string gen_ring(const GenerateSpec& s, Writer& w) {
  int n = s.n;
  need(n >= 3 && n <= 100000, "ring needs 3..100000 nodes");
  Pool pool = parse_pool(s.pool, "pool");
  need(static_cast<uint64_t>(n) * 2 <= pool.size(), "pool " + s.pool + " is too small");
  w.comment(fmt::format("ring of {} routers: r_i:eth1 <-> r_i+1:eth0 (r{}:eth1 <-> r1:eth0), shortest-way static routes", n, n));
  // Link j joins r(j+1):eth1 (a) and r((j+1)%n + 1):eth0 (b).
  for (int i = 0; i < n; ++i) {
    Writer::NodeText node{fmt::format("r{}", i + 1), true, {}, {}};
    int left = (i - 1 + n) % n;  // link whose b end is this node
    node.ifaces.push_back({"eth0", fmt::format("{}/31", ip(p2p(pool, left, 1)))});
    node.ifaces.push_back({"eth1", fmt::format("{}/31", ip(p2p(pool, i, 0)))});
    // Links i+1 .. i+half clockwise (via the right neighbour), the rest counter-clockwise.
    int half = (n - 2) / 2;
    auto add_interval = [&](int from, int count, uint32_t via) {
      // links from, from+1, ... (mod n), `count` of them, as at most two ranges
      if (count <= 0) return;
      int end = from + count;
      if (end <= n) {
        add_range_routes(node.routes, pool, static_cast<uint32_t>(from), static_cast<uint32_t>(end), via);
      } else {
        add_range_routes(node.routes, pool, static_cast<uint32_t>(from), static_cast<uint32_t>(n), via);
        add_range_routes(node.routes, pool, 0, static_cast<uint32_t>(end - n), via);
      }
    };
    add_interval((i + 1) % n, half, p2p(pool, i, 1));
    add_interval((i + 1 + half) % n, n - 2 - half, p2p(pool, left, 0));
    w.node(node);
  }
  for (int j = 0; j < n; ++j) w.link(fmt::format("r{}:eth1", j + 1), fmt::format("r{}:eth0", (j + 1) % n + 1));
  std::string far = fmt::format("r{}", 1 + std::min(n / 2, kCheckHops));
  w.check("r1", far);
  w.check(far, "r1");
  w.check("r1", fmt::format("r{}", n));  // the other way round the ring
  return w.text();
}

int prefix_for(uint64_t hosts) {  // smallest prefix with room for hosts + network + broadcast
  int len = 30;
  while (len > 0 && (uint64_t{1} << (32 - len)) < hosts + 2) --len;
  return len;
}

// Reachability checks from the first node to the middle and the last, and back.
void end_to_end_checks(Writer& w, const std::string& first, const std::string& middle, const std::string& last) {
  w.check(first, last);
  w.check(last, first);
  if (middle != first && middle != last) w.check(first, middle);
}

std::string gen_star(const GenerateSpec& s, Writer& w) {
  int n = s.n;
  need(n >= 1 && static_cast<size_t>(n) <= kMaxBridgePorts,
       fmt::format("star needs 1..{} nodes (the ports a Linux bridge takes); tree and clos build larger LANs",
                   kMaxBridgePorts));
  Pool lan = parse_pool(s.lan_pool, "lan pool");
  int len = prefix_for(static_cast<uint64_t>(n));
  need(len >= lan.len, "lan pool " + s.lan_pool + " is too small");
  w.comment(fmt::format("star: {} nodes h1..h{} on one bridge sw, one /{} subnet", n, n, len));
  w.bridge("sw");
  for (int i = 0; i < n; ++i) {
    Writer::NodeText node{fmt::format("h{}", i + 1), false, {}, {}};
    node.ifaces.push_back({"eth0", fmt::format("{}/{}", ip(lan.base + 1 + static_cast<uint32_t>(i)), len)});
    w.node(node);
  }
  for (int i = 0; i < n; ++i) w.link(fmt::format("h{}:eth0", i + 1), "sw");
  end_to_end_checks(w, "h1", fmt::format("h{}", (n + 1) / 2), fmt::format("h{}", n));
  return w.text();
}

std::string gen_tree(const GenerateSpec& s, Writer& w) {
  need(s.depth >= 1 && s.fanout >= 1, "tree needs DEPTH >= 1 and FANOUT >= 1");
  uint64_t total = 1, level = 1;
  for (int d = 1; d <= s.depth; ++d) {
    level *= static_cast<uint64_t>(s.fanout);
    total += level;
    need(total <= 100000, "tree would have more than 100000 nodes");
  }
  Pool pool = parse_pool(s.pool, "pool");
  need((total - 1) * 2 <= pool.size(), "pool " + s.pool + " is too small");
  w.comment(fmt::format("tree of depth {} and fanout {}: {} routers, parent eth<k> <-> child eth0", s.depth, s.fanout, total));
  // Pre-order numbering makes each subtree's links one contiguous range: the
  // link into node v has index v-1, and v's subtree holds nodes v..v+size-1.
  std::vector<uint64_t> subtree(s.depth + 2, 1);
  for (int d = s.depth - 1; d >= 0; --d) subtree[d] = 1 + static_cast<uint64_t>(s.fanout) * subtree[d + 1];
  std::vector<Writer::NodeText> nodes(total);
  std::vector<std::pair<std::string, std::string>> links;
  std::function<void(uint64_t, int, int64_t)> walk = [&](uint64_t v, int d, int64_t parent) {
    auto& node = nodes[v];
    node.name = fmt::format("r{}", v + 1);
    node.forwarding = true;
    if (parent >= 0) {
      node.ifaces.push_back({"eth0", fmt::format("{}/31", ip(p2p(pool, static_cast<uint32_t>(v - 1), 1)))});
      node.routes.push_back(route(0, 0, p2p(pool, static_cast<uint32_t>(v - 1), 0)));
    }
    if (d == s.depth) return;
    uint64_t child = v + 1;
    for (int k = 0; k < s.fanout; ++k) {
      uint32_t link = static_cast<uint32_t>(child - 1);
      node.ifaces.push_back({fmt::format("eth{}", k + 1), fmt::format("{}/31", ip(p2p(pool, link, 0)))});
      links.push_back({fmt::format("r{}:eth{}", v + 1, k + 1), fmt::format("r{}:eth0", child + 1)});
      if (subtree[d + 1] > 1)  // the links below that child
        add_range_routes(node.routes, pool, link + 1, static_cast<uint32_t>(child - 1 + subtree[d + 1]),
                         p2p(pool, link, 1));
      walk(child, d + 1, static_cast<int64_t>(v));
      child += subtree[d + 1];
    }
  };
  walk(0, 0, -1);
  for (auto& n : nodes) w.node(n);
  for (auto& [a, b] : links) w.link(a, b);
  // In pre-order r(d+1) is the first node at depth d; the last node is the deepest, rightmost.
  std::string deep = fmt::format("r{}", std::min(s.depth, kCheckHops) + 1);
  w.check("r1", deep);
  w.check(deep, "r1");
  if (2 * s.depth <= kCheckHops) w.check(deep, fmt::format("r{}", total));
  return w.text();
}

std::string gen_clos(const GenerateSpec& s, Writer& w) {
  need(s.spines >= 1 && s.spines <= 64, "clos needs 1..64 spines");
  need(s.leaves >= 1 && s.leaves <= 1000, "clos needs 1..1000 leaves");
  need(s.hosts_per_leaf >= 1 && s.hosts_per_leaf <= 250, "clos needs 1..250 hosts per leaf");
  Pool pool = parse_pool(s.pool, "pool");
  Pool lan = parse_pool(s.lan_pool, "lan pool");
  // Each leaf's links to the spines form one aligned block, so a spine reaches
  // every other spine's link with that leaf through one route.
  uint32_t block = 1;
  while (block < 2u * static_cast<uint32_t>(s.spines)) block <<= 1;
  int block_len = 32 - __builtin_ctz(block);
  need(static_cast<uint64_t>(block) * s.leaves <= pool.size(), "pool " + s.pool + " is too small");
  need(static_cast<uint64_t>(256) * s.leaves <= lan.size(), "lan pool " + s.lan_pool + " is too small");
  w.comment(fmt::format("clos: {} spines, {} leaves, {} hosts per leaf on a bridge per leaf", s.spines, s.leaves,
                        s.hosts_per_leaf));
  auto link_addr = [&](int leaf, int spine, int end) {
    return pool.base + block * static_cast<uint32_t>(leaf) + 2 * static_cast<uint32_t>(spine) + static_cast<uint32_t>(end);
  };
  auto lan_net = [&](int leaf) { return lan.base + 256 * static_cast<uint32_t>(leaf); };
  for (int sp = 0; sp < s.spines; ++sp) {
    Writer::NodeText node{fmt::format("s{}", sp + 1), true, {}, {}};
    for (int l = 0; l < s.leaves; ++l) {
      node.ifaces.push_back({fmt::format("eth{}", l), fmt::format("{}/31", ip(link_addr(l, sp, 0)))});
      node.routes.push_back(route(lan_net(l), 24, link_addr(l, sp, 1)));
      if (s.spines > 1) node.routes.push_back(route(pool.base + block * static_cast<uint32_t>(l), block_len, link_addr(l, sp, 1)));
    }
    w.node(node);
  }
  for (int l = 0; l < s.leaves; ++l) {
    w.bridge(fmt::format("lan{}", l + 1));
    Writer::NodeText leaf{fmt::format("l{}", l + 1), true, {}, {}};
    for (int sp = 0; sp < s.spines; ++sp)
      leaf.ifaces.push_back({fmt::format("up{}", sp + 1), fmt::format("{}/31", ip(link_addr(l, sp, 1)))});
    leaf.ifaces.push_back({"eth0", fmt::format("{}/24", ip(lan_net(l) + 1))});
    leaf.routes.push_back(route(0, 0, link_addr(l, 0, 0)));
    w.node(leaf);
    for (int h = 0; h < s.hosts_per_leaf; ++h) {
      Writer::NodeText host{fmt::format("l{}h{}", l + 1, h + 1), false, {}, {}};
      host.ifaces.push_back({"eth0", fmt::format("{}/24", ip(lan_net(l) + 2 + static_cast<uint32_t>(h)))});
      host.routes.push_back(route(0, 0, lan_net(l) + 1));
      w.node(host);
    }
  }
  for (int l = 0; l < s.leaves; ++l) {
    for (int sp = 0; sp < s.spines; ++sp)
      w.link(fmt::format("s{}:eth{}", sp + 1, l), fmt::format("l{}:up{}", l + 1, sp + 1));
    w.link(fmt::format("l{}:eth0", l + 1), fmt::format("lan{}", l + 1));
    for (int h = 0; h < s.hosts_per_leaf; ++h) w.link(fmt::format("l{}h{}:eth0", l + 1, h + 1), fmt::format("lan{}", l + 1));
  }
  auto host = [&](int leaf) {
    return s.hosts_per_leaf > 0 ? fmt::format("l{}h1", leaf) : fmt::format("l{}", leaf);
  };
  end_to_end_checks(w, host(1), host((s.leaves + 1) / 2), host(s.leaves));
  w.check(host(1), "s1");
  return w.text();
}

}  // namespace

bool parse_generate_kind(const std::string& s, GenerateKind& out) {
  if (s == "line") out = GenerateKind::kLine;
  else if (s == "ring") out = GenerateKind::kRing;
  else if (s == "star") out = GenerateKind::kStar;
  else if (s == "tree") out = GenerateKind::kTree;
  else if (s == "clos") out = GenerateKind::kClos;
  else return false;
  return true;
}

std::string generate(const GenerateSpec& spec) {
  std::string name = spec.name;
  if (name.empty()) {
    static const char* kinds[] = {"line", "ring", "star", "tree", "clos"};
    name = kinds[static_cast<int>(spec.kind)];
    if (spec.n > 0) name += std::to_string(spec.n);
  }
  // The same rule as validation's for a lab name: a generated file always validates.
  bool ok = !name.empty() && name.size() <= kMaxLabName && name.front() != '-';
  for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  need(ok, fmt::format("lab name \"{}\" must match [a-z0-9][a-z0-9-]* and be at most {} bytes", name, kMaxLabName));
  Writer w(name);
  switch (spec.kind) {
    case GenerateKind::kLine: return gen_line(spec, w);
    case GenerateKind::kRing: return gen_ring(spec, w);
    case GenerateKind::kStar: return gen_star(spec, w);
    case GenerateKind::kTree: return gen_tree(spec, w);
    case GenerateKind::kClos: return gen_clos(spec, w);
  }
  return {};
}

}  // namespace netlab::topo
