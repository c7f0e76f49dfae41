// nftables for a lab: one table per namespace (`inet netlab` inside a node,
// `inet netlab_<lab>` in the host), built from value specs and sent as ONE
// transaction — create-if-missing, delete, create again, chains, rules — so a
// replacement is atomic and a refused batch leaves the previous ruleset as it
// was. libnftnl builds the objects, libmnl carries the batch; no `nft` binary.
// Knows nothing of topologies.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "netlink/netns.hpp"

namespace netlab::nft {

struct Masquerade {
  std::string out_iface;
};
struct Snat {
  std::string out_iface;
  std::string to;      // address
  std::string to_end;  // "" or the last address of a range
};
struct Dnat {
  std::string in_iface;
  std::string proto = "tcp";  // "tcp" | "udp"
  uint16_t port = 0;
  std::string to;             // address
  uint16_t to_port = 0;       // 0 = port
};
struct Firewall {
  bool input_drop = false;
  bool forward_drop = false;
  std::vector<std::string> allow_ifaces;
  std::vector<std::string> allow_from;  // prefixes "10.0.0.0/8", "fd00::/64"
  struct Port {
    std::string proto;
    uint16_t port = 0;
  };
  std::vector<Port> open;
};
/// Host uplink NAT: traffic from `from` (a prefix) leaving `out_iface` is masqueraded.
struct SourceMasquerade {
  std::string from;
  std::string out_iface;
};

struct TableSpec {
  std::string name = "netlab";  // family is always inet
  std::vector<Masquerade> masquerade;
  std::vector<Snat> snat;
  std::vector<Dnat> dnat;
  std::vector<SourceMasquerade> source_masquerade;
  bool has_firewall = false;
  Firewall firewall;
  /// Tests only: append a rule the kernel refuses (a jump to a chain that does
  /// not exist), to show that a refused transaction leaves the old table intact.
  bool test_append_broken_rule = false;
  std::string str() const;  // "table inet netlab"
};

/// Creates or atomically replaces the table in `ns`. Throws Error naming the
/// object the kernel refused: `adding rule "dnat tcp 8080 -> 192.168.50.2:80" to
/// table inet netlab in netns natgw-gw: Invalid argument (EINVAL)`.
void apply_table(const nl::Netns& ns, const std::string& ns_name, const TableSpec& spec);

/// Deletes the table; already gone (ENOENT) is success.
void delete_table(const nl::Netns& ns, const std::string& ns_name, const std::string& table);

struct ChainInfo {
  std::string name;
  std::string hook;  // "prerouting", "input", "forward", "postrouting"
  int priority = 0;
  std::string policy;  // "accept" | "drop"
  std::string type;    // "nat" | "filter"
  std::vector<std::string> rules;  // libnftnl's rendering of each rule's expressions
};

/// The table's chains and rules as the kernel reports them; ENOENT if absent.
std::vector<ChainInfo> list_table(const nl::Netns& ns, const std::string& ns_name, const std::string& table);

/// Names of the inet tables in `ns` (for leak checks and inspect).
std::vector<std::string> list_tables(const nl::Netns& ns, const std::string& ns_name);

namespace detail {
struct Message;  // one batch message plus what it is about, for error text
/// The batch's messages for `spec` (no socket): used by apply_table and unit tests.
std::vector<std::string> describe_batch(const TableSpec& spec);
}  // namespace detail

}  // namespace netlab::nft
