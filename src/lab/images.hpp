// `netlab images`: the image store seen from the labs — which deployed labs
// use each image, and the refusal to remove one in use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lab/plan.hpp"

namespace netlab::lab {

struct ImageInfo {
  std::string ref;
  std::string manifest;
  size_t layers = 0;
  uint64_t bytes = 0;             // disk used by its unpacked layers and blobs
  std::vector<std::string> labs;  // deployed labs with a node of this image
  int64_t imported_at = 0;
};

std::vector<ImageInfo> list_images(const HostFacts& facts);
/// Imports or pulls `reference` again (a registry tag is re-resolved).
ImageInfo pull_image(const HostFacts& facts, const std::string& reference);
/// Forgets `reference`; LabConflict when a deployed lab uses it or the store lacks it.
void remove_image(const HostFacts& facts, const std::string& reference);
struct PruneResult {
  uint64_t blobs = 0, layers = 0, bytes = 0;
};
/// Removes blobs and layers no stored image refers to.
PruneResult prune_images(const HostFacts& facts);

}  // namespace netlab::lab
