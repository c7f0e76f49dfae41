#include "util/remove_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "util/error.hpp"
#include "util/fd.hpp"

namespace netlab {

namespace {

struct linux_dirent64 {
  ino64_t d_ino;
  off64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

struct Level {
  dev_t dev;
  ino_t ino;
  std::string name;  // of the child we descended into, in this directory
};

// The next entry of `dir` to deal with: a subdirectory to enter, or nothing
// when everything else in it was removed. Files of any type are unlinked here.
// Entries that cannot be removed are recorded in `failed` and skipped.
std::optional<std::string> clear_files(int dir, dev_t dev, const std::string& where,
                                       std::optional<Error>& failed, std::vector<std::string>& skip) {
  if (::lseek(dir, 0, SEEK_SET) < 0) throw_errno("rewinding {}", where);
  alignas(8) char buf[16384];
  for (;;) {
    long n = ::syscall(SYS_getdents64, dir, buf, sizeof buf);
    if (n < 0) throw_errno("listing {}", where);
    if (n == 0) return std::nullopt;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<linux_dirent64*>(buf + off);
      off += d->d_reclen;
      const char* name = d->d_name;
      if (!std::strcmp(name, ".") || !std::strcmp(name, "..")) continue;
      bool skipped = false;
      for (const auto& s : skip) skipped = skipped || s == name;
      if (skipped) continue;
      unsigned char type = d->d_type;
      if (type == DT_UNKNOWN) {
        struct stat st{};
        if (::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
        type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
      }
      if (type == DT_DIR) {
        if (::unlinkat(dir, name, AT_REMOVEDIR) == 0) continue;
        if (errno == ENOENT) continue;
        if (errno == ENOTEMPTY || errno == EEXIST) {
          struct stat st{};
          if (::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev != dev) {
            if (!failed) failed = Error(EXDEV, "removing {}/{}: a mount point; not entered", where, name);
            skip.emplace_back(name);
            continue;
          }
          return std::string(name);
        }
      } else if (::unlinkat(dir, name, 0) == 0 || errno == ENOENT) {
        continue;
      }
      if (!failed) failed = Error(errno, "removing {}/{}", where, name);
      skip.emplace_back(name);
    }
  }
}

}  // namespace

void remove_tree(const std::string& path) {
  Fd cur(::open(path.c_str(), kDirFlags));
  if (!cur) {
    if (errno == ENOENT) return;
    if (errno == ENOTDIR || errno == ELOOP) {  // a file or a symlink: remove it, follow nothing
      if (::unlink(path.c_str()) < 0 && errno != ENOENT) throw_errno("removing {}", path);
      return;
    }
    throw_errno("opening {}", path);
  }
  struct stat top{};
  if (::fstat(cur.get(), &top) < 0) throw_errno("examining {}", path);
  std::vector<Level> stack;  // the directories above `cur`, with the name taken down
  std::vector<std::vector<std::string>> skips(1);
  std::optional<Error> failed;
  // For messages only (the walk itself never uses paths): grown on the way
  // down, cut on the way up, so a deep tree costs O(depth), not O(depth^2).
  std::string where = path;
  for (;;) {
    auto sub = clear_files(cur.get(), top.st_dev, where, failed, skips.back());
    if (sub) {
      Fd child(::openat(cur.get(), sub->c_str(), kDirFlags));
      if (!child) {
        if (!failed) failed = Error(errno, "opening {}/{}", where, *sub);
        skips.back().push_back(*sub);
        continue;
      }
      struct stat st{};
      if (::fstat(cur.get(), &st) < 0) throw_errno("examining {}", where);
      stack.push_back({st.st_dev, st.st_ino, *sub});
      where += "/" + *sub;
      skips.emplace_back();
      cur = std::move(child);
      continue;
    }
    if (stack.empty()) break;
    // Climb: ".." must be the directory we came down from (nothing moved it).
    Fd parent(::openat(cur.get(), "..", kDirFlags));
    struct stat st{};
    if (!parent || ::fstat(parent.get(), &st) < 0 || st.st_dev != stack.back().dev || st.st_ino != stack.back().ino)
      throw Error(EAGAIN, "removing {}: a directory was moved while it was being removed", path);
    Level done = std::move(stack.back());
    stack.pop_back();
    skips.pop_back();
    cur = std::move(parent);
    if (::unlinkat(cur.get(), done.name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) {
      if (!failed) failed = Error(errno, "removing directory {}", where);
      skips.back().push_back(done.name);
    }
    where.resize(where.size() - done.name.size() - 1);
  }
  cur.reset();
  if (::rmdir(path.c_str()) < 0 && errno != ENOENT && !failed) failed = Error(errno, "removing directory {}", path);
  if (failed) throw *failed;
}

}  // namespace netlab
