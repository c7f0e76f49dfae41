// One image layer (a tar, gzip/zstd-compressed or not) unpacked into a
// directory in overlayfs's form: `.wh.NAME` becomes a whiteout (a 0:0
// character device), `.wh..wh..opq` the directory's trusted.overlay.opaque=y.
// Hostile archives are refused with the entry named: absolute paths, "..",
// paths through a symlink of the layer, hard links out of it, relative
// symlinks climbing above the layer's root, xattrs of the trusted.* space
// (overlayfs's own: a layer may not forge redirects or opacity). Device nodes
// are skipped (nodes mount their roots nodev; docs/images.md); setuid bits
// are kept (nodes mount them nosuid).
#pragma once

#include <cstdint>
#include <string>

namespace netlab::image {

struct UnpackStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;          // regular files' contents
  uint64_t whiteouts = 0;      // files and opaque directories
  uint64_t devices_skipped = 0;
};

/// Unpacks `blob` into `dest`, which must not exist and is created. On any
/// failure `dest` is removed and Error names `what` and the entry.
UnpackStats unpack_layer(const std::string& blob, const std::string& dest, const std::string& what);

}  // namespace netlab::image
