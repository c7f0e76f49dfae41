// What a node's init is asked to do, and how it travels: netlab encodes the
// spec and sends it on the node's release channel; the init program
// (netlab-init, exec'd in the node's new namespaces) decodes it. Standard
// headers only: the static init links nothing of netlab's but this.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "node/userns.hpp"

namespace netlab::node {

enum class RootfsKind { kBusybox, kHost, kPath, kImage };

struct BindSpec {
  std::string host_path;
  std::string node_path;
  bool read_only = false;
  bool operator==(const BindSpec&) const = default;
};

struct NodeSpec {
  std::string name;
  std::string hostname;
  int netns_fd = -1;             // the node joins this network namespace (netlab's side only)
  RootfsKind rootfs = RootfsKind::kBusybox;
  std::string lower;             // busybox image dir, the rootfs path, or an image's layer dirs "top:…:bottom"
  std::string var_lower;         // host image: the skeleton of the host's /var
  std::string hosts_layer;       // the lab's read-only layer holding etc/hosts, above the image (shared by its nodes)
  std::string node_dir;          // holds upper/, work/, root/ and the log
  std::vector<BindSpec> binds;
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> sysctls;
  bool forwarding = false;
  bool sysfs = true;             // mount /sys (the node's network namespace's view)
  std::vector<std::vector<std::string>> exec;  // run in order before READY
  std::vector<std::string> cmd;                // empty: init just waits
  std::optional<std::pair<uint32_t, uint32_t>> user;  // uid, gid of exec/cmd
  std::string workdir;           // directory exec/cmd start in (an image's WorkingDir); "" = /
  bool sys_admin = false;
  std::string cgroup;            // relative cgroup path (netlab's side only)
  // A contained node: its root is this host range's first uid, in the user
  // namespace that owns its network namespace. nullopt: a privileged node.
  std::optional<IdRange> userns;
};

/// The part of `spec` the init needs, as one message.
std::string encode_spec(const NodeSpec& spec);
/// Throws std::exception on a malformed message.
NodeSpec decode_spec(std::string_view message);

}  // namespace netlab::node
