// The raw parse: toml++ → model. Every key is checked against the keys its table
// allows (with a "did you mean" for near misses), every value against its type
// and its value parser; problems become diagnostics at the key or value that
// caused them, and parsing goes on so that the user sees all of them at once.
// toml++ is included here only: it is a heavy header.
#include <toml++/toml.h>

#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <fmt/format.h>

#include "topology/parse.hpp"

#include "image/reference.hpp"
#include "topology/parse_context.hpp"
#include "topology/sysctls.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

namespace netlab::topo {

namespace detail {
namespace {

using Keys = std::vector<std::string>;

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

class Parser {
 public:
  Parser(Context& ctx) : ctx_(ctx) {}

  SourcePos at(const toml::source_region& r) const {
    return {ctx_.file, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
  }
  SourcePos at(const toml::node& n) const { return at(n.source()); }
  SourcePos at(const toml::key& k) const { return at(k.source()); }

  void wrong_type(const toml::node& n, const std::string& what, const char* expected) {
    ctx_.error(at(n), fmt::format("{}: expected {}, got {}", what, expected, type_name(n)));
  }

  /// Reports keys of `t` not in `allowed`; returns nothing.
  void check_keys(const toml::table& t, const Keys& allowed, const std::string& where) {
    for (auto&& [k, v] : t) {
      std::string key(k.str());
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string best = closest_match(key, allowed);
      ctx_.error(at(k), fmt::format("unknown key \"{}\" in {}", key, where),
                 best.empty() ? "" : fmt::format("did you mean \"{}\"?", best));
    }
  }

  std::optional<std::string> str(const toml::node& n, const std::string& what) {
    if (auto s = n.as_string()) return s->get();
    wrong_type(n, what, "a string");
    return std::nullopt;
  }
  std::optional<int64_t> integer(const toml::node& n, const std::string& what) {
    if (auto i = n.as_integer()) return i->get();
    wrong_type(n, what, "an integer");
    return std::nullopt;
  }
  std::optional<bool> boolean(const toml::node& n, const std::string& what) {
    if (auto b = n.as_boolean()) return b->get();
    wrong_type(n, what, "a boolean");
    return std::nullopt;
  }
  std::optional<double> number(const toml::node& n, const std::string& what) {
    if (auto f = n.as_floating_point()) return f->get();
    if (auto i = n.as_integer()) return static_cast<double>(i->get());
    wrong_type(n, what, "a number");
    return std::nullopt;
  }
  /// A scalar rendered as text (sysctls, env): strings, integers, booleans.
  std::optional<std::string> scalar_text(const toml::node& n, const std::string& what) {
    if (auto s = n.as_string()) return s->get();
    if (auto i = n.as_integer()) return std::to_string(i->get());
    if (auto b = n.as_boolean()) return std::string(b->get() ? "1" : "0");
    wrong_type(n, what, "a string, integer or boolean");
    return std::nullopt;
  }

  template <typename T, typename Fn>
  std::optional<T> value(const toml::node& n, const std::string& what, Fn parse) {
    auto s = str(n, what);
    if (!s) return std::nullopt;
    std::string why;
    auto v = parse(*s, &why);
    if (!v) ctx_.error(at(n), fmt::format("{}: {}", what, why));
    return v;
  }

  std::optional<uint32_t> mtu(const toml::node& n, const std::string& what) {
    auto v = integer(n, what);
    if (!v) return std::nullopt;
    if (*v < 68 || *v > 65535) {
      ctx_.error(at(n), fmt::format("{}: mtu must be 68..65535 (got {})", what, *v));
      return std::nullopt;
    }
    return static_cast<uint32_t>(*v);
  }

  std::vector<Prefix> addresses(const toml::node& n, const std::string& what) {
    std::vector<Prefix> out;
    auto one = [&](const toml::node& x) {
      if (auto p = value<Prefix>(x, what, parse_prefix)) {
        if (p->is_default)
          ctx_.error(at(x), fmt::format("{}: \"default\" is not an interface address", what));
        else
          out.push_back(*p);
      }
    };
    if (auto arr = n.as_array()) {
      for (auto& x : *arr) one(x);
    } else if (n.is_string()) {
      one(n);
    } else {
      wrong_type(n, what, "an address or a list of addresses");
    }
    return out;
  }

  std::optional<Command> command(const toml::node& n, const std::string& what) {
    Command c;
    if (auto s = n.as_string()) {
      c.shell = true;
      c.text = s->get();
      c.argv = {"/bin/sh", "-c", c.text};
      if (trim(c.text).empty()) {
        ctx_.error(at(n), fmt::format("{}: empty command", what));
        return std::nullopt;
      }
      return c;
    }
    if (auto arr = n.as_array()) {
      for (auto& x : *arr)
        if (auto s = str(x, what)) c.argv.push_back(*s);
      if (c.argv.empty()) {
        ctx_.error(at(n), fmt::format("{}: empty command", what));
        return std::nullopt;
      }
      c.text = join(c.argv, " ");
      return c;
    }
    wrong_type(n, what, "a command (a string, or an array of strings)");
    return std::nullopt;
  }

  // Flattens nested tables: [sysctls] net.ipv4.ip_forward = 1 is a nested table
  // in TOML. Keys a node may not set (host-global, malformed) are refused here,
  // at the key, for [defaults] once and for each node that writes them.
  void sysctls(const toml::table& t, const std::string& prefix, const std::string& what,
               std::map<std::string, std::string>& out) {
    for (auto&& [k, v] : t) {
      std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
      if (auto sub = v.as_table()) {
        sysctls(*sub, key, what, out);
      } else if (std::string why = sysctl_refusal(key); !why.empty()) {
        ctx_.error(at(k), fmt::format("sysctl \"{}\" {}", key, why));
      } else if (auto s = scalar_text(v, what + "." + key)) {
        out[key] = *s;
      }
    }
  }

  Impairments impairments(const toml::table& t, const std::string& where, bool allow_link_keys) {
    Keys keys = {"delay", "jitter", "distribution", "loss", "rate", "corrupt", "duplicate", "reorder"};
    if (allow_link_keys) keys.insert(keys.end(), {"endpoints", "mtu", "egress"});
    check_keys(t, keys, where);
    Impairments im;
    if (auto n = t.get("delay")) im.delay = value<Duration>(*n, where + " delay", parse_duration);
    if (auto n = t.get("jitter")) im.jitter = value<Duration>(*n, where + " jitter", parse_duration);
    if (auto n = t.get("distribution")) {
      // The tables iproute2 ships (tc's `distribution NAME`).
      static const std::vector<std::string> kDistributions = {"normal", "pareto", "paretonormal", "experimental"};
      if (auto d = str(*n, where + " distribution")) {
        if (std::find(kDistributions.begin(), kDistributions.end(), *d) == kDistributions.end())
          ctx_.error(at(*n), fmt::format("{} distribution: \"{}\" is not one of normal, pareto, paretonormal, experimental",
                                         where, *d));
        else
          im.distribution = *d;
      }
    }
    if (auto n = t.get("loss")) im.loss = value<Percent>(*n, where + " loss", parse_percent);
    if (auto n = t.get("rate")) im.rate = value<Rate>(*n, where + " rate", parse_rate);
    if (auto n = t.get("corrupt")) im.corrupt = value<Percent>(*n, where + " corrupt", parse_percent);
    if (auto n = t.get("duplicate"))
      im.duplicate = value<Percent>(*n, where + " duplicate", parse_percent);
    if (auto n = t.get("reorder")) im.reorder = value<Percent>(*n, where + " reorder", parse_percent);
    auto check_duration = [&](const char* key, const std::optional<Duration>& d) {
      if (d && d->ns >= 60'000'000'000ull)
        ctx_.error(at(*t.get(key)), fmt::format("{} {}: must be less than 60s", where, key));
    };
    check_duration("delay", im.delay);
    check_duration("jitter", im.jitter);
    if (im.jitter && !im.delay)
      ctx_.error(at(*t.get("jitter")), fmt::format("{}: jitter needs a delay", where));
    if (im.distribution && !im.jitter)
      ctx_.error(at(*t.get("distribution")), fmt::format("{}: distribution shapes the jitter: it needs a jitter", where));
    if (im.reorder && !im.delay)
      ctx_.error(at(*t.get("reorder")), fmt::format("{}: reorder needs a delay", where));
    return im;
  }

  // ---- nodes ----

  // "oci:PATH[:TAG]", "oci-archive:FILE", "docker-archive:FILE" or "[REGISTRY/]REPO[:TAG|@DIGEST]";
  // an error points at the offending character of the string.
  void oci_image(const toml::node& n, const std::string& s, const std::string& where, Node& node) {
    std::string why;
    size_t offset = 0;
    if (image::parse_reference(s, why, offset)) {
      node.image = {ImageKind::kOci, s};
      return;
    }
    SourcePos pos = at(n);
    if (n.source().begin.line == n.source().end.line) pos.col += 1 + static_cast<int>(offset);  // after the quote
    ctx_.error(pos, fmt::format("{} image \"{}\": {}", where, s, why));
  }

  void limits_and_image(const toml::table& t, const std::string& where, Node& node) {
    if (auto n = t.get("image")) {
      if (auto s = str(*n, where + " image")) {
        if (*s == "busybox") node.image = {ImageKind::kBusybox, ""};
        else if (*s == "host") node.image = {ImageKind::kHost, ""};
        else if (!s->empty() && s->front() == '/') node.image = {ImageKind::kPath, *s};
        else if (s->empty())
          ctx_.error(at(*n), fmt::format("{} image: \"\" is not busybox, host, an absolute path or an image reference", where));
        else
          oci_image(*n, *s, where, node);
      }
    }
    if (auto n = t.get("cpus")) {
      if (auto v = number(*n, where + " cpus")) {
        std::string why;
        if (auto c = parse_cpus(*v, &why)) node.limits.cpus = c;
        else ctx_.error(at(*n), fmt::format("{}: {}", where, why));
      }
    }
    if (auto n = t.get("memory")) {
      if (auto v = value<Size>(*n, where + " memory", parse_size)) {
        if (v->bytes < 4ull * 1024 * 1024)
          ctx_.error(at(*n), fmt::format("{} memory: at least 4M is needed (got {})", where, v->str()));
        else
          node.limits.memory = v;
      }
    }
    if (auto n = t.get("pids")) {
      if (auto v = integer(*n, where + " pids")) {
        if (*v < 8 || *v > 4194304)
          ctx_.error(at(*n), fmt::format("{} pids: must be 8..4194304 (got {})", where, *v));
        else
          node.limits.pids = static_cast<uint64_t>(*v);
      }
    }
    if (auto n = t.get("cpu_weight")) {
      if (auto v = integer(*n, where + " cpu_weight")) {
        if (*v < 1 || *v > 10000)
          ctx_.error(at(*n), fmt::format("{} cpu_weight: must be 1..10000 (got {})", where, *v));
        else
          node.limits.cpu_weight = static_cast<uint32_t>(*v);
      }
    }
    if (auto n = t.get("env")) {
      if (auto tbl = n->as_table()) {
        for (auto&& [k, v] : *tbl)
          if (auto s = scalar_text(v, where + " env." + std::string(k.str()))) node.env[std::string(k.str())] = *s;
      } else {
        wrong_type(*n, where + " env", "a table");
      }
    }
    if (auto n = t.get("sysctls")) {
      if (auto tbl = n->as_table()) sysctls(*tbl, "", where + " sysctls", node.sysctls);
      else wrong_type(*n, where + " sysctls", "a table");
    }
  }

  void interfaces(const toml::node& n, Node& node) {
    auto tbl = n.as_table();
    if (!tbl) return wrong_type(n, fmt::format("node {} interfaces", node.name), "a table");
    for (auto&& [k, v] : *tbl) {
      Interface iface;
      iface.name = std::string(k.str());
      iface.pos = at(k);
      std::string where = fmt::format("interface {}", iface.name);
      if (auto t = v.as_table()) {
        check_keys(*t, {"address", "mac", "mtu"}, where);
        if (auto a = t->get("address")) iface.addresses = addresses(*a, where + " address");
        if (auto m = t->get("mac")) {
          if (auto s = str(*m, where + " mac")) {
            if (!valid_mac(*s))
              ctx_.error(at(*m), fmt::format("{} mac: \"{}\" is not a unicast MAC address like 02:00:00:00:00:01", where, *s));
            else
              iface.mac = *s;
          }
        }
        if (auto m = t->get("mtu")) iface.mtu = mtu(*m, where + " mtu");
      } else {
        iface.addresses = addresses(v, where);
      }
      node.interfaces.push_back(std::move(iface));
    }
    std::stable_sort(node.interfaces.begin(), node.interfaces.end(), [](const Interface& a, const Interface& b) {
      return std::tie(a.pos.line, a.pos.col) < std::tie(b.pos.line, b.pos.col);
    });
  }

  static bool valid_mac(const std::string& s) {
    if (s.size() != 17) return false;
    for (size_t i = 0; i < 17; ++i) {
      if (i % 3 == 2) {
        if (s[i] != ':') return false;
      } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
        return false;
      }
    }
    int first = std::stoi(s.substr(0, 2), nullptr, 16);
    return (first & 1) == 0;  // multicast MACs cannot be an interface's own
  }

  void routes(const toml::node& n, Node& node) {
    auto arr = n.as_array();
    if (!arr) return wrong_type(n, fmt::format("node {} routes", node.name), "an array of tables");
    for (auto& x : *arr) {
      auto t = x.as_table();
      if (!t) {
        wrong_type(x, fmt::format("node {} route", node.name), "a table like { to = \"default\", via = \"ADDR\" }");
        continue;
      }
      std::string where = fmt::format("route of node {}", node.name);
      check_keys(*t, {"to", "via", "dev", "metric"}, where);
      Route r;
      r.pos = at(x);
      if (auto v = t->get("to")) {
        if (auto p = value<Prefix>(*v, where + " to", parse_prefix)) r.to = *p;
        else continue;
      } else {
        ctx_.error(at(x), fmt::format("{}: missing \"to\"", where));
        continue;
      }
      if (auto v = t->get("via")) r.via = value<IpAddress>(*v, where + " via", parse_address);
      if (auto v = t->get("dev")) r.dev = str(*v, where + " dev").value_or("");
      if (auto v = t->get("metric")) {
        if (auto m = integer(*v, where + " metric")) {
          if (*m < 0 || *m > 0xffffffffll) ctx_.error(at(*v), fmt::format("{} metric: must be 0..4294967295", where));
          else r.metric = static_cast<uint32_t>(*m);
        }
      }
      if (!t->get("via") && !t->get("dev")) {
        ctx_.error(at(x), fmt::format("{} to {}: needs \"via\" or \"dev\"", where, r.to.str()));
        continue;
      }
      if (r.via && !r.to.is_default && r.via->family != r.to.addr.family) {
        ctx_.error(at(x), fmt::format("{} to {}: via {} is of another address family", where, r.to.str(), r.via->str()));
        continue;
      }
      if (r.to.is_default && r.via && r.via->is_v6()) r.to.addr.family = AF_INET6;
      node.routes.push_back(std::move(r));
    }
  }

  void nat(const toml::node& n, Node& node) {
    auto arr = n.as_array();
    if (!arr) return wrong_type(n, fmt::format("node {} nat", node.name), "an array of tables");
    for (auto& x : *arr) {
      auto t = x.as_table();
      std::string where = fmt::format("nat rule of node {}", node.name);
      if (!t) {
        wrong_type(x, where, "a table like { masquerade = \"eth1\" }");
        continue;
      }
      check_keys(*t, {"masquerade", "snat", "dnat"}, where);
      if (t->size() != 1) {
        ctx_.error(at(x), fmt::format("{}: needs exactly one of masquerade, snat, dnat", where));
        continue;
      }
      NatRule r;
      r.pos = at(x);
      if (auto v = t->get("masquerade")) {
        r.kind = NatKind::kMasquerade;
        if (auto s = str(*v, where + " masquerade")) r.out_iface = *s;
        else continue;
      } else if (auto v = t->get("snat")) {
        r.kind = NatKind::kSnat;
        auto st = v->as_table();
        if (!st) {
          wrong_type(*v, where + " snat", "a table like { out = \"eth1\", to = \"ADDR\" }");
          continue;
        }
        check_keys(*st, {"out", "to"}, where + " snat");
        if (auto o = st->get("out")) r.out_iface = str(*o, where + " snat out").value_or("");
        else ctx_.error(at(*v), fmt::format("{} snat: missing \"out\"", where));
        if (auto to = st->get("to")) {
          if (auto s = str(*to, where + " snat to")) {
            auto dash = s->find('-');
            r.to = value_text<IpAddress>(*to, where + " snat to", s->substr(0, dash), parse_address);
            if (dash != std::string::npos) {
              r.to_end = value_text<IpAddress>(*to, where + " snat to", s->substr(dash + 1), parse_address);
              if (r.to && r.to_end && (r.to->family != r.to_end->family || *r.to_end < *r.to))
                ctx_.error(at(*to), fmt::format("{} snat to: \"{}\" is not an address range", where, *s));
            }
          }
        } else {
          ctx_.error(at(*v), fmt::format("{} snat: missing \"to\"", where));
        }
      } else if (auto v = t->get("dnat")) {
        r.kind = NatKind::kDnat;
        r.proto = "tcp";
        auto dt = v->as_table();
        if (!dt) {
          wrong_type(*v, where + " dnat", "a table like { in = \"eth1\", port = 8080, to = \"ADDR:PORT\" }");
          continue;
        }
        check_keys(*dt, {"in", "port", "proto", "to"}, where + " dnat");
        if (auto o = dt->get("in")) r.in_iface = str(*o, where + " dnat in").value_or("");
        else ctx_.error(at(*v), fmt::format("{} dnat: missing \"in\"", where));
        if (auto p = dt->get("port")) r.port = port(*p, where + " dnat port");
        else ctx_.error(at(*v), fmt::format("{} dnat: missing \"port\"", where));
        if (auto p = dt->get("proto")) {
          if (auto s = str(*p, where + " dnat proto")) {
            if (*s != "tcp" && *s != "udp") ctx_.error(at(*p), fmt::format("{} dnat proto: must be \"tcp\" or \"udp\"", where));
            else r.proto = *s;
          }
        }
        if (auto to = dt->get("to")) {
          if (auto s = str(*to, where + " dnat to")) dnat_target(*to, *s, where, r);
        } else {
          ctx_.error(at(*v), fmt::format("{} dnat: missing \"to\"", where));
        }
      }
      node.nat.push_back(std::move(r));
    }
  }

  template <typename T, typename Fn>
  std::optional<T> value_text(const toml::node& n, const std::string& what, const std::string& text, Fn parse) {
    std::string why;
    auto v = parse(text, &why);
    if (!v) ctx_.error(at(n), fmt::format("{}: {}", what, why));
    return v;
  }

  uint16_t port(const toml::node& n, const std::string& what) {
    auto v = integer(n, what);
    if (!v) return 0;
    if (*v < 1 || *v > 65535) {
      ctx_.error(at(n), fmt::format("{}: must be 1..65535 (got {})", what, *v));
      return 0;
    }
    return static_cast<uint16_t>(*v);
  }

  // "ADDR", "ADDR:PORT", "[V6]:PORT" or a bare IPv6 address.
  void dnat_target(const toml::node& n, const std::string& s, const std::string& where, NatRule& r) {
    std::string addr = s, port_text;
    if (!s.empty() && s.front() == '[') {
      auto close = s.find(']');
      addr = s.substr(1, close == std::string::npos ? std::string::npos : close - 1);
      if (close != std::string::npos && close + 1 < s.size() && s[close + 1] == ':') port_text = s.substr(close + 2);
    } else if (std::count(s.begin(), s.end(), ':') == 1) {
      addr = s.substr(0, s.find(':'));
      port_text = s.substr(s.find(':') + 1);
    }
    r.to = value_text<IpAddress>(n, where + " dnat to", addr, parse_address);
    if (!port_text.empty()) {
      int p = 0;
      auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
      if (ec != std::errc() || ptr != port_text.data() + port_text.size() || p < 1 || p > 65535)
        ctx_.error(at(n), fmt::format("{} dnat to: port \"{}\" must be 1..65535", where, port_text));
      else
        r.to_port = static_cast<uint16_t>(p);
    }
  }

  void firewall(const toml::node& n, Node& node) {
    auto t = n.as_table();
    std::string where = fmt::format("firewall of node {}", node.name);
    if (!t) return wrong_type(n, where, "a table");
    check_keys(*t, {"input", "forward", "allow", "open"}, where);
    Firewall fw;
    fw.pos = at(n);
    auto policy = [&](const char* key, Policy& out) {
      if (auto v = t->get(key)) {
        if (auto s = str(*v, where + " " + key)) {
          if (*s == "accept") out = Policy::kAccept;
          else if (*s == "drop") out = Policy::kDrop;
          else ctx_.error(at(*v), fmt::format("{} {}: must be \"accept\" or \"drop\"", where, key));
        }
      }
    };
    policy("input", fw.input);
    policy("forward", fw.forward);
    if (auto v = t->get("allow")) {
      if (auto arr = v->as_array()) {
        for (auto& x : *arr) {
          auto s = str(x, where + " allow");
          if (!s) continue;
          if (s->find('/') != std::string::npos || s->find(':') != std::string::npos || (!s->empty() && std::isdigit(static_cast<unsigned char>(s->front())))) {
            std::string text = *s;
            if (text.find('/') == std::string::npos) {
              if (auto a = value_text<IpAddress>(x, where + " allow", text, parse_address))
                fw.allow_from.push_back(Prefix{*a, a->is_v4() ? 32 : 128, false});
            } else if (auto p = value_text<Prefix>(x, where + " allow", text, parse_prefix)) {
              fw.allow_from.push_back(*p);
            }
          } else {
            fw.allow_ifaces.push_back(*s);
          }
        }
      } else {
        wrong_type(*v, where + " allow", "an array of interface names and prefixes");
      }
    }
    if (auto v = t->get("open")) {
      if (auto arr = v->as_array()) {
        for (auto& x : *arr) {
          auto s = str(x, where + " open");
          if (!s) continue;
          auto slash = s->find('/');
          std::string proto = s->substr(0, slash);
          int p = 0;
          std::string num = slash == std::string::npos ? "" : s->substr(slash + 1);
          auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), p);
          if ((proto != "tcp" && proto != "udp") || num.empty() || ec != std::errc() ||
              ptr != num.data() + num.size() || p < 1 || p > 65535) {
            ctx_.error(at(x), fmt::format("{} open: \"{}\" is not like \"tcp/22\" or \"udp/53\"", where, *s));
            continue;
          }
          fw.open_ports.push_back({proto, static_cast<uint16_t>(p)});
        }
      } else {
        wrong_type(*v, where + " open", "an array like [\"tcp/22\"]");
      }
    }
    node.firewall = fw;
  }

  // `privileged = true` gives up containment (no user namespace). `userns`,
  // from before containment was the default, still reads: false = privileged.
  void privileged(const toml::table& t, const std::string& where, Node& node) {
    auto p = t.get("privileged");
    auto u = t.get("userns");
    if (p && u) ctx_.error(at(*u), fmt::format("{}: userns and privileged together; keep privileged (userns = false is privileged = true)", where));
    if (p) {
      if (auto b = boolean(*p, where + " privileged")) node.privileged = *b;
    } else if (u) {
      if (auto b = boolean(*u, where + " userns")) node.privileged = !*b;
    }
  }

  void node(const toml::key& key, const toml::node& n, const Node& defaults, Lab& lab) {
    Node node = defaults;
    node.name = std::string(key.str());
    node.pos = at(key);
    std::string where = fmt::format("node {}", node.name);
    auto t = n.as_table();
    if (!t) return wrong_type(n, where, "a table");
    check_keys(*t, {"image", "hostname", "cpus", "memory", "pids", "cpu_weight", "forwarding",
                    "interfaces", "routes", "nat", "firewall", "sysctls", "exec", "cmd", "env",
                    "binds", "userns", "privileged", "user", "ipv6", "host", "sysfs"},
               where);
    limits_and_image(*t, where, node);
    node.hostname = node.name;
    if (auto v = t->get("hostname")) node.hostname = str(*v, where + " hostname").value_or(node.name);
    if (auto v = t->get("forwarding")) node.forwarding = boolean(*v, where + " forwarding").value_or(false);
    privileged(*t, where, node);
    if (auto v = t->get("ipv6")) node.ipv6 = boolean(*v, where + " ipv6");
    if (auto v = t->get("sysfs")) node.sysfs = boolean(*v, where + " sysfs").value_or(node.sysfs);
    if (auto v = t->get("host")) {
      node.host = str(*v, where + " host").value_or("");
      node.host_pos = at(*v);
    }
    if (auto v = t->get("interfaces")) interfaces(*v, node);
    if (auto v = t->get("routes")) routes(*v, node);
    if (auto v = t->get("nat")) nat(*v, node);
    if (auto v = t->get("firewall")) firewall(*v, node);
    if (auto v = t->get("exec")) {
      if (auto arr = v->as_array()) {
        for (auto& x : *arr)
          if (auto c = command(x, where + " exec")) node.exec.push_back(*c);
      } else if (auto c = command(*v, where + " exec")) {
        node.exec.push_back(*c);
      }
    }
    if (auto v = t->get("cmd")) node.cmd = command(*v, where + " cmd");
    if (auto v = t->get("binds")) {
      if (auto arr = v->as_array()) {
        for (auto& x : *arr) bind(x, where, node);
      } else {
        wrong_type(*v, where + " binds", "an array of \"host/path:node/path[:ro]\"");
      }
    }
    if (auto v = t->get("user")) {
      if (auto s = str(*v, where + " user")) {
        auto parts = split(*s, ':');
        uint32_t ids[2] = {0, 0};
        bool ok = parts.size() == 2;
        for (size_t i = 0; ok && i < 2; ++i) {
          auto [ptr, ec] = std::from_chars(parts[i].data(), parts[i].data() + parts[i].size(), ids[i]);
          ok = !parts[i].empty() && ec == std::errc() && ptr == parts[i].data() + parts[i].size();
        }
        if (!ok) ctx_.error(at(*v), fmt::format("{} user: \"{}\" is not numeric \"UID:GID\"", where, *s));
        else node.user = UserSpec{ids[0], ids[1]};
      }
    }
    lab.nodes.push_back(std::move(node));
  }

  void bind(const toml::node& x, const std::string& where, Node& node) {
    auto s = str(x, where + " binds");
    if (!s) return;
    auto parts = split(*s, ':');
    Bind b;
    b.pos = at(x);
    bool ok = parts.size() == 2 || (parts.size() == 3 && (parts[2] == "ro" || parts[2] == "rw"));
    if (ok) {
      b.host_path = parts[0];
      b.node_path = parts[1];
      b.read_only = parts.size() == 3 && parts[2] == "ro";
      ok = !b.host_path.empty() && !b.node_path.empty() && b.node_path.front() == '/';
    }
    if (!ok) {
      ctx_.error(at(x), fmt::format("{} binds: \"{}\" is not \"host/path:/node/path[:ro]\"", where, *s));
      return;
    }
    // A relative source belongs to the lab's directory: the file's, wherever netlab runs.
    if (b.host_path.front() != '/') {
      std::error_code ec;
      auto base = std::filesystem::path(ctx_.file).parent_path();
      auto abs = std::filesystem::absolute(base.empty() ? "." : base, ec);
      b.host_path = ((ec ? base : abs) / b.host_path).lexically_normal().string();
      while (b.host_path.size() > 1 && b.host_path.back() == '/') b.host_path.pop_back();
    }
    node.binds.push_back(b);
  }

  // ---- bridges, links, checks, host ----

  void bridge(const toml::key& key, const toml::node& n, Lab& lab) {
    Bridge b;
    b.name = std::string(key.str());
    b.pos = at(key);
    std::string where = fmt::format("bridge {}", b.name);
    auto t = n.as_table();
    if (!t) return wrong_type(n, where, "a table");
    check_keys(*t, {"mtu", "host"}, where);
    if (auto v = t->get("mtu")) b.mtu = mtu(*v, where + " mtu");
    if (auto v = t->get("host")) {
      HostAttach h;
      h.pos = at(*v);
      if (auto ht = v->as_table()) {
        check_keys(*ht, {"address", "iface"}, where + " host");
        if (auto a = ht->get("address")) h.addresses = addresses(*a, where + " host address");
        if (auto i = ht->get("iface")) h.iface = str(*i, where + " host iface").value_or("");
      } else {
        h.addresses = addresses(*v, where + " host");
      }
      b.host = h;
    }
    lab.bridges.push_back(std::move(b));
  }

  void link(const toml::node& n, Lab& lab) {
    auto t = n.as_table();
    if (!t) return wrong_type(n, "link", "a table with endpoints");
    Link l;
    l.pos = at(n);
    Impairments both = impairments(*t, "link", /*allow_link_keys=*/true);
    l.egress = {both, both};
    if (auto v = t->get("mtu")) l.mtu = mtu(*v, "link mtu");
    auto ep = t->get("endpoints");
    if (!ep) {
      ctx_.error(at(n), "link: missing \"endpoints\"");
      return;
    }
    auto arr = ep->as_array();
    if (!arr) return wrong_type(*ep, "link endpoints", "an array of two endpoints");
    if (arr->size() != 2) {
      ctx_.error(at(*ep), fmt::format("link endpoints: a link has exactly two endpoints (got {})", arr->size()));
      return;
    }
    for (size_t i = 0; i < 2; ++i) {
      auto s = str((*arr)[i], "link endpoint");
      if (!s) return;
      Endpoint& e = l.ends[i];
      e.pos = at((*arr)[i]);
      auto colon = s->find(':');
      if (colon == std::string::npos) {
        e.kind = Endpoint::Kind::kBridge;
        e.bridge = *s;
      } else {
        e.kind = Endpoint::Kind::kInterface;
        e.node = s->substr(0, colon);
        e.iface = s->substr(colon + 1);
        if (e.node.empty() || e.iface.empty()) {
          ctx_.error(at((*arr)[i]), fmt::format("link endpoint \"{}\" is not \"node:interface\" or a bridge name", *s));
          return;
        }
      }
    }
    if (auto eg = t->get("egress")) {
      if (auto et = eg->as_table()) {
        for (auto&& [k, v] : *et) {
          std::string name(k.str());
          int which = name == l.ends[0].str() ? 0 : name == l.ends[1].str() ? 1 : -1;
          if (which < 0) {
            ctx_.error(at(k), fmt::format("link egress: \"{}\" is not an endpoint of this link ({} or {})", name,
                                          l.ends[0].str(), l.ends[1].str()));
            continue;
          }
          if (l.ends[which].kind == Endpoint::Kind::kBridge) {
            ctx_.error(at(k), fmt::format("link egress: \"{}\" is a bridge; impairments apply to node interfaces", name));
            continue;
          }
          if (auto vt = v.as_table()) {
            Impairments over = impairments(*vt, "link egress " + name, false);
            Impairments& dst = l.egress[which];
            if (over.delay) dst.delay = over.delay;
            if (over.jitter) dst.jitter = over.jitter;
            if (over.distribution) dst.distribution = over.distribution;
            if (over.loss) dst.loss = over.loss;
            if (over.rate) dst.rate = over.rate;
            if (over.corrupt) dst.corrupt = over.corrupt;
            if (over.duplicate) dst.duplicate = over.duplicate;
            if (over.reorder) dst.reorder = over.reorder;
          } else {
            wrong_type(v, "link egress " + name, "a table of impairments");
          }
        }
      } else {
        wrong_type(*eg, "link egress", "a table keyed by endpoint");
      }
    }
    lab.links.push_back(std::move(l));
  }

  void check(const toml::node& n, Lab& lab) {
    auto t = n.as_table();
    if (!t) return wrong_type(n, "check", "a table");
    Check c;
    c.pos = at(n);
    auto kind_node = t->get("kind");
    std::string kind = kind_node ? str(*kind_node, "check kind").value_or("") : "";
    Keys common = {"kind", "name", "from", "expect", "within", "group"};
    Keys extra;
    if (kind == "ping") {
      c.kind = CheckKind::kPing;
      extra = {"to", "count", "timeout"};
    } else if (kind == "connect") {
      c.kind = CheckKind::kConnect;
      extra = {"to", "port", "proto", "listen", "source", "timeout"};
    } else if (kind == "command") {
      c.kind = CheckKind::kCommand;
      extra = {"cmd", "exit", "output", "json", "timeout"};
    } else if (kind == "route") {
      c.kind = CheckKind::kRoute;
      extra = {"to", "via", "dev"};
    } else {
      if (!kind_node) ctx_.error(at(n), "check: missing \"kind\" (ping, connect, command or route)");
      else if (kind_node->is_string())
        ctx_.error(at(*kind_node), fmt::format("check kind: \"{}\" is not ping, connect, command or route", kind),
                   closest_match(kind, {"ping", "connect", "command", "route"}).empty()
                       ? ""
                       : fmt::format("did you mean \"{}\"?", closest_match(kind, {"ping", "connect", "command", "route"})));
      return;
    }
    Keys allowed = common;
    allowed.insert(allowed.end(), extra.begin(), extra.end());
    std::string where = fmt::format("{} check", kind);
    check_keys(*t, allowed, where);
    if (auto v = t->get("name")) c.name = str(*v, where + " name").value_or("");
    if (auto v = t->get("from")) c.from = str(*v, where + " from").value_or("");
    else ctx_.error(at(n), fmt::format("{}: missing \"from\"", where));
    if (auto v = t->get("expect")) {
      if (auto s = str(*v, where + " expect")) {
        if (*s == "success") c.expect_success = true;
        else if (*s == "failure") c.expect_success = false;
        else ctx_.error(at(*v), fmt::format("{} expect: must be \"success\" or \"failure\"", where));
      }
    }
    if (auto v = t->get("to")) c.to = str(*v, where + " to").value_or("");
    else if (c.kind != CheckKind::kCommand) ctx_.error(at(n), fmt::format("{}: missing \"to\"", where));
    if (auto v = t->get("count")) {
      if (auto i = integer(*v, where + " count")) {
        if (*i < 1 || *i > 10000) ctx_.error(at(*v), fmt::format("{} count: must be 1..10000", where));
        else c.count = static_cast<int>(*i);
      }
    }
    if (auto v = t->get("timeout")) {
      if (auto d = value<Duration>(*v, where + " timeout", parse_duration)) c.timeout = *d;
    }
    if (auto v = t->get("port")) c.port = port(*v, where + " port");
    else if (c.kind == CheckKind::kConnect) ctx_.error(at(n), fmt::format("{}: missing \"port\"", where));
    if (auto v = t->get("proto")) {
      if (auto s = str(*v, where + " proto")) {
        if (*s != "tcp" && *s != "udp") ctx_.error(at(*v), fmt::format("{} proto: must be \"tcp\" or \"udp\"", where));
        else c.proto = *s;
      }
    }
    if (auto v = t->get("listen")) c.listen = boolean(*v, where + " listen").value_or(true);
    if (auto v = t->get("source")) c.expect_source = value<IpAddress>(*v, where + " source", parse_address);
    if (auto v = t->get("cmd")) c.command = command(*v, where + " cmd");
    else if (c.kind == CheckKind::kCommand) ctx_.error(at(n), fmt::format("{}: missing \"cmd\"", where));
    if (auto v = t->get("exit")) {
      if (auto i = integer(*v, where + " exit")) {
        if (*i < 0 || *i > 255) ctx_.error(at(*v), fmt::format("{} exit: must be 0..255", where));
        else c.expect_exit = static_cast<int>(*i);
      }
    }
    if (auto v = t->get("output")) c.expect_output = str(*v, where + " output");
    if (auto v = t->get("json")) c.expect_json = json_value(*v, where + " json");
    if (auto v = t->get("within")) {
      if (auto d = value<Duration>(*v, where + " within", parse_duration)) {
        if (d->ns == 0 || d->ns > 3600'000'000'000ull)
          ctx_.error(at(*v), fmt::format("{} within: must be more than 0 and at most 60m", where));
        else c.within = *d;
      }
    }
    if (auto v = t->get("group")) c.group = str(*v, where + " group").value_or("");
    if (auto v = t->get("via")) c.expect_via = value<IpAddress>(*v, where + " via", parse_address);
    if (auto v = t->get("dev")) c.expect_dev = str(*v, where + " dev");
    if (c.name.empty()) {
      switch (c.kind) {
        case CheckKind::kPing: c.name = fmt::format("ping {} -> {}", c.from, c.to); break;
        case CheckKind::kConnect: c.name = fmt::format("connect {} -> {} {}/{}", c.from, c.to, c.proto, c.port); break;
        case CheckKind::kCommand: c.name = fmt::format("command on {}: {}", c.from, c.command ? c.command->text : ""); break;
        case CheckKind::kRoute: c.name = fmt::format("route {} -> {}", c.from, c.to); break;
      }
    }
    lab.checks.push_back(std::move(c));
  }

  // A `json` expectation: JSON text in a string, or the same written as a TOML
  // table or array. Kept as compact JSON text; the model carries no JSON library.
  std::optional<std::string> json_value(const toml::node& v, const std::string& what) {
    std::string text;
    if (auto s = v.value<std::string>()) {
      text = *s;
    } else if (v.is_table() || v.is_array()) {
      std::ostringstream os;
      if (v.is_table()) os << toml::json_formatter{*v.as_table()};
      else os << toml::json_formatter{*v.as_array()};
      text = os.str();
    } else {
      wrong_type(v, what, "JSON text, a table or an array");
      return std::nullopt;
    }
    auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      ctx_.error(at(v), fmt::format("{}: not valid JSON", what));
      return std::nullopt;
    }
    return j.dump();
  }

  void host(const toml::node& n, Lab& lab) {
    auto t = n.as_table();
    if (!t) return wrong_type(n, "host", "a table");
    check_keys(*t, {"nat"}, "host");
    auto v = t->get("nat");
    if (!v) return;
    auto one = [&](const toml::node& x) {
      auto nt = x.as_table();
      if (!nt) return wrong_type(x, "host nat", "a table like { from = \"BRIDGE\" }");
      check_keys(*nt, {"from"}, "host nat");
      HostNat h;
      h.pos = at(x);
      if (auto f = nt->get("from")) h.from_bridge = str(*f, "host nat from").value_or("");
      else return ctx_.error(at(x), "host nat: missing \"from\" (a bridge attached to the host)");
      lab.host.nat.push_back(h);
    };
    if (auto arr = v->as_array()) {
      for (auto& x : *arr) one(x);
    } else {
      one(*v);
    }
  }

  // ---- multi-host: [hosts.NAME] (docs/multi-host.md) ----

  void hosts(const toml::node& n, Lab& lab) {
    auto t = n.as_table();
    if (!t) return wrong_type(n, "hosts", "a table of hosts ([hosts.NAME])");
    for (auto&& [k, v] : *t) {
      Host h;
      h.name = std::string(k.str());
      h.pos = at(k);
      std::string where = fmt::format("host {}", h.name);
      auto ht = v.as_table();
      if (!ht) {
        wrong_type(v, where, "a table");
        continue;
      }
      check_keys(*ht, {"address", "ssh"}, where);
      if (auto a = ht->get("address")) {
        h.address_pos = at(*a);
        if (auto ip = value<IpAddress>(*a, where + " address", parse_address)) h.address = *ip;
      } else {
        ctx_.error(at(k), fmt::format("{}: missing \"address\" (its underlay address)", where));
      }
      if (auto s = ht->get("ssh")) h.ssh = str(*s, where + " ssh").value_or("");
      lab.hosts.push_back(std::move(h));
    }
  }

  void lab(const toml::table& root, Lab& lab) {
    check_keys(root, {"name", "defaults", "bridges", "nodes", "links", "checks", "host", "hosts", "vxlan_port"},
               "the topology");
    if (auto v = root.get("hosts")) hosts(*v, lab);
    if (auto v = root.get("vxlan_port")) {
      if (uint16_t p = port(*v, "vxlan_port")) lab.vxlan_port = p;
    }
    if (auto v = root.get("name")) {
      auto name = str(*v, "name");
      lab.name = name.value_or("");
      lab.pos = at(*v);
      if (name && name->empty()) ctx_.error(lab.pos, name_problem(NameKind::kLab, ""));
    } else {
      ctx_.error({ctx_.file, 1, 1}, "missing lab \"name\" (e.g. name = \"mylab\")");
    }
    Node defaults;
    if (auto v = root.get("defaults")) {
      if (auto t = v->as_table()) {
        check_keys(*t,
                   {"image", "cpus", "memory", "pids", "cpu_weight", "env", "sysctls", "ipv6", "privileged", "userns",
                    "sysfs"},
                   "defaults");
        limits_and_image(*t, "defaults", defaults);
        privileged(*t, "defaults", defaults);
        if (auto v = t->get("ipv6")) defaults.ipv6 = boolean(*v, "defaults ipv6");
        if (auto v = t->get("sysfs")) defaults.sysfs = boolean(*v, "defaults sysfs").value_or(true);
      } else {
        wrong_type(*v, "defaults", "a table");
      }
    }
    if (auto v = root.get("bridges")) {
      if (auto t = v->as_table()) {
        for (auto&& [k, b] : *t) bridge(k, b, lab);
      } else {
        wrong_type(*v, "bridges", "a table of bridges ([bridges.NAME])");
      }
    }
    if (auto v = root.get("nodes")) {
      if (auto t = v->as_table()) {
        for (auto&& [k, n] : *t) node(k, n, defaults, lab);
      } else {
        wrong_type(*v, "nodes", "a table of nodes ([nodes.NAME])");
      }
    }
    if (auto v = root.get("links")) {
      if (auto arr = v->as_array()) {
        for (auto& l : *arr) link(l, lab);
      } else {
        wrong_type(*v, "links", "an array of links ([[links]])");
      }
    }
    if (auto v = root.get("checks")) {
      if (auto arr = v->as_array()) {
        for (auto& c : *arr) check(c, lab);
      } else {
        wrong_type(*v, "checks", "an array of checks ([[checks]])");
      }
    }
    if (auto v = root.get("host")) host(*v, lab);
    // toml++ tables iterate in key order; keep the file's order instead.
    auto by_pos = [](const auto& a, const auto& b) {
      return std::tie(a.pos.line, a.pos.col) < std::tie(b.pos.line, b.pos.col);
    };
    std::stable_sort(lab.nodes.begin(), lab.nodes.end(), by_pos);
    std::stable_sort(lab.bridges.begin(), lab.bridges.end(), by_pos);
    std::stable_sort(lab.hosts.begin(), lab.hosts.end(), by_pos);
  }

 private:
  Context& ctx_;
};

}  // namespace

bool parse_raw(std::string_view source, Context& ctx, Lab& lab) {
  toml::table root;
  try {
    root = toml::parse(source, ctx.file);
  } catch (const toml::parse_error& e) {
    ctx.error({ctx.file, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column)},
              std::string(e.description()));
    return false;
  }
  Parser(ctx).lab(root, lab);
  return true;
}

}  // namespace detail

std::optional<Lab> load_string(std::string_view source, const std::string& file, Diagnostics& diags) {
  detail::Context ctx{file, diags};
  Lab lab;
  lab.file = file;
  if (!detail::parse_raw(source, ctx, lab)) return std::nullopt;
  detail::resolve_and_validate(ctx, lab);
  if (diags.has_errors()) return std::nullopt;
  return lab;
}

std::optional<Lab> load_file(const std::string& path, Diagnostics& diags) {
  std::string source;
  try {
    source = read_file(path);
  } catch (const Error& e) {
    diags.error({path, 0, 0}, fmt::format("cannot read topology: {}", describe_errno(e.errnum())));
    return std::nullopt;
  }
  return load_string(source, path, diags);
}

}  // namespace netlab::topo
