// Resolve and validate: binds every name to an index (containerlab's RawLink →
// Link), creates the interfaces that links name but nodes do not declare, and
// reports every semantic problem with the position of what caused it. Lookups
// go through hash maps: a 2000-node lab validates in linear time.
#include <fmt/format.h>

#include <cstring>
#include <map>
#include <set>
#include <unordered_map>

#include "topology/parse_context.hpp"
#include "topology/pattern.hpp"
#include "util/strings.hpp"

namespace netlab::topo::detail {

namespace {

// A value quoted in a message stays one readable line.
std::string shorten(const std::string& s) { return s.size() <= 60 ? s : s.substr(0, 60) + "..."; }

class Validator {
 public:
  Validator(Context& ctx, Lab& lab) : ctx_(ctx), lab_(lab) {}

  void run() {
    names();
    links();
    interfaces();
    routes();
    nat_and_firewall();
    addresses();
    bridges();
    checks();
    host();
    hosts();
  }

 private:
  void name_check(const std::string& name, NameKind kind, const SourcePos& pos) {
    if (auto problem = name_problem(kind, name); !problem.empty()) ctx_.error(pos, problem);
  }

  // A bind's node path is absolute and normal (no ".", "..", empty parts or
  // trailing '/'), and not under /proc or /sys, whose masks it could cover.
  void bind_check(const Node& n, const Bind& b) {
    const std::string& p = b.node_path;
    bool normal = p.size() > 1 && p.front() == '/' && p.back() != '/';
    for (const auto& part : split(p.substr(1), '/')) normal = normal && !part.empty() && part != "." && part != "..";
    if (!normal) {
      ctx_.error(b.pos, fmt::format("node {}: bind target \"{}\" must be an absolute path without \".\", \"..\" or empty parts",
                                    n.name, p));
      return;
    }
    for (const char* top : {"/proc", "/sys"})
      if (p == top || p.starts_with(std::string(top) + "/"))
        ctx_.error(b.pos, fmt::format("node {}: bind target \"{}\" is under {}, which netlab mounts itself", n.name, p, top));
  }

  void names() {
    if (!lab_.name.empty()) name_check(lab_.name, NameKind::kLab, lab_.pos);
    for (size_t i = 0; i < lab_.nodes.size(); ++i) {
      auto& n = lab_.nodes[i];
      name_check(n.name, NameKind::kNode, n.pos);
      node_index_[n.name] = static_cast<int>(i);
      if (!n.privileged && n.user && (n.user->uid >= 65536 || n.user->gid >= 65536))
        ctx_.error(n.pos, fmt::format("node {}: user {}:{} is outside the 65536 ids its user namespace maps",
                                            n.name, n.user->uid, n.user->gid));
      for (const auto& b : n.binds) bind_check(n, b);
      if (n.ipv6 == false) {
        if (auto use = n.first_ipv6_use(); !use.empty())
          ctx_.error(n.pos, fmt::format("node {}: ipv6 = false, but it has the {}", n.name, use));
      }
      if (n.hostname.empty() || n.hostname.size() > 64)
        ctx_.error(n.pos, fmt::format("node {}: hostname must be 1..64 bytes", n.name));
      std::set<std::string> seen;
      for (auto& iface : n.interfaces) {
        if (iface.name == "lo")
          ctx_.error(iface.pos, fmt::format("node {}: \"lo\" is the loopback; it cannot be linked", n.name));
        else if (auto problem = iface_problem(iface.name); !problem.empty())
          ctx_.error(iface.pos, fmt::format("node {}: {}", n.name, problem));
      }
    }
    for (size_t i = 0; i < lab_.bridges.size(); ++i) {
      auto& b = lab_.bridges[i];
      name_check(b.name, NameKind::kBridge, b.pos);
      if (node_index_.count(b.name))
        ctx_.error(b.pos, fmt::format("bridge \"{}\" has the name of a node; link endpoints would be ambiguous", b.name));
      bridge_index_[b.name] = static_cast<int>(i);
    }
  }

  void links() {
    std::unordered_map<std::string, size_t> used;  // "node:iface" → link index
    for (size_t li = 0; li < lab_.links.size(); ++li) {
      auto& l = lab_.links[li];
      bool ok = true;
      for (auto& e : l.ends) {
        if (e.kind == Endpoint::Kind::kBridge) {
          auto it = bridge_index_.find(e.bridge);
          if (it == bridge_index_.end()) {
            std::string msg = node_index_.count(e.bridge)
                                  ? fmt::format("link endpoint \"{}\" is a node; name one of its interfaces (\"{}:eth0\")", e.bridge, e.bridge)
                                  : fmt::format("unknown bridge \"{}\" in link endpoints", e.bridge);
            ctx_.error(e.pos, msg, hint(e.bridge, bridge_names()));
            ok = false;
          } else {
            e.bridge_index = it->second;
          }
        } else {
          auto it = node_index_.find(e.node);
          if (it == node_index_.end()) {
            ctx_.error(e.pos, fmt::format("unknown node \"{}\" in link endpoints", e.node), hint(e.node, node_names()));
            ok = false;
          } else {
            e.node_index = it->second;
            mentioned_.insert(e.str());  // no "has no link" for an interface of a broken link
          }
        }
      }
      if (!ok) continue;
      if (l.ends[0].kind == Endpoint::Kind::kBridge && l.ends[1].kind == Endpoint::Kind::kBridge) {
        ctx_.error(l.pos, fmt::format("link {} <-> {} joins two bridges; link nodes to bridges instead",
                                      l.ends[0].str(), l.ends[1].str()));
        continue;
      }
      if (l.ends[0].str() == l.ends[1].str()) {
        ctx_.error(l.pos, fmt::format("link {} <-> {} joins an interface to itself", l.ends[0].str(), l.ends[1].str()));
        continue;
      }
      for (auto& e : l.ends) {
        if (e.kind != Endpoint::Kind::kInterface) continue;
        auto [it, fresh] = used.emplace(e.str(), li);
        if (!fresh) {
          ctx_.error(e.pos, fmt::format("interface {} is used by two links (the other at line {})", e.str(),
                                        lab_.links[it->second].pos.line));
          continue;
        }
        Node& n = lab_.nodes[e.node_index];
        int idx = -1;
        for (size_t k = 0; k < n.interfaces.size(); ++k)
          if (n.interfaces[k].name == e.iface) idx = static_cast<int>(k);
        if (idx < 0) {  // a link may name an interface that has no addresses
          Interface iface;
          iface.name = e.iface;
          iface.pos = l.pos;
          if (auto problem = iface_problem(iface.name); !problem.empty())
            ctx_.error(l.pos, fmt::format("node {}: {}", n.name, problem));
          n.interfaces.push_back(iface);
          idx = static_cast<int>(n.interfaces.size() - 1);
        }
        e.iface_index = idx;
        n.interfaces[idx].link = static_cast<int>(li);
      }
    }
  }

  void interfaces() {
    for (auto& n : lab_.nodes)
      for (auto& i : n.interfaces)
        if (i.link < 0 && !mentioned_.count(n.name + ":" + i.name))
          ctx_.error(i.pos, fmt::format("interface {}:{} has no link (add a [[links]] entry with endpoint \"{}:{}\")",
                                        n.name, i.name, n.name, i.name));
  }

  void routes() {
    for (auto& n : lab_.nodes) {
      for (auto& r : n.routes) {
        if (!r.dev.empty() && !n.find_interface(r.dev)) {
          ctx_.error(r.pos, fmt::format("route to {} of node {}: no interface \"{}\"", r.to.is_default ? "default" : r.to.str(),
                                        n.name, r.dev),
                     hint(r.dev, iface_names(n)));
          continue;
        }
        if (!r.via) continue;
        bool on_subnet = false;
        for (auto& i : n.interfaces) {
          if (!r.dev.empty() && i.name != r.dev) continue;
          for (auto& a : i.addresses)
            if (a.contains(*r.via)) on_subnet = true;
        }
        // An IPv6 link-local gateway is reachable on the device it names.
        bool link_local = r.via->is_v6() && r.via->bytes[0] == 0xfe && (r.via->bytes[1] & 0xc0) == 0x80 && !r.dev.empty();
        if (!on_subnet && !link_local)
          ctx_.error(r.pos, fmt::format("route to {} of node {}: gateway {} is on no subnet of {}",
                                        r.to.is_default ? "default" : r.to.str(), n.name, r.via->str(),
                                        r.dev.empty() ? "the node" : r.dev));
      }
    }
  }

  void nat_and_firewall() {
    for (auto& n : lab_.nodes) {
      for (auto& r : n.nat) {
        const std::string& iface = r.kind == NatKind::kDnat ? r.in_iface : r.out_iface;
        if (!iface.empty() && !n.find_interface(iface))
          ctx_.error(r.pos, fmt::format("nat rule of node {} names interface \"{}\", which the node does not have",
                                        n.name, iface),
                     hint(iface, iface_names(n)));
      }
      if (n.firewall) {
        for (auto& i : n.firewall->allow_ifaces)
          if (!n.find_interface(i))
            ctx_.error(n.firewall->pos, fmt::format("firewall of node {} allows interface \"{}\", which the node does not have",
                                                    n.name, i),
                       hint(i, iface_names(n)));
      }
    }
  }

  // Addresses must be unique on a segment (a bridge, or a point-to-point link).
  // The same private address on two segments is legitimate: overlapping LANs
  // behind separate NAT gateways are what many labs are built to show.
  void addresses() {
    std::unordered_map<std::string, std::string> owner;  // "segment|address" → "node:iface"
    auto segment_of = [&](const Node& n, const Interface& i) -> std::string {
      if (i.link < 0) return "unlinked:" + n.name + ":" + i.name;
      for (const auto& e : lab_.links[i.link].ends)
        if (e.kind == Endpoint::Kind::kBridge) return "bridge:" + e.bridge;
      return "link:" + std::to_string(i.link);
    };
    auto claim = [&](const std::string& segment, const Prefix& p, const std::string& who, const SourcePos& pos) {
      auto [it, fresh] = owner.emplace(segment + "|" + p.addr.str(), who);
      if (!fresh)
        ctx_.error(pos, fmt::format("address {} of {} is already used by {} on the same segment", p.addr.str(), who,
                                    it->second));
    };
    for (auto& n : lab_.nodes)
      for (auto& i : n.interfaces)
        for (auto& a : i.addresses) claim(segment_of(n, i), a, n.name + ":" + i.name, i.pos);
    for (auto& b : lab_.bridges)
      if (b.host)
        for (auto& a : b.host->addresses) claim("bridge:" + b.name, a, "host side of bridge " + b.name, b.host->pos);
  }

  void bridges() {
    std::vector<size_t> ports(lab_.bridges.size(), 0);
    for (auto& l : lab_.links)
      for (auto& e : l.ends)
        if (e.bridge_index >= 0) ++ports[static_cast<size_t>(e.bridge_index)];
    std::set<std::string> host_ifaces;
    for (size_t i = 0; i < lab_.bridges.size(); ++i) {
      auto& b = lab_.bridges[i];
      if (!ports[i] && !b.host) ctx_.diags.warning(b.pos, fmt::format("bridge {} has no links", b.name));
      // The kernel numbers a bridge's ports in 10 bits (BR_MAX_PORTS): the
      // 1024th enslave fails with EXFULL. Say so before building anything.
      size_t total = ports[i] + (b.host ? 1 : 0);
      if (total > kMaxBridgePorts)
        ctx_.error(b.pos, fmt::format("bridge {} has {} ports; a Linux bridge takes at most {} (split the LAN, "
                                      "e.g. `netlab generate tree` or `clos`)",
                                      b.name, total, kMaxBridgePorts));
      if (!b.host) continue;
      if (b.host->iface.empty()) {
        std::string name = lab_.name + "-" + b.name;
        if (name.size() > kMaxIfaceName) {
          ctx_.error(b.host->pos, fmt::format("bridge {}: the host-side interface name \"{}\" is longer than 15 bytes",
                                              b.name, name),
                     "set host = { address = ..., iface = \"NAME\" }");
          continue;
        }
        b.host->iface = name;
      } else if (auto problem = iface_problem(b.host->iface, "host iface"); !problem.empty()) {
        ctx_.error(b.host->pos, fmt::format("bridge {}: {}", b.name, problem));
      }
      if (!host_ifaces.insert(b.host->iface).second)
        ctx_.error(b.host->pos, fmt::format("bridge {}: host iface \"{}\" is used twice", b.name, b.host->iface));
    }
  }

  void checks() {
    for (auto& c : lab_.checks) {
      auto it = node_index_.find(c.from);
      if (!c.from.empty() && it == node_index_.end()) {
        ctx_.error(c.pos, fmt::format("check \"{}\": unknown node \"{}\" in from", c.name, c.from), hint(c.from, node_names()));
      } else if (it != node_index_.end()) {
        c.from_index = it->second;
      }
      if (c.expect_output) {
        if (auto why = OutputPattern::problem(*c.expect_output); !why.empty())
          ctx_.error(c.pos, fmt::format("check \"{}\": output \"{}\" is not a valid regular expression: {}", c.name,
                                        shorten(*c.expect_output), why));
      }
      if (c.to.empty() || c.kind == CheckKind::kCommand) continue;
      IpAddress scratch;
      bool is_addr = parse_address(c.to).has_value();
      (void)scratch;
      if (!is_addr && !node_index_.count(c.to))
        ctx_.error(c.pos, fmt::format("check \"{}\": \"{}\" in to is neither an address nor a node", c.name, c.to),
                   hint(c.to, node_names()));
      if (c.kind == CheckKind::kRoute && !is_addr)
        ctx_.error(c.pos, fmt::format("check \"{}\": a route check needs an address in to", c.name));
    }
  }

  void host() {
    for (auto& h : lab_.host.nat) {
      auto it = bridge_index_.find(h.from_bridge);
      if (it == bridge_index_.end()) {
        ctx_.error(h.pos, fmt::format("host nat: unknown bridge \"{}\"", h.from_bridge), hint(h.from_bridge, bridge_names()));
        continue;
      }
      h.bridge_index = it->second;
      if (!lab_.bridges[it->second].host)
        ctx_.error(h.pos, fmt::format("host nat: bridge {} is not attached to the host (give it host = \"ADDR/LEN\")",
                                      h.from_bridge));
    }
  }

  // Multi-host (docs/multi-host.md): host names, distinct underlay addresses,
  // an ssh target that cannot be read as an option, pins to known hosts.
  void hosts() {
    std::unordered_map<std::string, int> by_name;
    std::map<IpAddress, std::string> by_address;
    for (size_t i = 0; i < lab_.hosts.size(); ++i) {
      auto& h = lab_.hosts[i];
      // A host's name follows a node's rules ([a-z0-9][a-z0-9-]*, short).
      if (auto problem = name_problem(NameKind::kNode, h.name); !problem.empty()) {
        if (problem.starts_with("node ")) problem.replace(0, 5, "host ");
        ctx_.error(h.pos, problem);
      }
      by_name[h.name] = static_cast<int>(i);
      if (h.address.family) {
        auto [it, fresh] = by_address.emplace(h.address, h.name);
        if (!fresh)
          ctx_.error(h.address_pos, fmt::format("host {}: address {} is already the address of host {}", h.name,
                                                h.address.str(), it->second));
        if (h.address.family != lab_.hosts[0].address.family && lab_.hosts[0].address.family)
          ctx_.error(h.address_pos, fmt::format("host {}: address {} is not of the same family as host {}'s ({})",
                                                h.name, h.address.str(), lab_.hosts[0].name,
                                                lab_.hosts[0].address.str()));
      }
      bool ssh_ok = true;
      for (char c : h.ssh)
        ssh_ok = ssh_ok && (std::isalnum(static_cast<unsigned char>(c)) || std::strchr("@._-:[]", c));
      if (!h.ssh.empty() && (!ssh_ok || h.ssh.front() == '-'))
        ctx_.error(h.pos, fmt::format("host {}: ssh target \"{}\" must be \"[user@]host\" (letters, digits, "
                                      "'@', '.', '_', '-', ':', '[', ']'; not starting with '-')",
                                      h.name, h.ssh));
    }
    for (auto& n : lab_.nodes) {
      if (n.host.empty()) continue;
      auto it = by_name.find(n.host);
      if (it == by_name.end()) {
        std::vector<std::string> names;
        for (auto& h : lab_.hosts) names.push_back(h.name);
        ctx_.error(n.host_pos,
                   lab_.hosts.empty()
                       ? fmt::format("node {}: host \"{}\", but the topology has no [hosts.NAME] tables", n.name, n.host)
                       : fmt::format("node {}: unknown host \"{}\"", n.name, n.host),
                   hint(n.host, names));
        continue;
      }
      n.host_index = it->second;
    }
    if (lab_.hosts.empty()) return;
    for (auto& b : lab_.bridges)
      if (b.host)
        ctx_.error(b.host->pos, fmt::format("bridge {}: attaching a bridge to the host is not supported in a "
                                            "multi-host lab (which host?)", b.name));
    if (!lab_.host.nat.empty())
      ctx_.error(lab_.host.nat[0].pos, "host nat is not supported in a multi-host lab");
  }

  std::string hint(const std::string& word, const std::vector<std::string>& candidates) {
    std::string best = closest_match(word, candidates);
    return best.empty() ? "" : fmt::format("did you mean \"{}\"?", best);
  }
  std::vector<std::string> node_names() const {
    std::vector<std::string> v;
    for (auto& n : lab_.nodes) v.push_back(n.name);
    return v;
  }
  std::vector<std::string> bridge_names() const {
    std::vector<std::string> v;
    for (auto& b : lab_.bridges) v.push_back(b.name);
    return v;
  }
  static std::vector<std::string> iface_names(const Node& n) {
    std::vector<std::string> v;
    for (auto& i : n.interfaces) v.push_back(i.name);
    return v;
  }

  Context& ctx_;
  Lab& lab_;
  std::unordered_map<std::string, int> node_index_;
  std::unordered_map<std::string, int> bridge_index_;
  std::set<std::string> mentioned_;  // "node:iface" named by any link endpoint
};

}  // namespace

void resolve_and_validate(Context& ctx, Lab& lab) { Validator(ctx, lab).run(); }

}  // namespace netlab::topo::detail
