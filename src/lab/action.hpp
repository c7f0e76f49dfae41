// Actions: the steps of a plan. Each is a small struct with enough identity to
// describe itself ("veth h1:eth0 <-> lan"), to be journaled as one JSON line,
// and to be undone without the topology file. Knows nothing of netlink message
// layout or TOML; the Backend (backend.hpp) turns actions into kernel work.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace netlab::nl {
struct Impairment;
}

namespace netlab::lab {

/// Namespace references inside actions: the host's root netns, the lab's fabric
/// netns, or a node's netns (the node's name).
inline constexpr const char* kHostNs = "@host";
inline constexpr const char* kFabricNs = "@fabric";

/// An address or prefix as text ("192.168.50.2/24", "fd00::1/64", "default").
using AddrText = std::string;

/// The lab's fabric netns, pinned at `pin` (/run/netns/netlab-<lab>). The
/// backend makes the namespace in prepare() and records its inode here before
/// the intent is journaled: destroy unpins only that namespace.
struct CreateFabric {
  std::string pin;
  uint64_t inode = 0;
};

/// A node's netns: created unpinned (it dies with netlab until a node joins it).
struct CreateNodeNetns {
  std::string node;
};

struct CreateBridge {
  std::string name;
  uint32_t ifindex = 0;
  uint32_t mtu = 0;
};

/// One veth pair in one request; end a is up at creation, end b gets a SetLink.
struct CreateVeth {
  std::string label;  // "h1:eth0 <-> lan"
  std::string a_ns, a_name;
  uint32_t a_ifindex = 0;
  std::string b_ns, b_name;
  uint32_t b_ifindex = 0;
  uint32_t mtu = 0;
  std::string a_mac, b_mac;
  std::string a_alias, b_alias;  // ownership marker on host-side ends: "netlab:<lab>:<what>"
  // The b end up right after creation, in the same batch (the a end is up at
  // creation; the kernel cannot bring a veth's second end up in that request).
  // For bridge ports: the kernel's link watcher walks every down device with a
  // pending event each time a link comes up, so thousands of ports left down
  // until the next phase made bringing them up quadratic (docs/performance.md).
  bool b_up = false;
  // A host-side end asks for an ifindex that prepare() picked at random among
  // the free ones: with its name, the identity destroy checks before deleting.
};

/// Brings a link up, optionally enslaving it to a bridge (master) — one request.
struct SetLink {
  std::string ns;
  std::string name;
  uint32_t ifindex = 0;
  std::string master;  // bridge name in the same ns; "" = none
  uint32_t master_ifindex = 0;
  bool up = true;
  std::string alias;  // IFLA_IFALIAS (the kernel ignores it at creation)
};

struct AddAddress {
  std::string ns;
  std::string ifname;
  uint32_t ifindex = 0;  // 0: look the name up
  AddrText prefix;
};

struct AddRoute {
  std::string ns;
  AddrText to;   // "default" or a prefix; "default6" for ::/0
  AddrText via;  // "" = none
  std::string dev;
  uint32_t dev_ifindex = 0;
  uint32_t metric = 0;
};

/// Impairments on the egress of one interface (TBF and/or netem qdiscs).
struct AddQdisc {
  std::string link;  // the link's label ("a:eth0 <-> b:eth0"), for messages
  std::string ns;
  std::string ifname;
  uint32_t ifindex = 0;
  uint64_t delay_ns = 0;
  uint64_t jitter_ns = 0;
  double loss = 0;  // percent
  double duplicate = 0;
  double corrupt = 0;
  double reorder = 0;
  uint64_t rate_bps = 0;
  std::string distribution;  // of the jitter ("" = uniform)
};

/// One nftables table in one namespace, replaced as one atomic batch. The
/// contents are carried as JSON (the nft:: spec) so the journal stays readable.
struct ApplyNft {
  std::string ns;
  std::string family;  // "inet", "ip", "ip6"
  std::string table;
  std::string spec_json;
};

/// A sysctl in the host's root namespace; `previous` is read before the write.
struct SetHostSysctl {
  std::string key;  // "net.ipv4.ip_forward"
  std::string value;
  std::string previous;
  bool has_previous = false;
};

struct CreateCgroup {
  std::string node;
  std::string path;  // relative to each hierarchy: "<parent>/<lab>/<node>"
};

/// The node's private directories (overlay upper/work, log) under the state dir.
struct PrepareRootfs {
  std::string node;
  std::string dir;
};

struct StartNode {
  std::string node;
  int node_index = -1;
  // Filled by the backend once the node runs; journaled as a fact record.
  int pid = 0;
  uint64_t start_time = 0;
};

/// Apply: the node's program (exec commands, cmd) restarted by its running
/// init with the node's spec as the backend's lab has it (node/init.hpp); PID 1
/// and everything else of the node stay.
struct RestartProgram {
  std::string node;
};

struct PinNodeNetns {
  std::string node;
  std::string pin;  // /run/netns/<lab>-<node>
  uint64_t inode = 0;  // the node's netns, filled by prepare() before the intent is journaled
};

/// Multi-host (docs/multi-host.md): a VXLAN device, requested from the host's
/// root namespace (which keeps its UDP socket) and created directly in `ns` (a
/// node's, or the fabric for a bridge's port) under `name`. It dies with that
/// namespace, so it has no undo of its own.
struct CreateVxlan {
  std::string label;  // "r1:eth0 <-> r2:eth0 on h2", "bridge lan to h2 h3"
  std::string ns;
  std::string name;
  uint32_t ifindex = 0;
  uint32_t vni = 0;
  std::string local;
  std::string remote;  // "" = head-end replication (AddFdb per remote)
  uint16_t port = 0;
  uint32_t mtu = 0;
  bool learning = false;
  std::string mac;
};

/// Head-end replication: an all-zero FDB entry on a VXLAN device to one remote host.
struct AddFdb {
  std::string ns;
  std::string ifname;
  uint32_t ifindex = 0;
  std::string remote;
};

using Action = std::variant<CreateFabric, CreateNodeNetns, CreateBridge, CreateVeth, SetLink,
                            AddAddress, AddRoute, AddQdisc, ApplyNft, SetHostSysctl, CreateCgroup,
                            PrepareRootfs, StartNode, PinNodeNetns, CreateVxlan, AddFdb, RestartProgram>;

// ---- Undo actions: what destroy runs, in coarse steps (see destroy.cpp). ----

struct KillNode {
  std::string node;
  int pid = 0;  // 0 when the start was never recorded (the cgroup kill covers it)
  uint64_t start_time = 0;
};
struct RemoveCgroup {
  std::string path;
};
struct Unpin {
  std::string pin;
  uint64_t inode = 0;  // the namespace pinned there; another one is left in place
  bool fabric = false;  // the lab's fabric: unpinned before the nodes' (see destroy_step)
};
struct DeleteLink {  // host-side only: checked against its ifindex and alias marker first
  std::string ns;
  std::string name;
  std::string alias;
  uint32_t ifindex = 0;
};
struct DeleteNft {
  std::string ns;
  std::string family;
  std::string table;
};
struct RestoreSysctl {
  std::string key;
  std::string value;
};
struct RemoveDir {
  std::string dir;
};

using Undo = std::variant<KillNode, RemoveCgroup, Unpin, DeleteLink, DeleteNft, RestoreSysctl,
                          RemoveDir>;

/// "veth h1:eth0 <-> lan", "address 192.168.50.2/24 on h1:eth0" — the object part of messages.
std::string describe(const Action& a);
/// What an AddQdisc puts on its interface, as the netlink layer takes it.
nl::Impairment impairment_of(const AddQdisc& q);
std::string describe(const Undo& u);

/// Journal op name, e.g. "create_veth".
std::string op_name(const Action& a);

/// The undo of an action, or nothing when another undo subsumes it (a bridge
/// dies with its fabric netns, a node's NAT table with the node's netns).
std::optional<Undo> undo_of(const Action& a);

/// Destroy order: lower steps run first (kill nodes, cgroups, host objects, the
/// fabric's pin, the nodes' pins, files).
int destroy_step(const Undo& u);

/// Phase of an action; the executor batches consecutive actions with the same batch key.
/// Link setup, addresses and routes share one phase: the backend sends each
/// namespace's requests in plan order on that namespace's socket, so a node's
/// lo-up, addresses and routes cost one round trip, not three.
enum class Phase { kNamespaces, kLinks, kNetConfig, kNft, kHost, kNodes, kPins };
Phase phase_of(const Action& a);
/// The namespace whose socket carries the action ("" when not a netlink action).
std::string ns_of(const Action& a);

void to_json(nlohmann::json& j, const Action& a);
/// Throws netlab::Error on an unknown op or a malformed record.
Action action_from_json(const nlohmann::json& j);

}  // namespace netlab::lab
