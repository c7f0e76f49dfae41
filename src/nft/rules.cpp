// Rules as nftables expressions, register by register, as `nft` would compile
// them. NAT inside an inet table needs the address family of its target, so a
// snat/dnat rule first matches `meta nfproto` of that family.
#include "nft/rules.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

#include "util/error.hpp"

namespace netlab::nft::detail {

namespace {

struct Addr {
  int family = 0;
  unsigned char bytes[16] = {};
  uint32_t len() const { return family == AF_INET ? 4 : 16; }
};

Addr parse_addr(const std::string& text) {
  Addr a;
  if (inet_pton(AF_INET, text.c_str(), a.bytes) == 1) a.family = AF_INET;
  else if (inet_pton(AF_INET6, text.c_str(), a.bytes) == 1) a.family = AF_INET6;
  else throw Error(EINVAL, "\"{}\" is not an IP address", text);
  return a;
}

class Rule {
 public:
  Rule(const std::string& table, const char* chain) : r_(nftnl_rule_alloc()) {
    nftnl_rule_set_u32(r_.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
    nftnl_rule_set_str(r_.get(), NFTNL_RULE_TABLE, table.c_str());
    nftnl_rule_set_str(r_.get(), NFTNL_RULE_CHAIN, chain);
  }
  nftnl_expr* expr(const char* name) {
    nftnl_expr* e = nftnl_expr_alloc(name);
    nftnl_rule_add_expr(r_.get(), e);
    return e;
  }
  Rule& meta(uint32_t key, uint32_t reg = NFT_REG_1) {
    auto* e = expr("meta");
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, reg);
    return *this;
  }
  Rule& cmp(const void* data, uint32_t len, uint32_t op = NFT_CMP_EQ, uint32_t reg = NFT_REG_1) {
    auto* e = expr("cmp");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, reg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
    return *this;
  }
  Rule& ifname(uint32_t key, const std::string& name) {  // exact match, NUL included
    char buf[16] = {};
    std::strncpy(buf, name.c_str(), sizeof buf - 1);
    return meta(key).cmp(buf, static_cast<uint32_t>(std::min<size_t>(name.size() + 1, 16)));
  }
  Rule& u8(uint32_t key, uint8_t value) { return meta(key).cmp(&value, 1); }
  Rule& payload(uint32_t base, uint32_t offset, uint32_t len, uint32_t reg = NFT_REG_1) {
    auto* e = expr("payload");
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, reg);
    return *this;
  }
  Rule& bitwise(const void* mask, uint32_t len, uint32_t reg = NFT_REG_1) {
    unsigned char zero[16] = {};
    auto* e = expr("bitwise");
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
    return *this;
  }
  Rule& ct(uint32_t key, uint32_t reg = NFT_REG_1) {
    auto* e = expr("ct");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, reg);
    return *this;
  }
  Rule& data(const void* d, uint32_t len, uint32_t reg) {
    auto* e = expr("immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
    nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, d, len);
    return *this;
  }
  Rule& accept() {
    auto* e = expr("immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
    return *this;
  }
  Rule& jump(const char* chain) {
    auto* e = expr("immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NFT_JUMP);
    nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
    return *this;
  }
  Rule& masq() {
    expr("masq");
    return *this;
  }
  Rule& nat(uint32_t type, const Addr& min, const Addr* max, uint16_t port) {
    data(min.bytes, min.len(), NFT_REG_1);
    if (max) data(max->bytes, max->len(), NFT_REG_2);
    if (port) {
      uint16_t p = htons(port);
      data(&p, 2, NFT_REG_3);
    }
    auto* e = expr("nat");
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, type);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, min.family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
    if (max) nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, NFT_REG_2);
    if (port) nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_3);
    return *this;
  }
  Rule& nfproto(int family) { return u8(NFT_META_NFPROTO, family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6); }
  Rule& l4proto(const std::string& proto) { return u8(NFT_META_L4PROTO, proto == "udp" ? IPPROTO_UDP : IPPROTO_TCP); }
  Rule& dport(uint16_t port) {
    uint16_t p = htons(port);
    return payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2).cmp(&p, 2);
  }
  Rule& saddr(const std::string& prefix) {
    auto slash = prefix.find('/');
    Addr a = parse_addr(prefix.substr(0, slash));
    int len = slash == std::string::npos ? static_cast<int>(a.len() * 8) : std::stoi(prefix.substr(slash + 1));
    nfproto(a.family);
    payload(NFT_PAYLOAD_NETWORK_HEADER, a.family == AF_INET ? 12 : 8, a.len());
    unsigned char mask[16] = {};
    for (int i = 0; i < len; ++i) mask[i / 8] |= static_cast<unsigned char>(0x80 >> (i % 8));
    for (uint32_t i = 0; i < a.len(); ++i) a.bytes[i] &= mask[i];
    if (len < static_cast<int>(a.len() * 8)) bitwise(mask, a.len());
    return cmp(a.bytes, a.len());
  }
  Rule& ct_bits(uint32_t key, uint32_t bits) {
    uint32_t zero = 0;
    ct(key).bitwise(&bits, 4);
    return cmp(&zero, 4, NFT_CMP_NEQ);
  }
  RulePtr take() { return std::move(r_); }

 private:
  RulePtr r_;
};

ChainPtr chain(const std::string& table, const char* name, const char* type, uint32_t hook, int prio, bool drop) {
  ChainPtr c(nftnl_chain_alloc());
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, NFPROTO_INET);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, name);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, type);
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, hook);
  nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, prio);
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY, drop ? NF_DROP : NF_ACCEPT);
  return c;
}

}  // namespace

TablePtr table_object(const std::string& name) {
  TablePtr t(nftnl_table_alloc());
  nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, NFPROTO_INET);
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name.c_str());
  return t;
}

Objects build(const TableSpec& spec) {
  Objects o;
  o.table = table_object(spec.name);
  const std::string& t = spec.name;
  bool postrouting = !spec.masquerade.empty() || !spec.snat.empty() || !spec.source_masquerade.empty();
  if (!spec.dnat.empty())
    o.chains.emplace_back(chain(t, "prerouting", "nat", NF_INET_PRE_ROUTING, -100, false), "chain prerouting");
  if (postrouting)
    o.chains.emplace_back(chain(t, "postrouting", "nat", NF_INET_POST_ROUTING, 100, false), "chain postrouting");
  if (spec.has_firewall) {
    o.chains.emplace_back(chain(t, "input", "filter", NF_INET_LOCAL_IN, 0, spec.firewall.input_drop), "chain input");
    o.chains.emplace_back(chain(t, "forward", "filter", NF_INET_FORWARD, 0, spec.firewall.forward_drop), "chain forward");
  }
  auto add = [&](Rule& r, std::string what) { o.rules.emplace_back(r.take(), "rule \"" + what + "\""); };

  for (const auto& m : spec.masquerade) {
    Rule r(t, "postrouting");
    r.ifname(NFT_META_OIFNAME, m.out_iface).masq();
    add(r, "masquerade oifname " + m.out_iface);
  }
  for (const auto& s : spec.snat) {
    Addr lo = parse_addr(s.to);
    Addr hi = s.to_end.empty() ? lo : parse_addr(s.to_end);
    Rule r(t, "postrouting");
    r.nfproto(lo.family).ifname(NFT_META_OIFNAME, s.out_iface).nat(NFT_NAT_SNAT, lo, s.to_end.empty() ? nullptr : &hi, 0);
    add(r, fmt::format("snat oifname {} to {}{}", s.out_iface, s.to, s.to_end.empty() ? "" : "-" + s.to_end));
  }
  for (const auto& m : spec.source_masquerade) {
    Rule r(t, "postrouting");
    r.saddr(m.from).ifname(NFT_META_OIFNAME, m.out_iface).masq();
    add(r, fmt::format("saddr {} oifname {} masquerade", m.from, m.out_iface));
  }
  for (const auto& d : spec.dnat) {
    Addr to = parse_addr(d.to);
    Rule r(t, "prerouting");
    r.nfproto(to.family).ifname(NFT_META_IIFNAME, d.in_iface).l4proto(d.proto).dport(d.port);
    r.nat(NFT_NAT_DNAT, to, nullptr, d.to_port ? d.to_port : d.port);
    add(r, fmt::format("dnat {} {} -> {}:{}", d.proto, d.port, d.to, d.to_port ? d.to_port : d.port));
  }
  if (spec.has_firewall) {
    const auto& fw = spec.firewall;
    for (const char* c : {"input", "forward"}) {
      std::string cs = c;
      bool input = cs == "input";
      if (!(input ? fw.input_drop : fw.forward_drop)) continue;  // accept policy: nothing to add
      Rule est(t, c);
      est.ct_bits(NFT_CT_STATE, NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED)).accept();
      add(est, cs + ": ct state established,related accept");
      if (input) {
        Rule lo(t, c);
        lo.ifname(NFT_META_IIFNAME, "lo").accept();
        add(lo, "input: iifname lo accept");
        // Neighbour discovery and other ICMPv6 control traffic: IPv6 breaks without it.
        Rule nd(t, c);
        nd.u8(NFT_META_L4PROTO, IPPROTO_ICMPV6).accept();
        add(nd, "input: icmpv6 accept");
      } else {
        Rule dnat(t, c);  // what a dnat rule let in is forwarded
        dnat.ct_bits(NFT_CT_STATUS, IPS_DST_NAT).accept();
        add(dnat, "forward: ct status dnat accept");
      }
      for (const auto& i : fw.allow_ifaces) {
        Rule r(t, c);
        r.ifname(NFT_META_IIFNAME, i).accept();
        add(r, fmt::format("{}: iifname {} accept", cs, i));
      }
      for (const auto& p : fw.allow_from) {
        Rule r(t, c);
        r.saddr(p).accept();
        add(r, fmt::format("{}: saddr {} accept", cs, p));
      }
      for (const auto& p : fw.open) {
        Rule r(t, c);
        r.l4proto(p.proto).dport(p.port).accept();
        add(r, fmt::format("{}: {} dport {} accept", cs, p.proto, p.port));
      }
    }
  }
  if (spec.test_append_broken_rule) {
    if (o.chains.empty()) o.chains.emplace_back(chain(t, "postrouting", "nat", NF_INET_POST_ROUTING, 100, false), "chain postrouting");
    Rule r(t, nftnl_chain_get_str(o.chains.front().first.get(), NFTNL_CHAIN_NAME));
    r.jump("no-such-chain");
    add(r, "jump no-such-chain (test)");
  }
  return o;
}

}  // namespace netlab::nft::detail
