// OCI and Docker manifests, indexes and image configs: the JSON documents an
// image is made of, parsed and checked (media types, digests, platform).
#pragma once

#include <string>
#include <vector>

#include "image/store.hpp"

namespace netlab::image {

struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = -1;
  std::string os, architecture;  // from an index entry's platform
  std::string ref_name;          // org.opencontainers.image.ref.name
};

struct Manifest {
  Descriptor config;
  std::vector<Descriptor> layers;  // bottom first
};

/// Media types a registry is asked for (Accept:) and that an index or manifest may name.
extern const char* const kAcceptManifests;

bool is_index_type(const std::string& media_type);
bool is_manifest_type(const std::string& media_type);

/// The entries of an index (OCI image index or Docker manifest list).
std::vector<Descriptor> parse_index(const std::string& data, const std::string& what);
/// The linux/<host architecture> manifest of an index; Error names the platforms it has otherwise.
Descriptor pick_platform(const std::vector<Descriptor>& entries, const std::string& what);
/// A manifest; every layer's media type must be a tar (plain, gzip or zstd).
Manifest parse_manifest(const std::string& data, const std::string& what);
/// The config's process defaults, and its rootfs diff_ids.
ImageConfig parse_config(const std::string& data, const std::string& what, std::vector<std::string>* diff_ids = nullptr);

/// The media type a document declares ("" when it has none).
std::string media_type_of(const std::string& data, const std::string& what);

}  // namespace netlab::image
