// A node's process settings when its root is an OCI image: the image
// config's Entrypoint/Cmd, Env, WorkingDir and User, under the topology's
// cmd, env and user. Used when the node starts and by `netlab exec`/`shell`
// (as `docker exec` uses the image's settings).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "image/image.hpp"
#include "lab/plan.hpp"
#include "topology/model.hpp"

namespace netlab::lab {

struct ProcessDefaults {
  std::vector<std::string> cmd;  // empty: none
  std::map<std::string, std::string> env;
  std::optional<std::pair<uint32_t, uint32_t>> user;
  std::string workdir;
};

/// The topology's cmd replaces Entrypoint and Cmd together; env keys override
/// the image's; a User name is looked up in the image's /etc/passwd and
/// /etc/group. Throws Error(ENOENT) naming the node for an unknown name.
ProcessDefaults image_process_defaults(const topo::Node& n, const image::Resolved& img);

/// The settings of a deployed node of an OCI image, from the store (no
/// import, no pull); nullopt when the node has another image or the store
/// no longer holds it.
std::optional<ProcessDefaults> stored_process_defaults(const HostFacts& facts, const topo::Node& n);

}  // namespace netlab::lab
