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

}  // namespace netlab::node
