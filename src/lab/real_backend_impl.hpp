// Internal to lab/: the real Backend's state, shared by real_backend.cpp (dispatch,
// host, nodes, undo) and real_backend_net.cpp (namespaces, links, addresses, routes).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "image/image.hpp"
#include "lab/backend.hpp"
#include "lab/plan.hpp"
#include "netlink/netns.hpp"
#include "netlink/netns_store.hpp"
#include "netlink/socket.hpp"
#include "nft/ruleset.hpp"
#include "node/cgroup.hpp"
#include "node/spawn.hpp"
#include "topology/model.hpp"

namespace netlab::lab {

class RealBackend : public Backend {
 public:
  RealBackend(const topo::Lab* lab, HostFacts facts);
  ~RealBackend() override;

  void preflight(const Plan& plan) override;
  void prepare(Action& action) override;
  void run(std::span<Action> batch) override;
  void undo(const Undo& u) override;
  void change(const Change& c) override;  // real_backend_change.cpp
  std::string node_sysctl(const SetNodeSysctl& s) override;
  void undo_step(std::span<const Undo> undos, const std::function<void(size_t, const Error*)>& done) override;

  /// Netlink requests sent so far, over every socket (for benchmarks and notes).
  uint64_t requests_sent() const override;
  void discard_created(const Backend* keep) override;
  std::vector<std::string> files_in_use() const override;

 private:
  // real_backend_net.cpp
  std::string ns_label(const std::string& ns) const;
  /// The namespace `ns` (host, fabric or a node), from a small cache; a
  /// reference stays valid until the next call for another node.
  nl::Netns& netns(const std::string& ns);
  /// A node's namespace, opened afresh (from the store, else its pin).
  nl::Netns open_node_netns(const std::string& node);
  nl::RtnlSocket& socket(const std::string& ns);
  uint32_t host_ifindex(const std::string& name);
  void make_fabric();
  uint32_t free_host_ifindex();
  void run_namespaces(std::span<Action> batch);
  /// Refuses a lab the host's limits (namespaces, pids, open files) cannot hold.
  void check_host_limits(size_t nodes, size_t contained) const;
  void run_links(std::span<Action> batch);
  // real_backend_vxlan.cpp (multi-host)
  void run_vxlans(std::span<Action> batch, const std::vector<size_t>& which);
  void run_net_config(std::span<Action> batch);
  void run_pins(std::span<Action> batch);
  void throw_first(const std::vector<nl::Ack>& acks, const std::string& ns,
                   const std::function<size_t(size_t)>& to_batch_index);
  void delete_host_link(const DeleteLink& d);
  // real_backend_change.cpp
  void set_node_sysctl(const SetNodeSysctl& s);

  // real_backend.cpp
  void run_nft(std::span<Action> batch);
  nft::TableSpec nft_spec(const ApplyNft& a);
  std::string host_uplink();
  void run_host(std::span<Action> batch);
  void run_nodes(std::span<Action> batch);
  /// Nodes started but not yet READY at once, from the open-files limit.
  static size_t node_window();
  node::NodeSpec node_spec(const topo::Node& n);
  const node::IdRange& userns_range();
  /// Who owns a node's image files on the host: a contained node's root.
  std::optional<std::pair<uint32_t, uint32_t>> image_owner(const topo::Node& n);
  std::string hosts_file() const;
  // real_backend_image.cpp: OCI images (resolved once per reference and run)
  const image::Resolved& oci_image(const topo::Node& n);
  void apply_image_defaults(const topo::Node& n, node::NodeSpec& s);
  node::Cgroups& cgroups();

  const topo::Lab* lab_;
  HostFacts facts_;
  std::string lab_name_;
  nl::Netns host_;
  nl::Netns fabric_;
  // Node namespaces are held by the store from their creation until their
  // pins exist, and reopened by name when a step needs one: descriptors in use
  // do not grow with the lab (the cache below is bounded).
  std::unique_ptr<nl::NetnsStore> store_;
  std::map<std::string, nl::Netns> node_ns_;      // at most kCachedNetns
  std::map<std::string, nl::RtnlSocket> sockets_;  // host and fabric; a node's only while in use
  uint64_t closed_socket_requests_ = 0;
  std::unique_ptr<node::Cgroups> cgroups_;
  std::string busybox_image_[2];  // [contained]
  std::string var_skeleton_[2];   // [contained]
  std::string hosts_layer_[2];    // [contained]
  std::vector<std::string> created_files_;  // in the lab's directory, by this instance (discard_created)
  std::map<std::string, image::Resolved> oci_images_;  // by reference as written
  std::optional<node::IdRange> userns_range_;
};

}  // namespace netlab::lab
