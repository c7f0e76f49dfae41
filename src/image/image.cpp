#include "image/image.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>

#include "image/import.hpp"
#include "image/registry.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

namespace netlab::image {

namespace {

// Size, mtime and inode of a layout's index.json or an archive: changed means import again.
std::string current_stamp(const Reference& r) {
  std::string path = r.source == Source::kOciLayout ? r.path + "/index.json" : r.path;
  struct stat st{};
  if (::stat(path.c_str(), &st) < 0) return "";
  return fmt::format("{}:{}.{}:{}", st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_ino);
}

Reference parse_or_throw(const std::string& reference) {
  std::string why;
  size_t offset = 0;
  auto r = parse_reference(reference, why, offset);
  if (!r) throw Error(EINVAL, "image \"{}\": {}", reference, why);
  return *r;
}

}  // namespace

PullOptions pull_options_from_env() {
  PullOptions o;
  if (const char* s = std::getenv("NETLAB_INSECURE_REGISTRIES"))
    for (auto& r : split(s, ','))
      if (!trim(r).empty()) o.insecure.emplace_back(trim(r));
  if (const char* d = std::getenv("DOCKER_CONFIG")) o.docker_config = std::string(d) + "/config.json";
  else if (const char* h = std::getenv("HOME")) o.docker_config = std::string(h) + "/.docker/config.json";
  return o;
}

std::string store_root(const std::string& state_dir) { return state_dir + "/images/oci"; }

StoredImage fetch_image(Store& store, const Reference& r, const PullOptions& options) {
  std::string what = "image " + r.str();
  StoredImage img;
  switch (r.source) {
    case Source::kOciLayout: img = import_oci_layout(store, r.path, r.tag, what); break;
    case Source::kOciArchive: img = import_oci_archive(store, r.path, what); break;
    case Source::kDockerArchive: img = import_docker_archive(store, r.path, what); break;
    case Source::kRegistry: img = pull_from_registry(store, r, options, what); break;
  }
  img.ref = r.str();
  img.imported_at = std::time(nullptr);
  // Every layer unpacked before the record exists: a recorded image is whole.
  for (size_t i = 0; i < img.layers.size(); ++i)
    store.ensure_layer(img.layers[i], fmt::format("{}: layer {} ({})", what, i + 1, img.layers[i]));
  store.save(img);
  return img;
}

Resolved ensure_image(const std::string& root, const std::string& reference, const PullOptions& options) {
  Reference r = parse_or_throw(reference);
  Store store(root);
  Fd lock = store.lock(false);
  auto img = store.find(r.str());
  bool stale = img && r.source != Source::kRegistry && img->source_stamp != current_stamp(r);
  if (!img || stale || options.refresh) img = fetch_image(store, r, options);
  Resolved out;
  out.ref = img->ref;
  out.manifest = img->manifest;
  out.defaults = img->defaults;
  std::string what = "image " + out.ref;
  for (auto it = img->layers.rbegin(); it != img->layers.rend(); ++it)
    out.lower.push_back(store.ensure_layer(*it, fmt::format("{}: layer {}", what, *it)));
  if (out.lower.empty()) throw Error(EINVAL, "{}: the image has no layers", what);
  return out;
}

}  // namespace netlab::image
