// The busybox image: a root filesystem built once from the host's static
// busybox (Debian's busybox-static) and shared read-only as the lower layer of
// every node's overlay. Built in a temporary directory and renamed into place,
// so concurrent deploys never see half an image.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace netlab::node {

/// Applet names compiled into a busybox binary, read from the binary itself (its
/// packed, NUL-separated applet table starts with "[" and "[["): no need to run
/// `busybox --list`, which netlab may not do.
std::vector<std::string> busybox_applets(const std::string& binary);

/// Returns <images_dir>/busybox, building it first if it does not exist.
/// With `owner` (a user-namespace node's root as the host sees it), the image is
/// <images_dir>/busybox-<uid>-<gid>, owned by that user: overlayfs copies a file
/// up with its owner, and a node's root could not copy up files of an unmapped one.
/// Throws Error naming the step (e.g. ENOENT when /bin/busybox is missing).
std::string ensure_busybox_image(const std::string& images_dir, const std::string& binary = "/bin/busybox",
                                 std::optional<std::pair<uint32_t, uint32_t>> owner = std::nullopt);

/// The skeleton of the host's /var for host-image nodes: its directories (on
/// the same file system, at most 8 deep), empty, with their modes and owners
/// (shifted to `owner`'s range for a contained node's root), and /var/run and
/// /var/lock pointing into the node's private /run. Each node gets it as the
/// lower layer of a private writable /var, so a package's init script finds
/// the directories it expects. The name holds a hash of what was copied: a
/// package installed later gives a new skeleton, while running nodes keep the
/// one they use. Returns its path.
std::string ensure_var_skeleton(const std::string& images_dir, const std::string& var = "/var",
                                std::optional<std::pair<uint32_t, uint32_t>> owner = std::nullopt);

}  // namespace netlab::node
