// The node's file system, built by netlab-init while it is still host root in
// a mount namespace that belongs to the host (so nothing here can be undone
// from inside a contained node): the root (an overlay over the image, or the
// host's directories), the binds, /proc, /sys, /dev, /tmp and, for a contained
// node, the masks of the OCI defaults. See docs/security.md.
#pragma once

#include <string>

#include "node/spec.hpp"

namespace netlab::node::detail {

/// Mounts everything under `root` (not yet pivoted into). `userns_fd` is the
/// node's user namespace for a contained node (its image and the host's
/// read-only directories are idmapped to it, so they look root-owned inside),
/// -1 for a privileged one.
void build_root(const NodeSpec& spec, const std::string& root, int userns_fd);

/// Opens `node_path` (absolute, normalised) inside the directory `root_fd` as
/// an O_PATH descriptor, resolving every symlink as if `root_fd` were "/" and
/// never through /proc magic links, creating what is missing: directories on
/// the way, and the last part as a directory (`dir`) or an empty file.
int open_in_root(int root_fd, const std::string& node_path, bool dir);

}  // namespace netlab::node::detail
