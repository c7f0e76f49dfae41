#include "node/image.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "util/error.hpp"
#include "util/strings.hpp"

namespace fs = std::filesystem;

namespace netlab::node {

namespace {

// Renames a directory built under a temporary name into place, so concurrent
// deploys never see half of one. Another deploy that built it first wins:
// theirs is as good as ours.
// Returns false when another process installed it first (ours is dropped).
bool install_built(const std::string& tmp, const std::string& at, const char* what) {
  if (::rename(tmp.c_str(), at.c_str()) == 0) return true;
  int saved = errno;
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (saved != EEXIST && saved != ENOTEMPTY) throw Error(saved, "installing the {} at {}", what, at);
  return false;
}

}  // namespace

std::vector<std::string> busybox_applets(const std::string& binary) {
  std::string data = read_file(binary);
  static const std::string kStart("[\0[[\0", 5);
  size_t pos = data.find(kStart);
  if (pos == std::string::npos) throw Error(ENOEXEC, "{}: no busybox applet table found", binary);
  std::vector<std::string> names;
  while (pos < data.size()) {
    size_t end = data.find('\0', pos);
    if (end == std::string::npos || end == pos) break;
    std::string name = data.substr(pos, end - pos);
    bool printable = true;
    for (char c : name) printable = printable && c > 32 && c < 127 && c != '/';
    if (!printable) break;
    names.push_back(std::move(name));
    pos = end + 1;
  }
  if (names.size() < 10) throw Error(ENOEXEC, "{}: the applet table looks wrong ({} names)", binary, names.size());
  return names;
}

std::string ensure_busybox_image(const std::string& images_dir, const std::string& binary,
                                 std::optional<std::pair<uint32_t, uint32_t>> owner) {
  std::string image = images_dir + "/busybox";
  if (owner) image += fmt::format("-{}-{}", owner->first, owner->second);
  if (::access((image + "/bin/busybox").c_str(), X_OK) == 0) return image;
  std::error_code ec;
  fs::create_directories(images_dir, ec);
  if (ec) throw Error(ec.value(), "creating {}", images_dir);
  std::string tmp = fmt::format("{}/.busybox-{}", images_dir, ::getpid());
  fs::remove_all(tmp, ec);
  try {
    for (const char* d : {"bin", "etc", "proc", "sys", "dev", "tmp", "root", "var", "run", "home", "mnt", "usr"})
      fs::create_directories(tmp + "/" + d);
    ::chmod((tmp + "/tmp").c_str(), 01777);
    // One applet directory; the others point at it, so every path busybox expects resolves.
    fs::create_directory_symlink("bin", tmp + "/sbin");
    fs::create_directory_symlink("../bin", tmp + "/usr/bin");
    fs::create_directory_symlink("../bin", tmp + "/usr/sbin");
    fs::copy_file(binary, tmp + "/bin/busybox");
    ::chmod((tmp + "/bin/busybox").c_str(), 0755);
    for (const auto& applet : busybox_applets(binary))
      if (applet != "busybox") fs::create_symlink("busybox", tmp + "/bin/" + applet);
    write_file(tmp + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
    write_file(tmp + "/etc/group", "root:x:0:\nnogroup:x:65534:\n");
    write_file(tmp + "/etc/profile",
               "export PATH=/usr/sbin:/usr/bin:/sbin:/bin\nexport PS1='\\h:\\w\\$ '\n");
    write_file(tmp + "/etc/hosts", "127.0.0.1 localhost\n::1 localhost\n");
    if (owner) {
      auto own = [&](const fs::path& p) {
        if (::lchown(p.c_str(), owner->first, owner->second) < 0) throw_errno("changing the owner of {}", p.string());
      };
      own(tmp);
      for (const auto& entry : fs::recursive_directory_iterator(tmp)) own(entry.path());
    }
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(tmp, ec);
    throw Error(e.code().value(), "building busybox image from {}: {}", binary, e.path1().string());
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  install_built(tmp, image, "busybox image");
  return image;
}

std::string ensure_hosts_layer(const std::string& lab_dir, const std::string& hosts,
                               std::optional<std::pair<uint32_t, uint32_t>> owner, bool* created) {
  if (created) *created = false;
  std::string layer = fmt::format("{}/hosts-{:016x}", lab_dir, std::hash<std::string>{}(hosts));
  if (owner) layer += fmt::format("-{}-{}", owner->first, owner->second);
  if (::access((layer + "/etc/hosts").c_str(), F_OK) == 0) return layer;
  std::string tmp = fmt::format("{}/.hosts-{}", lab_dir, ::getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  try {
    fs::create_directories(tmp + "/etc");
    write_file(tmp + "/etc/hosts", hosts, 0644);
    if (owner)
      for (const std::string& p : {tmp, tmp + "/etc", tmp + "/etc/hosts"})
        if (::lchown(p.c_str(), owner->first, owner->second) < 0) throw_errno("changing the owner of {}", p);
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(tmp, ec);
    throw Error(e.code().value(), "writing the lab's hosts layer {}", e.path1().string());
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  bool ours = install_built(tmp, layer, "hosts layer");
  if (created) *created = ours;
  return layer;
}

std::string ensure_var_skeleton(const std::string& images_dir, const std::string& var,
                                std::optional<std::pair<uint32_t, uint32_t>> owner) {
  struct Dir {
    std::string rel;
    mode_t mode;
    uid_t uid;
    gid_t gid;
  };
  std::vector<Dir> dirs;
  struct stat top{};
  if (::stat(var.c_str(), &top) < 0) throw_errno("reading {}", var);
  std::error_code ec;
  fs::recursive_directory_iterator it(var, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) throw Error(ec.value(), "reading {}", var);
  for (; it != end && dirs.size() < 20000; it.increment(ec)) {
    if (ec) break;
    std::string rel = fs::relative(it->path(), var, ec).string();
    struct stat st{};
    bool descend = false;
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_dev == top.st_dev && rel != "run" &&
        rel != "lock" && rel != "tmp") {
      dirs.push_back({rel, st.st_mode & 07777, st.st_uid, st.st_gid});
      descend = it.depth() < 7;
    }
    if (!descend) it.disable_recursion_pending();
  }
  auto shift = [&](uint32_t id, bool gid) -> uint32_t {
    if (!owner) return id;
    uint32_t base = gid ? owner->second : owner->first;
    return base + (id < 65536 ? id : 65534);
  };
  std::string listing;
  for (const auto& d : dirs) listing += fmt::format("{} {:o} {} {}\n", d.rel, d.mode, d.uid, d.gid);
  std::string image = fmt::format("{}/host-var-{:016x}", images_dir, std::hash<std::string>{}(listing));
  if (owner) image += fmt::format("-{}-{}", owner->first, owner->second);
  if (::access((image + "/tmp").c_str(), F_OK) == 0) return image;
  fs::create_directories(images_dir, ec);
  if (ec) throw Error(ec.value(), "creating {}", images_dir);
  std::string tmp = fmt::format("{}/.host-var-{}", images_dir, ::getpid());
  fs::remove_all(tmp, ec);
  try {
    auto make = [&](const std::string& path, mode_t mode, uint32_t uid, uint32_t gid) {
      if (::mkdir(path.c_str(), 0700) < 0 && errno != EEXIST) throw_errno("creating {}", path);
      if (::lchown(path.c_str(), shift(uid, false), shift(gid, true)) < 0) throw_errno("changing the owner of {}", path);
      if (::chmod(path.c_str(), mode) < 0) throw_errno("setting the mode of {}", path);
    };
    make(tmp, top.st_mode & 07777, top.st_uid, top.st_gid);
    for (const auto& d : dirs) make(tmp + "/" + d.rel, d.mode, d.uid, d.gid);
    make(tmp + "/tmp", 01777, 0, 0);
    for (auto [name, target] : {std::pair{"run", "/run"}, std::pair{"lock", "/run/lock"}}) {
      std::string link = tmp + "/" + name;
      if (::symlink(target, link.c_str()) < 0) throw_errno("linking {}", link);
      if (::lchown(link.c_str(), shift(0, false), shift(0, true)) < 0) throw_errno("changing the owner of {}", link);
    }
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  install_built(tmp, image, "/var skeleton");
  return image;
}

}  // namespace netlab::node
