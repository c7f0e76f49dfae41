// The entry point of the image module: a reference in, the node's overlay
// lower dirs (top layer first) and the image's process defaults out.
#pragma once

#include <string>
#include <vector>

#include "image/reference.hpp"
#include "image/store.hpp"

namespace netlab::image {

struct PullOptions {
  /// Registries (host[:port]) spoken to over plain HTTP. Loopback ones
  /// (localhost, 127.0.0.1, [::1]) always are; others come from the
  /// NETLAB_INSECURE_REGISTRIES environment variable (comma-separated).
  std::vector<std::string> insecure;
  /// Credentials file ("auths" with base64 user:password), default ~/.docker/config.json.
  std::string docker_config;
  /// Fetch the manifest again even when the reference is in the store (images pull).
  bool refresh = false;
};

/// Defaults from the environment (NETLAB_INSECURE_REGISTRIES, DOCKER_CONFIG, HOME).
PullOptions pull_options_from_env();

struct Resolved {
  std::string ref;                 // canonical reference
  std::string manifest;            // digest: the image's identity
  std::vector<std::string> lower;  // unpacked layer dirs, top first (overlayfs lowerdir order)
  ImageConfig defaults;
};

/// The store of a state dir: <state-dir>/images/oci.
std::string store_root(const std::string& state_dir);

/// Imports or pulls `reference` if the store lacks it (or a layout/archive
/// changed since), verifies and unpacks its layers, and records it.
Resolved ensure_image(const std::string& store_root, const std::string& reference, const PullOptions& options = {});

/// Imports or pulls again, whether or not it is stored (`images pull`).
StoredImage fetch_image(Store& store, const Reference& ref, const PullOptions& options);

}  // namespace netlab::image
