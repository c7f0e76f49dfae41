// The content-addressed image store under <state-dir>/images/oci/:
//   blobs/sha256/<hex>           manifests, configs and layer archives, as fetched
//   layers/sha256/<hex>/         a layer blob unpacked (overlayfs form), once
//   images/<hex of the ref>.json what a reference resolved to (StoredImage)
//   tmp/                         work in progress; nothing there is trusted
// Every file appears by rename() once complete and verified, so a concurrent
// or killed deploy never sees half a blob or half a layer. A flock on `lock`
// (shared while importing or deploying, exclusive for rm and prune) keeps
// prune from deleting what a deploy is about to use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/fd.hpp"

namespace netlab::image {

/// The image config's process defaults (OCI image config "config" object).
struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "KEY=VALUE"
  std::string workdir;
  std::string user;              // "uid[:gid]" or a name, as the image writes it
};

struct StoredImage {
  std::string ref;                  // canonical reference (Reference::str())
  std::string manifest;             // digest of the manifest
  std::string config;               // digest of the config blob
  std::vector<std::string> layers;  // layer blob digests, bottom first
  ImageConfig defaults;
  std::string source_stamp;         // layouts and archives: size and mtime of the source when imported
  int64_t imported_at = 0;
};

class Store {
 public:
  explicit Store(std::string root);

  const std::string& root() const { return root_; }
  std::string blob_path(const std::string& digest) const;
  std::string layer_path(const std::string& digest) const;
  bool has_blob(const std::string& digest) const;

  /// A private scratch directory under tmp/ (removed by the caller; prune removes strays).
  std::string scratch(const std::string& label);

  /// Moves `file` into the store as a blob after checking its SHA-256 against
  /// `expected`; the file is removed either way. Error EBADMSG on a mismatch.
  void add_blob_file(const std::string& file, const std::string& expected, const std::string& what);
  /// Copies `file` (left alone) into the store, checking its digest as it copies.
  void copy_blob_file(const std::string& file, const std::string& expected, const std::string& what);
  /// Stores `data` under its digest, which must be `expected`.
  void add_blob_data(std::string_view data, const std::string& expected, const std::string& what);
  /// Reads a blob back, re-checking it against its name (a corrupt store is an error, not a surprise).
  std::string read_blob(const std::string& digest, const std::string& what) const;

  /// The unpacked layer of blob `digest`, unpacking it first if needed.
  std::string ensure_layer(const std::string& digest, const std::string& what);

  void save(const StoredImage& image);
  std::optional<StoredImage> find(const std::string& ref) const;
  std::vector<StoredImage> list() const;
  /// Removes the record only (blobs and layers go with prune).
  void forget(const std::string& ref);
  struct PruneStats {
    uint64_t blobs = 0, layers = 0, bytes = 0;
  };
  /// Removes blobs, layers and scratch files no record refers to.
  PruneStats prune();

  /// flock on <root>/lock: shared for imports and deploys, exclusive for rm and prune.
  Fd lock(bool exclusive) const;

 private:
  std::string root_;
};

/// Bytes used by the files under `path` (allocated blocks; hard links once).
uint64_t disk_usage(const std::string& path);

}  // namespace netlab::image
