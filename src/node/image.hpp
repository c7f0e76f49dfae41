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

/// A lab's /etc/hosts as a read-only overlay layer (<lab_dir>/hosts-<hash>[-<uid>-<gid>]/etc/hosts,
/// owned by `owner` for contained nodes), shared by the lab's nodes above their
/// image: one file per lab, not one per node (10 000 nodes × 10 000 lines was
/// 2 GiB of tmpfs). The name holds a hash of the content, so a node started
/// after the lab changed (apply) gets the new file while the others keep theirs.
/// `created` (if given) tells whether this call made it.
std::string ensure_hosts_layer(const std::string& lab_dir, const std::string& hosts,
                               std::optional<std::pair<uint32_t, uint32_t>> owner = std::nullopt,
                               bool* created = nullptr);

}  // namespace netlab::node
