#include "lab/images.hpp"

#include <cerrno>
#include <map>
#include <set>

#include "image/image.hpp"
#include "lab/lifecycle.hpp"
#include "lab/state.hpp"
#include "util/strings.hpp"

namespace netlab::lab {

namespace {

image::Reference parse(const std::string& reference) {
  std::string why;
  size_t offset = 0;
  auto r = image::parse_reference(reference, why, offset);
  if (!r) throw LabConflict(EINVAL, "image \"{}\": {}", reference, why);
  return *r;
}

// Canonical reference -> labs whose saved topology has a node of it.
std::map<std::string, std::vector<std::string>> users(const HostFacts& facts) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& lab : list_labs(facts)) {
    std::optional<topo::Lab> topology;
    try {
      topology = read_lab_state(facts, lab).topology;
    } catch (const Error&) {
      continue;
    }
    if (!topology) continue;
    std::set<std::string> refs;
    for (const auto& n : topology->nodes) {
      if (n.image.kind != topo::ImageKind::kOci) continue;
      std::string why;
      size_t offset;
      if (auto r = image::parse_reference(n.image.path, why, offset)) refs.insert(r->str());
    }
    for (const auto& r : refs) out[r].push_back(lab);
  }
  return out;
}

ImageInfo info(const image::Store& store, const image::StoredImage& img,
               const std::map<std::string, std::vector<std::string>>& used) {
  ImageInfo i;
  i.ref = img.ref;
  i.manifest = img.manifest;
  i.layers = img.layers.size();
  i.imported_at = img.imported_at;
  for (const auto& l : img.layers) i.bytes += image::disk_usage(store.layer_path(l)) + image::disk_usage(store.blob_path(l));
  if (auto it = used.find(img.ref); it != used.end()) i.labs = it->second;
  return i;
}

}  // namespace

std::vector<ImageInfo> list_images(const HostFacts& facts) {
  image::Store store(image::store_root(facts.state_dir));
  auto used = users(facts);
  std::vector<ImageInfo> out;
  for (const auto& img : store.list()) out.push_back(info(store, img, used));
  return out;
}

ImageInfo pull_image(const HostFacts& facts, const std::string& reference) {
  image::Reference r = parse(reference);
  image::Store store(image::store_root(facts.state_dir));
  Fd lock = store.lock(false);
  auto img = image::fetch_image(store, r, image::pull_options_from_env());
  return info(store, img, users(facts));
}

void remove_image(const HostFacts& facts, const std::string& reference) {
  image::Reference r = parse(reference);
  image::Store store(image::store_root(facts.state_dir));
  Fd lock = store.lock(true);
  if (!store.find(r.str())) throw LabConflict(ENOENT, "image {} is not in the store", r.str());
  auto used = users(facts);
  if (auto it = used.find(r.str()); it != used.end())
    throw LabConflict(EBUSY, "image {} is in use by lab {}", r.str(), join(it->second, ", lab "));
  store.forget(r.str());
}

PruneResult prune_images(const HostFacts& facts) {
  image::Store store(image::store_root(facts.state_dir));
  Fd lock = store.lock(true);
  auto s = store.prune();
  return {s.blobs, s.layers, s.bytes};
}

}  // namespace netlab::lab
