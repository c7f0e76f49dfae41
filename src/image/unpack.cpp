#include "image/unpack.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <vector>

#include "image/filters.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

namespace fs = std::filesystem;

namespace netlab::image {

namespace {

constexpr const char* kWhiteout = ".wh.";
constexpr const char* kOpaque = ".wh..wh..opq";

// "./a//b/" -> {"a","b"}; throws on an absolute path or "..".
std::vector<std::string> components(const std::string& path, const std::string& what, const std::string& entry,
                                    const char* role) {
  if (!path.empty() && path[0] == '/') throw Error(EPERM, "{}: {} \"{}\" is an absolute path", what, role, entry);
  std::vector<std::string> out;
  for (auto& part : split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") throw Error(EPERM, "{}: {} \"{}\" contains \"..\"", what, role, entry);
    out.push_back(part);
  }
  return out;
}

struct Layer {
  const std::string& what;
  std::string dest;
  std::set<std::string> symlinks;  // paths (relative) of symlinks in this layer
  std::set<std::string> files;     // regular files, for hard links
  std::vector<std::string> whiteouts;
  std::vector<std::string> opaque;

  void no_symlink_prefix(const std::vector<std::string>& parts, const std::string& entry) {
    std::string prefix;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      prefix += (i ? "/" : "") + parts[i];
      if (symlinks.count(prefix))
        throw Error(EPERM, "{}: entry \"{}\" goes through the symlink \"{}\" of the layer", what, entry, prefix);
    }
  }
};

std::string rel(const std::vector<std::string>& parts) { return join(parts, "/"); }

void mkdirs(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) throw Error(ec.value(), "creating {}", path);
}

void finish_whiteouts(Layer& l) {
  for (const auto& w : l.whiteouts) {
    std::string path = l.dest + "/" + w;
    mkdirs(fs::path(path).parent_path());
    if (::mknod(path.c_str(), S_IFCHR | 0000, makedev(0, 0)) < 0) throw_errno("{}: creating the whiteout {}", l.what, w);
  }
  for (const auto& d : l.opaque) {
    std::string path = l.dest + (d.empty() ? "" : "/" + d);
    mkdirs(path);
    if (::lsetxattr(path.c_str(), "trusted.overlay.opaque", "y", 1, 0) < 0)
      throw_errno("{}: marking {} opaque (trusted.overlay.opaque)", l.what, d.empty() ? "/" : d);
  }
}

UnpackStats unpack(Layer& l, const std::string& blob) {
  UnpackStats stats;
  struct archive* in = archive_read_new();
  struct archive* out = archive_write_disk_new();
  auto close = [&] {
    archive_read_free(in);
    archive_write_free(out);
  };
  try {
    support_layer_formats(in, l.what);
    archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
                                            ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                            ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_UNLINK);
    if (archive_read_open_filename(in, blob.c_str(), 1 << 16) != ARCHIVE_OK)
      throw Error(archive_errno(in), "{}: opening the layer: {}", l.what, archive_error_string(in));
    struct archive_entry* e = nullptr;
    for (;;) {
      int r = archive_read_next_header(in, &e);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN)
        throw Error(archive_errno(in) > 0 ? archive_errno(in) : EINVAL, "{}: reading the layer: {}", l.what,
                    archive_error_string(in));
      std::string entry = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
      auto parts = components(entry, l.what, entry, "entry");
      ++stats.entries;
      if (parts.empty()) continue;  // the layer's root itself
      l.no_symlink_prefix(parts, entry);
      const std::string& base = parts.back();
      std::string path = rel(parts);
      if (base.rfind(kWhiteout, 0) == 0) {
        ++stats.whiteouts;
        std::vector<std::string> parent(parts.begin(), parts.end() - 1);
        if (base == kOpaque) l.opaque.push_back(rel(parent));
        else if (base.rfind(".wh..wh.", 0) == 0) --stats.whiteouts;  // aufs metadata: meaningless here
        else {
          parent.push_back(base.substr(4));
          if (parent.back().empty() || parent.back() == "." || parent.back() == "..")
            throw Error(EPERM, "{}: whiteout \"{}\" names no file", l.what, entry);
          l.whiteouts.push_back(rel(parent));
        }
        continue;
      }
      mode_t type = archive_entry_filetype(e);
      if (type == AE_IFCHR || type == AE_IFBLK) {
        ++stats.devices_skipped;
        continue;
      }
      if (const char* link = archive_entry_hardlink(e)) {
        std::string target = link;
        auto tparts = components(target, l.what, target, "hard link target");
        l.no_symlink_prefix(tparts, target);
        if (!l.files.count(rel(tparts)))
          throw Error(EPERM, "{}: hard link \"{}\" points at \"{}\", which is not a file of the layer", l.what, entry,
                      target);
        archive_entry_set_hardlink(e, (l.dest + "/" + rel(tparts)).c_str());
      } else if (type == AE_IFLNK) {
        std::string target = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
        // An absolute target resolves inside the node's root; a relative one may not climb above it.
        if (!target.empty() && target[0] != '/') {
          long depth = static_cast<long>(parts.size()) - 1;
          for (const auto& t : split(target, '/')) {
            if (t == "..") --depth;
            else if (!t.empty() && t != ".") ++depth;
            if (depth < 0)
              throw Error(EPERM, "{}: symlink \"{}\" -> \"{}\" points out of the layer", l.what, entry, target);
          }
        }
        l.symlinks.insert(path);
      } else if (type == AE_IFREG) {
        l.files.insert(path);
        stats.bytes += static_cast<uint64_t>(archive_entry_size(e));
      } else if (type == AE_IFDIR) {
        l.symlinks.erase(path);
      }
      if (type != AE_IFLNK) l.symlinks.erase(path);
      // overlayfs's own xattrs (trusted.overlay.*) and the rest of trusted.* stay out.
      std::vector<std::tuple<std::string, std::string>> keep;
      archive_entry_xattr_reset(e);
      const char* name;
      const void* value;
      size_t size;
      while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
        if (std::string(name).rfind("trusted.", 0) != 0)
          keep.emplace_back(name, std::string(static_cast<const char*>(value), size));
      archive_entry_xattr_clear(e);
      for (const auto& [n, v] : keep) archive_entry_xattr_add_entry(e, n.c_str(), v.data(), v.size());
      archive_entry_set_pathname(e, (l.dest + "/" + path).c_str());
      r = archive_write_header(out, e);
      if (r < ARCHIVE_WARN)
        throw Error(archive_errno(out) > 0 ? archive_errno(out) : EIO, "{}: writing \"{}\": {}", l.what, entry,
                    archive_error_string(out));
      if (archive_entry_size(e) > 0 && type == AE_IFREG) {
        const void* buf;
        size_t len;
        la_int64_t off;
        for (;;) {
          r = archive_read_data_block(in, &buf, &len, &off);
          if (r == ARCHIVE_EOF) break;
          if (r < ARCHIVE_WARN)
            throw Error(archive_errno(in) > 0 ? archive_errno(in) : EINVAL, "{}: reading \"{}\": {}", l.what, entry,
                        archive_error_string(in));
          if (archive_write_data_block(out, buf, len, off) < ARCHIVE_WARN)
            throw Error(archive_errno(out) > 0 ? archive_errno(out) : EIO, "{}: writing \"{}\": {}", l.what, entry,
                        archive_error_string(out));
        }
      }
      if (archive_write_finish_entry(out) < ARCHIVE_WARN)
        throw Error(archive_errno(out) > 0 ? archive_errno(out) : EIO, "{}: finishing \"{}\": {}", l.what, entry,
                    archive_error_string(out));
    }
    if (archive_write_close(out) != ARCHIVE_OK)
      throw Error(archive_errno(out) > 0 ? archive_errno(out) : EIO, "{}: finishing the layer: {}", l.what,
                  archive_error_string(out));
    finish_whiteouts(l);
  } catch (...) {
    close();
    throw;
  }
  close();
  return stats;
}

}  // namespace

UnpackStats unpack_layer(const std::string& blob, const std::string& dest, const std::string& what) {
  if (::mkdir(dest.c_str(), 0755) < 0) throw_errno("{}: creating {}", what, dest);
  // libarchive refuses to write through a symlink of the path: give it the real one.
  char* real = ::realpath(dest.c_str(), nullptr);
  if (!real) {
    int saved = errno;
    std::error_code ec;
    fs::remove_all(dest, ec);
    throw Error(saved, "{}: resolving {}", what, dest);
  }
  Layer l{what, real, {}, {}, {}, {}};
  std::free(real);
  try {
    return unpack(l, blob);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dest, ec);
    throw;
  }
}

}  // namespace netlab::image
