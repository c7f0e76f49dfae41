// Generated topologies (line, ring, star, tree, clos) as TOML text that
// validates: addresses from configurable pools (a /31 per point-to-point link,
// one subnet per bridge) and static routes so every node reaches every other.
// Routes are aggregated (contiguous link ranges become a few CIDR blocks), so a
// 1000-router line carries O(log N) routes per node, not O(N).
#pragma once

#include <string>

#include "topology/values.hpp"

namespace netlab::topo {

enum class GenerateKind { kLine, kRing, kStar, kTree, kClos };

struct GenerateSpec {
  GenerateKind kind = GenerateKind::kStar;
  int n = 0;               // line, ring, star
  int depth = 0;           // tree
  int fanout = 0;          // tree
  int spines = 0;          // clos
  int leaves = 0;          // clos
  int hosts_per_leaf = 0;  // clos
  std::string name;        // lab name; default "<kind><n>"
  std::string pool = "10.0.0.0/8";         // point-to-point /31s
  std::string lan_pool = "172.16.0.0/12";  // bridge subnets
};

/// Returns the topology text, or throws netlab::Error(EINVAL) naming the bad
/// parameter (sizes out of range, a pool too small for the lab).
std::string generate(const GenerateSpec& spec);

/// Parses "line", "ring", "star", "tree", "clos".
bool parse_generate_kind(const std::string& s, GenerateKind& out);

}  // namespace netlab::topo
