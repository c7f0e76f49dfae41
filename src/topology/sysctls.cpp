#include "topology/sysctls.hpp"

#include <algorithm>
#include <iterator>
#include <string_view>

namespace netlab::topo {

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// net.* keys that are not per network namespace: the kernel registers them for
// the initial namespace only (a fresh namespace's /proc/sys/net has no such
// file), or shows them read-only outside it because they hold one global value.
// Measured on Linux 6.18 by listing /proc/sys/net in the host and in a fresh
// `unshare -n`; see docs/topology.md. A key missing here that is not per
// namespace either still cannot reach the host: the node writes it in its own
// namespace, where the kernel has no such file, and deploy fails.
constexpr std::string_view kHostNet[] = {
    // net.core (per namespace: optmem_max, rps_default_mask, somaxconn,
    // tstamp_allow_data, txrehash, xfrm_*)
    "net.core.bpf_jit_enable",
    "net.core.bpf_jit_harden",
    "net.core.bpf_jit_kallsyms",
    "net.core.bpf_jit_limit",
    "net.core.busy_poll",
    "net.core.busy_read",
    "net.core.default_qdisc",
    "net.core.dev_weight",
    "net.core.dev_weight_rx_bias",
    "net.core.dev_weight_tx_bias",
    "net.core.devconf_inherit_init_net",
    "net.core.fb_tunnels_only_for_init_net",
    "net.core.flow_limit_cpu_bitmap",
    "net.core.flow_limit_table_len",
    "net.core.gro_normal_batch",
    "net.core.high_order_alloc_disable",
    "net.core.max_skb_frags",
    "net.core.mem_pcpu_rsv",
    "net.core.message_burst",
    "net.core.message_cost",
    "net.core.netdev_budget",
    "net.core.netdev_budget_usecs",
    "net.core.netdev_max_backlog",
    "net.core.netdev_rss_key",
    "net.core.netdev_tstamp_prequeue",
    "net.core.netdev_unregister_timeout_secs",
    "net.core.rps_sock_flow_entries",
    "net.core.skb_defer_max",
    "net.core.warnings",
    "net.core.rmem_default",
    "net.core.rmem_max",
    "net.core.wmem_default",
    "net.core.wmem_max",
    // net.ipv4
    "net.ipv4.fib_sync_mem",
    "net.ipv4.ipfrag_secret_interval",
    "net.ipv4.tcp_available_ulp",
    "net.ipv4.tcp_low_latency",
    "net.ipv4.tcp_max_orphans",
    "net.ipv4.tcp_mem",
    "net.ipv4.udp_mem",
    "net.ipv4.tcp_allowed_congestion_control",
    "net.ipv4.tcp_available_congestion_control",
    "net.ipv4.tcp_ehash_entries",
    "net.ipv4.udp_hash_entries",
    // net.ipv6
    "net.ipv6.ip6frag_secret_interval",
    "net.ipv6.mld_max_msf",
    "net.ipv6.mld_qrv",
    // netfilter, mptcp
    "net.nf_conntrack_max",
    "net.netfilter.nf_log_all_netns",
    "net.netfilter.nf_conntrack_max",
    "net.netfilter.nf_conntrack_buckets",
    "net.netfilter.nf_conntrack_count",
    "net.netfilter.nf_conntrack_expect_max",
    "net.mptcp.available_path_managers",
    "net.mptcp.available_schedulers",
    // prefixes (end in '.' or '_')
    "net.ipv4.cipso_",
    "net.ipv4.inet_peer_",
    "net.ipv6.calipso_",
    "net.ipv4.neigh.default.",
    "net.ipv6.neigh.default.",
};

// net.ipv4.route: only these four exist in a namespace other than the host's.
constexpr std::string_view kNetnsRoute[] = {"flush", "min_adv_mss", "min_pmtu", "mtu_expires"};

// Per IPC namespace (ipc/ipc_sysctl.c, ipc/mq_sysctl.c): a node's init writes
// them inside the node's IPC namespace (verified with `unshare -i`: the host
// value stays).
constexpr std::string_view kIpc[] = {
    "kernel.shmmax",
    "kernel.shmall",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "fs.mqueue.queues_max",
    "fs.mqueue.msg_max",
    "fs.mqueue.msgsize_max",
    "fs.mqueue.msg_default",
    "fs.mqueue.msgsize_default",
};

bool host_net(std::string_view key) {
  for (auto k : kHostNet) {
    bool prefix = k.back() == '.' || k.back() == '_';
    if (prefix ? starts_with(key, k) : key == k) return true;
  }
  if (starts_with(key, "net.ipv4.route.")) {
    auto rest = key.substr(std::string_view("net.ipv4.route.").size());
    return std::find(std::begin(kNetnsRoute), std::end(kNetnsRoute), rest) == std::end(kNetnsRoute);
  }
  return false;
}

}  // namespace

std::string sysctl_refusal(const std::string& key) {
  bool malformed =
      key.empty() || key.front() == '.' || key.back() == '.' || key.find("..") != std::string::npos;
  for (unsigned char c : key)
    if (c == '/' || c <= ' ' || c == 0x7f) malformed = true;
  if (malformed)
    return "is not a sysctl name: parts separated by '.', none empty, without '/', spaces or "
           "control characters";
  if (key == "kernel.hostname")
    return "is the node's hostname: set the node's `hostname` key instead";
  std::string_view k(key);
  if (starts_with(k, "net.")) {
    if (!host_net(k)) return "";
    return "is host-global: the kernel keeps it in the host's network namespace only";
  }
  // Per UTS namespace, but the kernel lets only the host's root write the UTS
  // sysctls: a node with a user namespace is refused at deploy.
  if (key == "kernel.domainname")
    return "cannot be set in a node: the kernel lets only the host's root write it, even in the "
           "node's UTS namespace";
  if (std::find(std::begin(kIpc), std::end(kIpc), k) != std::end(kIpc)) return "";
  return "is host-global: a node may set only sysctls of its own namespaces (net.*; kernel.shm*, "
         "kernel.msg*, kernel.sem, fs.mqueue.*)";
}

}  // namespace netlab::topo
