// What libarchive may read for netlab: tar (ustar, pax, GNU) plain, gzip or
// zstd — the compressions of OCI and Docker layers — each through a library
// linked into netlab. archive_read_support_filter_all would also accept lz4,
// lzop, lrzip and others by running an external program, which netlab may
// not do; a libarchive built without zlib or libzstd is refused the same way.
#pragma once

#include <archive.h>

#include <cerrno>
#include <string>

#include "util/error.hpp"

namespace netlab::image {

inline void support_layer_formats(struct archive* a, const std::string& what) {
  if (archive_read_support_filter_gzip(a) != ARCHIVE_OK || archive_read_support_filter_zstd(a) != ARCHIVE_OK)
    throw Error(ENOTSUP, "{}: this libarchive reads gzip or zstd only through an external program", what);
  archive_read_support_format_tar(a);
  archive_read_support_format_gnutar(a);
}

}  // namespace netlab::image
