// Generated topologies (line, ring, star, tree, clos) as TOML text that
// validates: addresses from configurable pools (a /31 per point-to-point link,
// one subnet per bridge) and static routes so every node reaches every other.
// Routes are aggregated (contiguous link ranges become a few CIDR blocks), so a
// 1000-router line carries O(log N) routes per node, not O(N).
#pragma once

#include <string>
#include <vector>

#include "topology/values.hpp"

namespace netlab::topo {

enum class GenerateKind { kLine, kRing, kStar, kTree, kClos, kFrrRing, kFrrGrid };

struct GenerateSpec {
  GenerateKind kind = GenerateKind::kStar;
  int n = 0;               // line, ring, star
  int depth = 0;           // tree
  int fanout = 0;          // tree
  int spines = 0;          // clos
  int leaves = 0;          // clos
  int hosts_per_leaf = 0;  // clos
  int rows = 0;            // frr-grid
  int cols = 0;            // frr-grid
  std::string name;        // lab name; default "<kind><n>"
  std::string pool = "10.0.0.0/8";         // point-to-point /31s
  std::string lan_pool = "172.16.0.0/12";  // bridge subnets
};

/// Returns the topology text, or throws netlab::Error(EINVAL) naming the bad
/// parameter (sizes out of range, a pool too small for the lab).
std::string generate(const GenerateSpec& spec);

/// Parses "line", "ring", "star", "tree", "clos", "frr-ring", "frr-grid".
bool parse_generate_kind(const std::string& s, GenerateKind& out);

/// True for the kinds that write a directory (a routing lab with per-router configs).
bool generates_directory(GenerateKind kind);

/// One file of a generated lab directory, `path` relative to it.
struct GeneratedFile {
  std::string path;
  std::string text;
};

/// A routing lab of FRR routers running OSPF (frr-ring N, frr-grid ROWS COLS):
/// topology.toml plus, per router, <router>/daemons, frr.conf and vtysh.conf,
/// bound at /etc/frr. Point-to-point /31s from `pool`, a loopback /32 per
/// router from 10.255.0.0/16, every interface in OSPF area 0. Throws
/// netlab::Error(EINVAL) naming the bad parameter.
std::vector<GeneratedFile> generate_frr(const GenerateSpec& spec);

}  // namespace netlab::topo
