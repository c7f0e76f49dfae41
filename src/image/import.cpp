#include "image/import.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "image/digest.hpp"
#include "image/manifest.hpp"
#include "image/filters.hpp"
#include "util/error.hpp"
#include "util/fd.hpp"
#include "util/strings.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace netlab::image {

namespace {

std::string read_source(const std::string& path, const std::string& what) {
  try {
    return read_file(path);
  } catch (Error& e) {
    throw e.wrap(what);
  }
}

// Stores the blob `digest` found in `layout`'s blobs/ (moved when `move`).
void take_blob(Store& store, const std::string& layout, const std::string& digest, bool move, const std::string& what) {
  if (store.has_blob(digest)) return;
  std::string src = layout + "/blobs/sha256/" + digest_hex(digest, what);
  if (::access(src.c_str(), F_OK) < 0) throw_errno("{}: blob {} is missing from the layout", what, digest);
  if (move) store.add_blob_file(src, digest, what + ": a blob of the layout");
  else store.copy_blob_file(src, digest, what + ": a blob of the layout");
}

StoredImage import_layout(Store& store, const std::string& dir, const std::string& tag, bool move,
                          const std::string& what) {
  std::string marker = read_source(dir + "/oci-layout", what + ": not an OCI image layout (no oci-layout file)");
  try {
    if (json::parse(marker).value("imageLayoutVersion", "") != "1.0.0")
      throw Error(EPROTONOSUPPORT, "{}: unsupported imageLayoutVersion in oci-layout", what);
  } catch (const json::exception& e) {
    throw Error(EBADMSG, "{}: malformed oci-layout: {}", what, e.what());
  }
  auto entries = parse_index(read_source(dir + "/index.json", what), what + ": index.json");
  std::vector<Descriptor> matching;
  std::vector<std::string> tags;
  for (const auto& e : entries) {
    if (!e.ref_name.empty()) tags.push_back(e.ref_name);
    if (tag.empty() || e.ref_name == tag) matching.push_back(e);
  }
  if (matching.empty())
    throw Error(ENOENT, "{}: no manifest tagged \"{}\" (tags: {})", what, tag, tags.empty() ? "none" : join(tags, ", "));
  if (matching.size() > 1 && tag.empty())
    throw Error(EINVAL, "{}: the layout holds {} manifests: name one with oci:PATH:TAG (tags: {})", what,
                matching.size(), tags.empty() ? "none" : join(tags, ", "));
  Descriptor d = matching.front();
  // An index inside the layout (a multi-platform image): pick this host's platform.
  for (int depth = 0; is_index_type(d.media_type); ++depth) {
    if (depth > 4) throw Error(ELOOP, "{}: indexes nested too deep", what);
    take_blob(store, dir, d.digest, move, what);
    d = pick_platform(parse_index(store.read_blob(d.digest, what), what + ": index " + d.digest), what);
  }
  if (!d.media_type.empty() && !is_manifest_type(d.media_type))
    throw Error(EPROTONOSUPPORT, "{}: unknown media type \"{}\" for manifest {}", what, d.media_type, d.digest);
  take_blob(store, dir, d.digest, move, what);
  Manifest m = parse_manifest(store.read_blob(d.digest, what), what + ": manifest " + d.digest);
  take_blob(store, dir, m.config.digest, move, what);
  StoredImage img;
  img.manifest = d.digest;
  img.config = m.config.digest;
  img.defaults = parse_config(store.read_blob(m.config.digest, what), what + ": config " + m.config.digest);
  for (const auto& l : m.layers) {
    take_blob(store, dir, l.digest, move, what);
    img.layers.push_back(l.digest);
  }
  return img;
}

std::string stamp(const std::string& path, const std::string& what) {
  struct stat st{};
  if (::stat(path.c_str(), &st) < 0) throw_errno("{}: reading {}", what, path);
  return fmt::format("{}:{}.{}:{}", st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_ino);
}

}  // namespace

void extract_plain_files(const std::string& file, const std::string& dest, const std::string& what) {
  struct archive* in = archive_read_new();
  struct Closer {
    struct archive* a;
    ~Closer() { archive_read_free(a); }
  } closer{in};
  support_layer_formats(in, what);
  if (archive_read_open_filename(in, file.c_str(), 1 << 16) != ARCHIVE_OK)
    throw Error(archive_errno(in) > 0 ? archive_errno(in) : EINVAL, "{}: opening {}: {}", what, file,
                archive_error_string(in));
  struct archive_entry* e = nullptr;
  for (;;) {
    int r = archive_read_next_header(in, &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      throw Error(archive_errno(in) > 0 ? archive_errno(in) : EINVAL, "{}: reading {}: {}", what, file,
                  archive_error_string(in));
    std::string name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    if (!name.empty() && name[0] == '/') throw Error(EPERM, "{}: entry \"{}\" is an absolute path", what, name);
    std::vector<std::string> parts;
    for (auto& p : split(name, '/')) {
      if (p == "..") throw Error(EPERM, "{}: entry \"{}\" contains \"..\"", what, name);
      if (!p.empty() && p != ".") parts.push_back(p);
    }
    if (parts.empty() || archive_entry_filetype(e) != AE_IFREG) continue;  // directories are made as needed
    std::string path = dest + "/" + join(parts, "/");
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    if (ec) throw Error(ec.value(), "{}: creating {}", what, fs::path(path).parent_path().string());
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) throw_errno("{}: writing {}", what, name);
    if (archive_read_data_into_fd(in, fd.get()) != ARCHIVE_OK)
      throw Error(archive_errno(in) > 0 ? archive_errno(in) : EIO, "{}: reading {}: {}", what, name,
                  archive_error_string(in));
  }
}

StoredImage import_oci_layout(Store& store, const std::string& dir, const std::string& tag, const std::string& what) {
  StoredImage img = import_layout(store, dir, tag, false, what);
  img.source_stamp = stamp(dir + "/index.json", what);
  return img;
}

StoredImage import_oci_archive(Store& store, const std::string& file, const std::string& what) {
  std::string stamp_now = stamp(file, what);
  std::string dir = store.scratch("oci-archive");
  try {
    extract_plain_files(file, dir, what);
    StoredImage img = import_layout(store, dir, "", true, what);
    img.source_stamp = stamp_now;
    fs::remove_all(dir);
    return img;
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    throw;
  }
}

StoredImage import_docker_archive(Store& store, const std::string& file, const std::string& what) {
  std::string stamp_now = stamp(file, what);
  std::string dir = store.scratch("docker-archive");
  try {
    extract_plain_files(file, dir, what);
    json manifest;
    try {
      manifest = json::parse(read_source(dir + "/manifest.json", what + ": not a docker-archive (no manifest.json)"));
    } catch (const json::exception& e) {
      throw Error(EBADMSG, "{}: malformed manifest.json: {}", what, e.what());
    }
    if (!manifest.is_array() || manifest.empty() || !manifest[0].is_object())
      throw Error(EBADMSG, "{}: manifest.json lists no image", what);
    const auto& entry = manifest[0];
    auto member = [&](const std::string& name) {
      for (auto& p : split(name, '/'))
        if (p == "..") throw Error(EPERM, "{}: manifest.json names \"{}\"", what, name);
      return dir + "/" + name;
    };
    std::string config_file = member(entry.value("Config", ""));
    std::string config_data = read_source(config_file, what + ": config " + entry.value("Config", ""));
    StoredImage img;
    img.config = sha256_digest(config_data);
    std::vector<std::string> diff_ids;
    img.defaults = parse_config(config_data, what + ": config", &diff_ids);
    store.add_blob_data(config_data, img.config, what + ": config");
    if (!entry.contains("Layers") || !entry["Layers"].is_array()) throw Error(EBADMSG, "{}: no Layers list", what);
    const auto& layers = entry["Layers"];
    if (diff_ids.size() != layers.size())
      throw Error(EBADMSG, "{}: manifest.json lists {} layers, the config's rootfs {}", what, layers.size(),
                  diff_ids.size());
    // docker save writes each layer uncompressed: its digest is the config's diff_id.
    json oci_manifest = {{"schemaVersion", 2},
                         {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                         {"config",
                          {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                           {"digest", img.config},
                           {"size", config_data.size()}}},
                         {"layers", json::array()}};
    for (size_t i = 0; i < layers.size(); ++i) {
      std::string name = layers[i].get<std::string>();
      std::string path = member(name);
      struct stat st{};
      if (::stat(path.c_str(), &st) < 0) throw_errno("{}: layer {} is missing from the archive", what, name);
      store.add_blob_file(path, diff_ids[i], fmt::format("{}: layer {} ({})", what, i + 1, name));
      img.layers.push_back(diff_ids[i]);
      oci_manifest["layers"].push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                                        {"digest", diff_ids[i]},
                                        {"size", st.st_size}});
    }
    // The record points at a manifest like any other image's (what prune keeps).
    std::string m = oci_manifest.dump();
    img.manifest = sha256_digest(m);
    store.add_blob_data(m, img.manifest, what + ": manifest");
    img.source_stamp = stamp_now;
    fs::remove_all(dir);
    return img;
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    throw;
  }
}

}  // namespace netlab::image
