// Pulling an image from an OCI / Docker registry (distribution API v2) with
// libcurl: the manifest (OCI or Docker media types; an index picks
// linux/<host architecture>), the config and the layer blobs, each checked
// against its digest. Anonymous bearer tokens from the WWW-Authenticate
// challenge, or the user's credentials from ~/.docker/config.json "auths".
// HTTPS, or plain HTTP for a registry marked insecure (PullOptions).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "image/image.hpp"
#include "image/store.hpp"

namespace netlab::image {

StoredImage pull_from_registry(Store& store, const Reference& ref, const PullOptions& options, const std::string& what);

/// "Bearer realm=\"…\",service=\"…\"" → its parameters (lowercase keys); "scheme" holds the scheme.
std::map<std::string, std::string> parse_challenge(const std::string& header);

/// user:password for `registry` from a docker config.json's "auths" (keys as docker writes them).
std::optional<std::string> registry_credentials(const std::string& config_json, const std::string& registry);

/// Whether `registry` (host[:port]) is spoken to over plain HTTP.
bool is_insecure(const std::string& registry, const PullOptions& options);

}  // namespace netlab::image
