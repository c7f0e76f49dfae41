// Images from files: an OCI image layout directory, a tar of one
// (oci-archive) and what `docker save` writes (docker-archive). Every blob is
// copied into the store and checked against its digest before it is used.
#pragma once

#include <string>

#include "image/store.hpp"

namespace netlab::image {

/// The manifest of the layout at `dir` whose ref.name annotation is `tag`
/// (the only one when `tag` is empty), its config and layers stored.
StoredImage import_oci_layout(Store& store, const std::string& dir, const std::string& tag, const std::string& what);
StoredImage import_oci_archive(Store& store, const std::string& file, const std::string& what);
StoredImage import_docker_archive(Store& store, const std::string& file, const std::string& what);

/// Unpacks the regular files of a tar `file` into `dest` (an empty directory);
/// any entry with an absolute path or ".." is refused. For archives of images.
void extract_plain_files(const std::string& file, const std::string& dest, const std::string& what);

}  // namespace netlab::image
