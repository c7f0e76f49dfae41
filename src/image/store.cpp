#include "image/store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "image/digest.hpp"
#include "image/unpack.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace netlab::image {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ImageConfig, entrypoint, cmd, env, workdir, user)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StoredImage, ref, manifest, config, layers, defaults, source_stamp,
                                                imported_at)

namespace {

void mkdirs(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) throw Error(ec.value(), "creating {}", path);
}

std::string record_name(const std::string& ref) { return sha256_digest(ref).substr(7) + ".json"; }

void remove_tree(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
}

}  // namespace

Store::Store(std::string root) : root_(std::move(root)) {
  for (const char* d : {"/blobs/sha256", "/layers/sha256", "/images", "/tmp"}) mkdirs(root_ + d);
}

std::string Store::blob_path(const std::string& digest) const {
  return root_ + "/blobs/sha256/" + digest_hex(digest, "blob");
}

std::string Store::layer_path(const std::string& digest) const {
  return root_ + "/layers/sha256/" + digest_hex(digest, "layer");
}

bool Store::has_blob(const std::string& digest) const { return ::access(blob_path(digest).c_str(), F_OK) == 0; }

std::string Store::scratch(const std::string& label) {
  static unsigned counter = 0;
  std::string dir = fmt::format("{}/tmp/{}-{}-{}", root_, label, ::getpid(), ++counter);
  remove_tree(dir);
  if (::mkdir(dir.c_str(), 0700) < 0) throw_errno("creating {}", dir);
  return dir;
}

void Store::add_blob_file(const std::string& file, const std::string& expected, const std::string& what) {
  std::string got;
  try {
    got = sha256_file(file);
  } catch (...) {
    ::unlink(file.c_str());
    throw;
  }
  if (got != expected) {
    ::unlink(file.c_str());
    throw Error(EBADMSG, "{}: digest mismatch: expected {}, the content is {}", what, expected, got);
  }
  std::string dest = blob_path(expected);
  if (::rename(file.c_str(), dest.c_str()) < 0) {
    int saved = errno;
    ::unlink(file.c_str());
    throw Error(saved, "{}: storing blob {}", what, dest);
  }
}

void Store::copy_blob_file(const std::string& file, const std::string& expected, const std::string& what) {
  std::string tmp = scratch("copy") + "/blob";
  std::error_code ec;
  fs::copy_file(file, tmp, ec);
  if (ec) {
    remove_tree(fs::path(tmp).parent_path());
    throw Error(ec.value(), "{}: reading {}", what, file);
  }
  try {
    add_blob_file(tmp, expected, what);
  } catch (...) {
    remove_tree(fs::path(tmp).parent_path());
    throw;
  }
  remove_tree(fs::path(tmp).parent_path());
}

void Store::add_blob_data(std::string_view data, const std::string& expected, const std::string& what) {
  std::string got = sha256_digest(data);
  if (got != expected) throw Error(EBADMSG, "{}: digest mismatch: expected {}, the content is {}", what, expected, got);
  if (has_blob(expected)) return;
  std::string dir = scratch("data");
  try {
    write_file(dir + "/blob", data);
    add_blob_file(dir + "/blob", expected, what);
  } catch (...) {
    remove_tree(dir);
    throw;
  }
  remove_tree(dir);
}

std::string Store::read_blob(const std::string& digest, const std::string& what) const {
  std::string data = read_file(blob_path(digest));
  if (sha256_digest(data) != digest) throw Error(EBADMSG, "{}: the stored blob {} is corrupt", what, digest);
  return data;
}

std::string Store::ensure_layer(const std::string& digest, const std::string& what) {
  std::string dest = layer_path(digest);
  if (::access(dest.c_str(), F_OK) == 0) return dest;
  std::string tmp = fmt::format("{}/layers/.tmp-{}-{}", root_, digest_hex(digest, what), ::getpid());
  remove_tree(tmp);
  unpack_layer(blob_path(digest), tmp, what);  // removes tmp on failure
  if (::rename(tmp.c_str(), dest.c_str()) < 0) {
    int saved = errno;
    remove_tree(tmp);
    // Another deploy unpacked it first: theirs is the same layer.
    if (saved != EEXIST && saved != ENOTEMPTY) throw Error(saved, "{}: installing the layer at {}", what, dest);
  }
  return dest;
}

void Store::save(const StoredImage& image) {
  std::string path = root_ + "/images/" + record_name(image.ref);
  std::string tmp = path + fmt::format(".tmp-{}", ::getpid());
  write_file(tmp, json(image).dump(2) + "\n");
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    throw Error(saved, "recording image {}", image.ref);
  }
}

std::optional<StoredImage> Store::find(const std::string& ref) const {
  std::string path = root_ + "/images/" + record_name(ref);
  if (::access(path.c_str(), F_OK) != 0) return std::nullopt;
  try {
    return json::parse(read_file(path)).get<StoredImage>();
  } catch (const json::exception& e) {
    throw Error(EBADMSG, "reading the record of image {} ({}): {}", ref, path, e.what());
  }
}

std::vector<StoredImage> Store::list() const {
  std::vector<StoredImage> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_ + "/images", ec)) {
    if (e.path().extension() != ".json") continue;
    try {
      out.push_back(json::parse(read_file(e.path())).get<StoredImage>());
    } catch (const std::exception&) {
      // A torn or foreign file: prune leaves it, list skips it.
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.ref < b.ref; });
  return out;
}

void Store::forget(const std::string& ref) {
  std::string path = root_ + "/images/" + record_name(ref);
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) throw_errno("removing the record of image {}", ref);
}

Store::PruneStats Store::prune() {
  std::set<std::string> keep;
  for (const auto& img : list()) {
    keep.insert(img.manifest);
    keep.insert(img.config);
    for (const auto& l : img.layers) keep.insert(l);
  }
  PruneStats stats;
  std::error_code ec;
  auto sweep = [&](const std::string& dir, uint64_t& count) {
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      std::string name = e.path().filename();
      if (keep.count("sha256:" + name)) continue;
      stats.bytes += disk_usage(e.path());
      remove_tree(e.path());
      ++count;
    }
  };
  sweep(root_ + "/blobs/sha256", stats.blobs);
  sweep(root_ + "/layers/sha256", stats.layers);
  // Half-unpacked layers and scratch files of killed imports (prune holds the exclusive lock).
  uint64_t strays = 0;
  for (const auto& e : fs::directory_iterator(root_ + "/layers", ec))
    if (e.path().filename().string().rfind(".tmp-", 0) == 0) remove_tree(e.path()), ++strays;
  for (const auto& e : fs::directory_iterator(root_ + "/tmp", ec)) remove_tree(e.path()), ++strays;
  return stats;
}

Fd Store::lock(bool exclusive) const {
  std::string path = root_ + "/lock";
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) throw_errno("opening {}", path);
  while (::flock(fd.get(), exclusive ? LOCK_EX : LOCK_SH) < 0)
    if (errno != EINTR) throw_errno("locking {}", path);
  return fd;
}

uint64_t disk_usage(const std::string& path) {
  uint64_t total = 0;
  std::set<std::pair<dev_t, ino_t>> seen;
  auto add = [&](const std::string& p) {
    struct stat st{};
    if (::lstat(p.c_str(), &st) < 0) return;
    if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) && !seen.insert({st.st_dev, st.st_ino}).second) return;
    total += static_cast<uint64_t>(st.st_blocks) * 512;
  };
  add(path);
  std::error_code ec;
  if (fs::is_directory(fs::symlink_status(path, ec)))
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      add(it->path());
  return total;
}

}  // namespace netlab::image
