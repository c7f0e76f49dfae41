#include "node/image.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "util/error.hpp"
#include "util/strings.hpp"

namespace fs = std::filesystem;

namespace netlab::node {

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
  if (::rename(tmp.c_str(), image.c_str()) < 0) {
    int saved = errno;
    fs::remove_all(tmp, ec);
    // Another deploy built it first: theirs is as good as ours.
    if (saved != EEXIST && saved != ENOTEMPTY) throw Error(saved, "installing busybox image at {}", image);
  }
  return image;
}

}  // namespace netlab::node
