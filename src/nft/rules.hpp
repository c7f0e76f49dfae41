// Internal to nft/: a TableSpec as the ordered list of nftables objects (table,
// chains, rules) that one transaction sends, each with a description for errors.
#pragma once

#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include <memory>
#include <string>
#include <vector>

#include "nft/ruleset.hpp"

namespace netlab::nft::detail {

struct TableDeleter {
  void operator()(nftnl_table* t) const { nftnl_table_free(t); }
};
struct ChainDeleter {
  void operator()(nftnl_chain* c) const { nftnl_chain_free(c); }
};
struct RuleDeleter {
  void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
};
using TablePtr = std::unique_ptr<nftnl_table, TableDeleter>;
using ChainPtr = std::unique_ptr<nftnl_chain, ChainDeleter>;
using RulePtr = std::unique_ptr<nftnl_rule, RuleDeleter>;

struct Objects {
  TablePtr table;
  std::vector<std::pair<ChainPtr, std::string>> chains;  // object, "chain postrouting"
  std::vector<std::pair<RulePtr, std::string>> rules;    // object, "rule \"masquerade oifname eth1\""
};

/// Builds the objects for `spec`. Throws Error(EINVAL) for an address that does not parse.
Objects build(const TableSpec& spec);

TablePtr table_object(const std::string& name);

}  // namespace netlab::nft::detail
