// The topology model: plain data, no side effects. topo::load() (parse.hpp)
// produces a resolved Lab: every name bound to an index, every default applied.
// After a successful load nothing can fail for reasons in the file.
// Knows nothing of netlink, processes or the kernel.
#pragma once

#include <mutex>
#include <unordered_map>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "topology/names.hpp"
#include "topology/values.hpp"
#include "util/diag.hpp"

namespace netlab::topo {

struct Route {
  Prefix to;                       // "default" → is_default; family from `via` or the node
  std::optional<IpAddress> via;    // gateway
  std::string dev;                 // "" = let the kernel pick from `via`
  uint32_t metric = 0;
  SourcePos pos;
};

enum class NatKind { kMasquerade, kSnat, kDnat };

struct NatRule {
  NatKind kind = NatKind::kMasquerade;
  std::string out_iface;                // masquerade, snat
  std::string in_iface;                 // dnat
  std::optional<IpAddress> to;          // snat/dnat target address
  std::optional<IpAddress> to_end;      // snat range end ("ADDR-ADDR")
  std::string proto;                    // dnat: "tcp" | "udp"
  uint16_t port = 0;                    // dnat: the port matched on in_iface
  uint16_t to_port = 0;                 // dnat: 0 = same as port
  SourcePos pos;
};

enum class Policy { kAccept, kDrop };

/// `[nodes.X.firewall]`: a small declarative filter. With a drop policy,
/// established/related traffic and loopback are always accepted.
struct Firewall {
  Policy input = Policy::kAccept;
  Policy forward = Policy::kAccept;
  std::vector<std::string> allow_ifaces;  // traffic arriving on these is accepted
  std::vector<Prefix> allow_from;         // traffic from these sources is accepted
  struct Port {
    std::string proto;  // "tcp" | "udp"
    uint16_t port = 0;
  };
  std::vector<Port> open_ports;          // "tcp/22": accepted to this node and forwarded
  SourcePos pos;
};

struct Interface {
  std::string name;
  std::vector<Prefix> addresses;   // IPv4 and IPv6
  std::optional<std::string> mac;  // "02:00:00:00:00:01"
  std::optional<uint32_t> mtu;
  int link = -1;                   // index into Lab::links, -1 until resolved
  SourcePos pos;
};

struct Limits {
  std::optional<Cpus> cpus;
  std::optional<Size> memory;
  std::optional<uint64_t> pids;
  std::optional<uint32_t> cpu_weight;  // 1..10000 (cgroup v2 scale; mapped to shares on v1)
};

enum class ImageKind { kBusybox, kHost, kPath, kOci };

struct Image {
  ImageKind kind = ImageKind::kBusybox;
  std::string path;  // kPath: absolute rootfs directory; kOci: the reference (image/reference.hpp)
  std::string str() const;  // "busybox" | "host" | the path | the reference
};

struct Bind {
  std::string host_path;           // absolute: a relative source is resolved against the file's directory
  std::string node_path;
  bool read_only = false;
  SourcePos pos;
};

/// A command: shell form (a string run by the node's /bin/sh -c) or exec form (an array).
struct Command {
  std::vector<std::string> argv;  // exec form; for shell form {"/bin/sh", "-c", text}
  bool shell = false;
  std::string text;               // as written, for messages
};

struct UserSpec {
  uint32_t uid = 0;
  uint32_t gid = 0;
};

struct Node {
  std::string name;
  std::string hostname;            // defaults to name
  Image image;
  Limits limits;
  bool forwarding = false;
  // /sys mounted in the node (its network namespace's view). Off for labs of
  // thousands of nodes that do not need it: each sysfs mount searches every
  // sysfs superblock on the host (docs/performance.md).
  bool sysfs = true;
  std::vector<Interface> interfaces;  // in file order
  std::vector<Route> routes;
  std::vector<NatRule> nat;
  std::optional<Firewall> firewall;
  std::map<std::string, std::string> sysctls;  // "net.ipv4.ip_forward" = "1"
  std::vector<Command> exec;       // run once the node is wired, in order
  std::optional<Command> cmd;      // the node's main process; none = init just waits
  std::map<std::string, std::string> env;
  std::vector<Bind> binds;
  // false (the default): contained — the node's root is root only of its own
  // user namespace, which owns its network namespace (docs/security.md).
  bool privileged = false;
  std::optional<UserSpec> user;
  std::optional<bool> ipv6;        // unset: on when the node uses IPv6 (see ipv6_enabled)
  std::string host;                // multi-host: `host = "NAME"` pins the node; "" = placed
  int host_index = -1;             // resolved index into Lab::hosts, -1 if not pinned
  SourcePos host_pos;
  SourcePos pos;

  const Interface* find_interface(const std::string& name) const;
  /// `ipv6` if set; else whether the node has an IPv6 address, route, firewall
  /// prefix or net.ipv6 sysctl. A node without IPv6 has it disabled in its
  /// namespace: no link-local, no router solicitations, no multicast reports.
  bool ipv6_enabled() const;
  /// The first IPv6 setting found ("address fd00::1/64 on eth0"), "" if none.
  std::string first_ipv6_use() const;
};

/// Bridge attached to the host: a veth from the fabric namespace to the root
/// namespace, with `addresses` on the host side.
struct HostAttach {
  std::string iface;               // host-side interface name (≤ 15 bytes)
  std::vector<Prefix> addresses;
  SourcePos pos;
};

/// Multi-host: set only in one host's part of a lab (cluster::host_part). A
/// link's far end, or other copies of a bridge, are on other hosts, reached by
/// a VXLAN device (docs/multi-host.md).
struct Tunnel {
  uint32_t vni = 0;
  IpAddress local;                 // this host's underlay address
  std::vector<IpAddress> remotes;  // a link: the peer's host; a bridge: every other host holding it
  uint16_t port = 0;               // UDP destination port
  std::string peer;                // for messages: "r2:eth0 on h2", "h2 h3"
};

struct Bridge {
  std::string name;
  std::optional<Tunnel> tunnel;    // multi-host part: a VXLAN port to the other hosts
  std::optional<uint32_t> mtu;
  std::optional<HostAttach> host;
  SourcePos pos;
};

struct Impairments {
  std::optional<Duration> delay;
  std::optional<Duration> jitter;
  std::optional<std::string> distribution;  // of the jitter: normal, pareto, paretonormal, experimental
  std::optional<Percent> loss;
  std::optional<Rate> rate;
  std::optional<Percent> corrupt;
  std::optional<Percent> duplicate;
  std::optional<Percent> reorder;
  bool empty() const;
};

struct Endpoint {
  enum class Kind { kInterface, kBridge };
  Kind kind = Kind::kInterface;
  std::string node;     // kInterface
  std::string iface;    // kInterface
  std::string bridge;   // kBridge
  int node_index = -1;  // resolved
  int iface_index = -1; // resolved: index into Node::interfaces
  int bridge_index = -1;
  SourcePos pos;        // of the endpoint string
  std::string str() const;  // "h1:eth0" or "lan"
};

struct Link {
  std::array<Endpoint, 2> ends;
  /// Multi-host part: ends[0] is here, ends[1] on another host (node_index -1).
  std::optional<Tunnel> tunnel;
  std::optional<uint32_t> mtu;
  /// Impairments on the egress of each end: link-level keys apply to both ends,
  /// `[links.egress."node:iface"]` overrides one end. egress[i] is what leaves ends[i].
  std::array<Impairments, 2> egress;
  SourcePos pos;
};

enum class CheckKind { kPing, kConnect, kCommand, kRoute };

struct Check {
  std::string name;               // defaults to a description of the check
  CheckKind kind = CheckKind::kPing;
  std::string from;               // node name
  int from_index = -1;
  std::string to;                 // address or node name (ping, connect, route)
  bool expect_success = true;     // expect = "success" | "failure"
  int count = 1;                  // ping
  Duration timeout{2'000'000'000};
  std::string proto = "tcp";      // connect
  uint16_t port = 0;              // connect
  bool listen = true;             // connect: netlab starts a listener on the target node
  std::optional<IpAddress> expect_source;  // connect: the peer address the listener must see
  std::optional<Command> command;          // command
  std::optional<int> expect_exit;          // command (default 0)
  std::optional<std::string> expect_output;  // command: ECMAScript regex searched in stdout
  std::optional<IpAddress> expect_via;       // route
  std::optional<std::string> expect_dev;     // route
  std::optional<std::string> expect_json;    // command: JSON (text) the output must contain as a subset
  std::optional<Duration> within;  // retry until it passes or this much time has gone by
  std::string group;               // checks run group after group, in order of first appearance
  SourcePos pos;
};

struct HostNat {
  std::string from_bridge;  // a host-attached bridge whose subnets are masqueraded
  int bridge_index = -1;
  SourcePos pos;
};

struct HostConfig {
  std::vector<HostNat> nat;
};

/// `[hosts.NAME]`: one machine of a lab spread over several (docs/multi-host.md).
struct Host {
  std::string name;
  IpAddress address;               // the underlay address VXLAN packets go to and from
  std::string ssh;                 // "[user@]host" for the OpenSSH control channel; "" = none
  SourcePos pos;
  SourcePos address_pos;
};

inline constexpr uint16_t kDefaultVxlanPort = 4789;  // IANA's VXLAN port

struct Lab {
  std::string name;
  std::string file;                 // path as given
  std::vector<Node> nodes;          // in file order
  std::vector<Bridge> bridges;      // in file order
  std::vector<Link> links;          // in file order
  std::vector<Check> checks;
  HostConfig host;
  std::vector<Host> hosts;          // multi-host; empty = one machine
  uint16_t vxlan_port = kDefaultVxlanPort;  // top-level `vxlan_port`
  std::string part_host;            // set in one host's part (cluster::host_part): that host's name
  SourcePos pos;

  int find_node(const std::string& name) const;    // -1 if absent; O(1) after the first call
  int find_host(const std::string& name) const;    // -1 if absent
  int find_bridge(const std::string& name) const;  // -1 if absent

 private:
  // Name -> index of `nodes`, rebuilt when it no longer matches (the model is
  // plain data that callers edit). A deploy looks nodes up by name for every
  // action: a linear search made that O(N^2) at ten thousand nodes. Copies
  // start without it; a mutex keeps it safe for the threads of a phase.
  struct NodeIndex {
    NodeIndex() = default;
    NodeIndex(const NodeIndex&) {}
    NodeIndex& operator=(const NodeIndex&) { return *this; }
    std::mutex mutex;
    std::unordered_map<std::string, int> map;
  };
  mutable NodeIndex node_index_;
};

/// Limits derived from names (documented in docs/topology.md).
inline constexpr size_t kMaxBridgePorts = 1023;  // the kernel's BR_MAX_PORTS - 1 (port 0 is invalid)
inline constexpr size_t kMaxHostName = 32;

}  // namespace netlab::topo
