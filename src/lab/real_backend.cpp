// The real Backend: dispatch by phase, host sysctls, nodes (cgroups, rootfs
// directories, start in parallel, wait for READY), and every undo.
#include "lab/real_backend.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <malloc.h>
#include <sys/resource.h>
#include <filesystem>
#include "util/log.hpp"

#include <net/if.h>

#include <nlohmann/json.hpp>

#include "lab/lifecycle.hpp"
#include "lab/netem_probe.hpp"
#include "lab/real_backend_impl.hpp"
#include "util/remove_tree.hpp"
#include "netlink/dump.hpp"
#include "node/control.hpp"
#include "node/image.hpp"
#include "util/overloaded.hpp"
#include "util/parallel.hpp"
#include "util/strings.hpp"

namespace netlab::lab {

namespace {

constexpr int kReadyTimeoutMs = 60'000;

}  // namespace

std::unique_ptr<Backend> make_real_backend(const topo::Lab* lab, const HostFacts& facts) {
  return std::make_unique<RealBackend>(lab, facts);
}

RealBackend::RealBackend(const topo::Lab* lab, HostFacts facts)
    : lab_(lab), facts_(std::move(facts)), host_(nl::Netns::current()) {
  if (lab_) lab_name_ = lab_->name;
  node::raise_fd_limit();
  if (lab_) node::prepare_node_starts();  // low descriptor numbers, before a namespace is opened
}

RealBackend::~RealBackend() = default;

node::Cgroups& RealBackend::cgroups() {
  if (!cgroups_) cgroups_ = node::make_cgroups();
  return *cgroups_;
}

uint64_t RealBackend::requests_sent() const {
  uint64_t n = closed_socket_requests_;
  for (const auto& [ns, s] : sockets_) n += s.requests_sent();
  return n;
}

void RealBackend::prepare(Action& action) {
  if (auto* s = std::get_if<SetHostSysctl>(&action)) {
    s->previous = std::string(trim(read_file(sysctl_path(s->key))));
    s->has_previous = true;
  } else if (auto* f = std::get_if<CreateFabric>(&action)) {
    // Made now, held by a descriptor only (a crash frees it): the journal
    // records which namespace the pin is to hold before the pin exists.
    if (!fabric_.valid()) make_fabric();
    f->inode = fabric_.inode();
  } else if (auto* p = std::get_if<PinNodeNetns>(&action)) {
    p->inode = netns(p->node).inode();
  } else if (auto* v = std::get_if<CreateVeth>(&action)) {
    if (v->b_ns == kHostNs && !v->b_ifindex) v->b_ifindex = free_host_ifindex();
  }
}

void RealBackend::preflight(const Plan& plan) {
  // Everything here runs before the journal exists: a refusal leaves nothing.
  {
    size_t nodes = 0, contained = 0;
    for (const auto& a : plan.actions)
      if (auto* n = std::get_if<CreateNodeNetns>(&a)) {
        ++nodes;
        if (lab_ && !lab_->nodes[lab_->find_node(n->node)].privileged) ++contained;
      }
    check_host_limits(nodes, contained);
  }
  nl::ensure_pin_dir(facts_.netns_dir);
  std::vector<std::string> host_ifaces;
  for (const auto& a : plan.actions) {
    std::string pin;
    if (auto* f = std::get_if<CreateFabric>(&a)) pin = f->pin;
    if (auto* p = std::get_if<PinNodeNetns>(&a)) pin = p->pin;
    if (!pin.empty() && ::access(pin.c_str(), F_OK) == 0)
      throw LabConflict(EEXIST,
                        "netns pin {} exists already (another lab of this name deployed with another --state-dir, "
                        "or made by `ip netns add`); nothing was built",
                        pin);
    if (auto* v = std::get_if<CreateVeth>(&a); v && v->b_ns == kHostNs) host_ifaces.push_back(v->b_name);
  }
  if (!host_ifaces.empty()) {
    for (const auto& l : nl::dump_links(socket(kHostNs))) {
      if (std::find(host_ifaces.begin(), host_ifaces.end(), l.name) == host_ifaces.end()) continue;
      std::string owner = l.alias.starts_with("netlab:") ? "made by netlab (" + l.alias + ")" : "not made by netlab";
      throw LabConflict(EEXIST, "host interface {} exists already ({}); choose another `iface` for its bridge; "
                                "nothing was built",
                        l.name, owner);
    }
  }
  check_netem(plan, host_);
}

void RealBackend::run(std::span<Action> batch) {
  if (batch.empty()) return;
  switch (phase_of(batch.front())) {
    case Phase::kNamespaces: return run_namespaces(batch);
    case Phase::kLinks: return run_links(batch);
    case Phase::kNetConfig: return run_net_config(batch);
    case Phase::kNft: return run_nft(batch);
    case Phase::kHost: return run_host(batch);
    case Phase::kNodes: return run_nodes(batch);
    case Phase::kPins: return run_pins(batch);
  }
}

nft::TableSpec RealBackend::nft_spec(const ApplyNft& a) {
  auto j = nlohmann::json::parse(a.spec_json);
  nft::TableSpec t;
  t.name = a.table;
  for (const auto& m : j.value("masquerade", nlohmann::json::array())) t.masquerade.push_back({m.at("out")});
  for (const auto& m : j.value("snat", nlohmann::json::array()))
    t.snat.push_back({m.at("out"), m.at("to"), m.value("to_end", "")});
  for (const auto& m : j.value("dnat", nlohmann::json::array()))
    t.dnat.push_back({m.at("in"), m.at("proto"), m.at("port"), m.at("to"), m.value("to_port", uint16_t{0})});
  for (const auto& m : j.value("host_masquerade", nlohmann::json::array())) {
    std::string out = m.value("out", "");
    if (out.empty()) out = host_uplink();
    t.source_masquerade.push_back({m.at("from"), out});
  }
  if (j.contains("firewall")) {
    const auto& f = j["firewall"];
    t.has_firewall = true;
    t.firewall.input_drop = f.value("input", "accept") == "drop";
    t.firewall.forward_drop = f.value("forward", "accept") == "drop";
    t.firewall.allow_ifaces = f.value("allow_ifaces", std::vector<std::string>{});
    t.firewall.allow_from = f.value("allow_from", std::vector<std::string>{});
    for (const auto& p : f.value("open", nlohmann::json::array())) t.firewall.open.push_back({p.at("proto"), p.at("port")});
  }
  return t;
}

std::string RealBackend::host_uplink() {
  for (const auto& r : nl::dump_routes(socket(kHostNs))) {
    if (r.family != AF_INET || r.dst != "0.0.0.0/0" || !r.oif) continue;
    char name[IF_NAMESIZE] = {};
    if (if_indextoname(r.oif, name)) return name;
  }
  throw Error(ENETUNREACH, "host NAT: the host has no IPv4 default route to masquerade out of");
}

void RealBackend::run_nft(std::span<Action> batch) {
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& a = std::get<ApplyNft>(batch[i]);
    try {
      nft::apply_table(netns(a.ns), ns_label(a.ns), nft_spec(a));
    } catch (Error& e) {
      throw ActionError(i, std::move(e));
    }
  }
}

void RealBackend::run_host(std::span<Action> batch) {
  for (size_t i = 0; i < batch.size(); ++i) {
    auto& s = std::get<SetHostSysctl>(batch[i]);
    try {
      write_file(sysctl_path(s.key), s.value);
    } catch (Error& e) {
      throw ActionError(i, std::move(e.wrap("setting " + describe(batch[i]))));
    }
  }
}

std::string RealBackend::hosts_file() const {
  std::string out = "127.0.0.1 localhost\n::1 localhost\n";
  for (const auto& n : lab_->nodes)
    for (const auto& i : n.interfaces)
      for (const auto& a : i.addresses) out += fmt::format("{} {}\n", a.addr.str(), n.name);
  return out;
}

const node::IdRange& RealBackend::userns_range() {
  if (!userns_range_) userns_range_ = node::userns_id_range();
  return *userns_range_;
}

std::optional<std::pair<uint32_t, uint32_t>> RealBackend::image_owner(const topo::Node& n) {
  if (n.privileged) return std::nullopt;
  return std::pair{userns_range().host_uid, userns_range().host_gid};
}

void RealBackend::discard_created(const Backend* keep) {
  std::vector<std::string> used;
  if (keep) used = keep->files_in_use();
  for (const auto& f : created_files_)
    if (std::find(used.begin(), used.end(), f) == used.end()) remove_tree(f);
  created_files_.clear();
}

std::vector<std::string> RealBackend::files_in_use() const {
  std::vector<std::string> out;
  for (const auto& h : hosts_layer_)
    if (!h.empty()) out.push_back(h);
  return out;
}

node::NodeSpec RealBackend::node_spec(const topo::Node& n) {
  node::NodeSpec s;
  s.name = n.name;
  s.hostname = n.hostname;
  s.netns_fd = netns(n.name).fd();
  s.node_dir = node_dir(facts_, lab_name_, n.name);
  switch (n.image.kind) {
    case topo::ImageKind::kBusybox: {
      s.rootfs = node::RootfsKind::kBusybox;
      // A contained node's copy is owned by its root: overlayfs copies a file
      // up with its owner.
      std::string& image = busybox_image_[!n.privileged];
      if (image.empty())
        image = node::ensure_busybox_image(facts_.state_dir + "/images", "/bin/busybox", image_owner(n));
      s.lower = image;
      break;
    }
    case topo::ImageKind::kHost: {
      s.rootfs = node::RootfsKind::kHost;
      std::string& skeleton = var_skeleton_[!n.privileged];
      if (skeleton.empty()) skeleton = node::ensure_var_skeleton(facts_.state_dir + "/images", "/var", image_owner(n));
      s.var_lower = skeleton;
      break;
    }
    case topo::ImageKind::kPath:
      s.rootfs = node::RootfsKind::kPath;
      s.lower = n.image.path;
      break;
    case topo::ImageKind::kOci:
      s.rootfs = node::RootfsKind::kImage;
      s.lower = join(oci_image(n).lower, ":");
      break;
  }
  std::string& hosts = hosts_layer_[!n.privileged];
  if (hosts.empty()) {
    bool created = false;
    hosts = node::ensure_hosts_layer(lab_dir(facts_, lab_name_), hosts_file(), image_owner(n), &created);
    if (created) created_files_.push_back(hosts);
  }
  s.hosts_layer = hosts;
  for (const auto& b : n.binds) s.binds.push_back({b.host_path, b.node_path, b.read_only});
  s.env = n.env;
  s.sysctls = n.sysctls;
  s.forwarding = n.forwarding;
  s.sysfs = n.sysfs;
  for (const auto& c : n.exec) s.exec.push_back(c.argv);
  if (n.cmd) s.cmd = n.cmd->argv;
  if (n.user) s.user = std::make_pair(n.user->uid, n.user->gid);
  s.cgroup = cgroup_path(facts_, lab_name_, n.name);
  if (!n.privileged) s.userns = userns_range();
  if (n.image.kind == topo::ImageKind::kOci) apply_image_defaults(n, s);
  return s;
}

void RealBackend::run_nodes(std::span<Action> batch) {
  // Every socket is closed before the first clone: each child would copy them all.
  for (auto& [ns, s] : sockets_) closed_socket_requests_ += s.requests_sent();
  sockets_.clear();
  // Each clone copies the page tables of every resident anonymous page: hand
  // the heap that the network phases freed back to the kernel first (for 1000
  // nodes, 18 MiB resident becomes 5, and a clone costs half).
  malloc_trim(0);
  std::vector<node::Started> started;
  started.reserve(batch.size());
  std::vector<size_t> started_index;
  auto t0 = std::chrono::steady_clock::now();
  auto lap = [&](const char* what) {
    auto now = std::chrono::steady_clock::now();
    log::debug("nodes: {} in {:.1f} ms", what, std::chrono::duration<double, std::milli>(now - t0).count());
    t0 = now;
  };
  // Nodes set themselves up while later ones are cloned; at most `window`
  // are awaited at once (each holds a pidfd and a status pipe until READY),
  // so descriptors do not grow with the lab.
  const size_t window = node_window();
  size_t awaited = 0;
  std::vector<std::pair<std::string, int>> exec_failures;
  node::Starter starter;  // one exec'd netlab-init forks the phase's inits
  auto await_until = [&](size_t in_flight) {
    while (started.size() - awaited > in_flight) {
      size_t end = std::min(started.size(), awaited + std::max<size_t>(1, window / 2));
      std::vector<node::Started*> chunk;
      for (size_t k = awaited; k < end; ++k) chunk.push_back(&started[k]);
      try {
        node::wait_ready(chunk, kReadyTimeoutMs);
      } catch (node::NodeError& e) {
        throw ActionError(started_index[awaited + e.index()], std::move(e));
      }
      for (size_t k = awaited; k < end; ++k) {
        if (started[k].exec_failures) exec_failures.emplace_back(started[k].name, started[k].exec_failures);
        started[k].pidfd.reset();
        started[k].ready.reset();
      }
      awaited = end;
    }
  };
  for (size_t i = 0; i < batch.size(); ++i) {
    if (on_batch_progress && i % 64 == 63) on_batch_progress(i + 1);
    if (i > 0 && batch[i].index() != batch[i - 1].index())
      lap(std::holds_alternative<PrepareRootfs>(batch[i]) ? "cgroups" : "rootfs directories");
    try {
      std::visit(Overloaded{
                     [&](const CreateCgroup& c) {
                       const auto& n = lab_->nodes[lab_->find_node(c.node)];
                       node::CgroupLimits l;
                       if (n.limits.cpus) l.cpus = n.limits.cpus->cores;
                       if (n.limits.memory) l.memory_bytes = n.limits.memory->bytes;
                       l.pids = n.limits.pids;
                       l.weight = n.limits.cpu_weight;
                       cgroups().create(c.path, l);
                     },
                     [&](const PrepareRootfs& r) {
                       const auto& n = lab_->nodes[lab_->find_node(r.node)];
                       if (n.image.kind == topo::ImageKind::kOci) oci_image(n);  // pulled and unpacked before any start
                       node::prepare_node_dir(r.dir, n.privileged ? std::nullopt : std::optional(userns_range()),
                                              n.image.kind == topo::ImageKind::kHost);
                     },
                     [&](StartNode& s) {
                       const auto& n = lab_->nodes[s.node_index];
                       await_until(window - 1);
                       started.push_back(starter.start(node_spec(n), cgroups()));
                       started_index.push_back(i);
                       s.pid = started.back().pid;
                       s.start_time = started.back().start_time;
                     },
                     [&](const RestartProgram& r) {
                       const auto& n = lab_->nodes[lab_->find_node(r.node)];
                       if (int failures = node::restart_program(node_spec(n), kReadyTimeoutMs))
                         exec_failures.emplace_back(n.name, failures);
                     },
                     [&](const auto&) { throw Error(EINVAL, "{} is not a node action", describe(batch[i])); },
                 },
                 batch[i]);
    } catch (Error& e) {
      if (!std::holds_alternative<StartNode>(batch[i]) && !std::holds_alternative<RestartProgram>(batch[i]))
        e.wrap("creating " + describe(batch[i]));
      throw ActionError(i, std::move(e));
    }
  }
  lap("clones");
  auto started_at = std::chrono::steady_clock::now();
  await_until(0);
  log::debug("nodes: {} set up {:.1f} ms after the last clone", started.size(),
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_at).count());
  for (const auto& [name, failures] : exec_failures)
    log::warn("node {}: {} exec command(s) failed; see {}/log", name, failures, node_dir(facts_, lab_name_, name));
}

size_t RealBackend::node_window() {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  // What a deploy keeps open besides the nodes in flight: stdio, the slots of
  // node starts, host and fabric namespaces and sockets, the store, the
  // cached namespaces, the threads' procfs instances, cgroup directories.
  constexpr size_t kFixed = 96;
  size_t limit = rl.rlim_cur == RLIM_INFINITY ? 1 << 20 : rl.rlim_cur;
  return std::clamp<size_t>(limit > kFixed ? (limit - kFixed) / 3 : 1, 1, 128);
}

void RealBackend::undo_step(std::span<const Undo> undos, const std::function<void(size_t, const Error*)>& done) {
  auto all = [&](auto is) { return !undos.empty() && std::all_of(undos.begin(), undos.end(), is); };
  if (all([](const Undo& u) { return std::holds_alternative<KillNode>(u); })) {
    std::vector<node::NodeProcess> nodes;
    for (const auto& u : undos) {
      const auto& k = std::get<KillNode>(u);
      nodes.push_back({k.pid, k.start_time});
    }
    auto results = node::kill_nodes(nodes);
    for (size_t i = 0; i < results.size(); ++i) done(i, results[i] ? &*results[i] : nullptr);
    return;
  }
  // The rest waits on the kernel per object (an RCU grace period behind each
  // umount, cgroup teardown): a few threads overlap those waits.
  // Links, nftables and host sysctls stay in order, on this thread (their
  // sockets and namespaces are per thread).
  if (all([](const Undo& u) {
        return std::holds_alternative<RemoveCgroup>(u) || std::holds_alternative<Unpin>(u) ||
               std::holds_alternative<RemoveDir>(u);
      })) {
    cgroups();  // made once, before the threads
    std::vector<std::optional<Error>> results(undos.size());
    parallel_for(undos.size(), 8, [&](size_t i) {
      try {
        undo(undos[i]);
      } catch (const Error& e) {
        results[i] = e;
      }
    });
    for (size_t i = 0; i < results.size(); ++i) done(i, results[i] ? &*results[i] : nullptr);
    return;
  }
  Backend::undo_step(undos, done);
}

void RealBackend::undo(const Undo& u) {
  std::visit(Overloaded{
                 [&](const KillNode& k) { node::kill_node(k.pid, k.start_time); },
                 [&](const RemoveCgroup& c) { cgroups().remove(c.path); },
                 [&](const Unpin& p) {
                   if (nl::unpin(p.pin, p.inode) == nl::UnpinResult::kNotOurs)
                     log::info("{} holds a namespace this lab did not make; left in place", p.pin);
                 },
                 [&](const DeleteLink& d) { delete_host_link(d); },
                 [&](const DeleteNft& d) { nft::delete_table(netns(d.ns), ns_label(d.ns), d.table); },
                 [&](const RestoreSysctl& r) { write_file(sysctl_path(r.key), r.value); },
                 [&](const RemoveDir& d) { remove_tree(d.dir); },
             },
             u);
}

}  // namespace netlab::lab
