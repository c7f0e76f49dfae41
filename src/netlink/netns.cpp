#include "netlink/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <cstdio>
#include <vector>
#include <unistd.h>

#include <cerrno>
#include "util/log.hpp"

#include "util/error.hpp"
#include "util/private_proc.hpp"
#include "util/strings.hpp"

namespace netlab::nl {

Netns Netns::current() { return open("/proc/thread-self/ns/net"); }

Netns Netns::open(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("opening network namespace {}", path);
  return Netns(std::move(fd));
}

Netns Netns::create(const std::function<void()>& inside) {
  Netns original = current();
  if (::unshare(CLONE_NEWNET) < 0) throw_errno("creating a network namespace (unshare)");
  Netns created;
  try {
    created = current();
    if (inside) inside();
  } catch (...) {
    ::setns(original.fd(), CLONE_NEWNET);
    throw;
  }
  if (::setns(original.fd(), CLONE_NEWNET) < 0) {
    // The thread would stay in the new namespace: nothing after this is safe.
    log::critical("cannot return to the original network namespace: {}", describe_errno(errno));
    std::abort();
  }
  return created;
}

uint64_t Netns::inode() const {
  struct stat st{};
  if (::fstat(fd(), &st) < 0) throw_errno("stat of a network namespace fd");
  return st.st_ino;
}

void ensure_pin_dir(const std::string& dir) {
  // mkdir -p, 0755 like iproute2 (the umask must not narrow it: others run `ip netns exec`).
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    std::string part = dir.substr(0, slash);
    if (::mkdir(part.c_str(), 0755) == 0) {
      ::chmod(part.c_str(), 0755);
    } else if (errno != EEXIST) {
      throw_errno("creating netns directory {}", part);
    }
    if (slash == std::string::npos) break;
  }
  // iproute2's create_netns_dir(): make it shared; EINVAL means it is not a
  // mount point yet, so bind it onto itself first (once).
  if (::mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) == 0) return;
  if (errno != EINVAL) throw_errno("making netns directory {} a shared mount", dir);
  if (::mount(dir.c_str(), dir.c_str(), "none", MS_BIND | MS_REC, nullptr) < 0)
    throw_errno("bind-mounting netns directory {} onto itself", dir);
  if (::mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) < 0)
    throw_errno("making netns directory {} a shared mount", dir);
}

void pin(const Netns& ns, const std::string& path) {
  Fd file(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (!file) throw_errno("creating netns pin {}", path);
  ::fchmod(file.get(), 0444);  // the mode is netlab's mark on a file not yet mounted over
  file.reset();
  std::string source = "/proc/self/fd/" + std::to_string(ns.fd());
  if (::mount(source.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) < 0) {
    int saved = errno;
    ::unlink(path.c_str());
    throw Error(saved, "pinning network namespace at {}", path);
  }
}

namespace {

constexpr long kNsfsMagic = 0x6e736673;  // NSFS_MAGIC

struct Found {
  bool nsfs = false;
  uint64_t inode = 0;
  struct stat st{};
};

// What an O_PATH descriptor refers to. False if it cannot be examined.
bool examine(int fd, Found& f) {
  struct statfs sfs{};
  if (::fstatfs(fd, &sfs) < 0 || ::fstat(fd, &f.st) < 0) return false;
  f.nsfs = sfs.f_type == kNsfsMagic;
  f.inode = f.st.st_ino;
  return true;
}

bool ours(const Found& f, uint64_t ns_inode) { return f.nsfs && (ns_inode == 0 || f.inode == ns_inode); }

void detach(int fd, const std::string& path) {
  std::string proc = "/proc/self/fd/" + std::to_string(fd);
  if (::umount2(proc.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    throw_errno("unmounting netns pin {}", path);
}

struct MountLine {
  int id = 0, parent = 0;
  std::string point;
};

std::string unescape_mountinfo(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<MountLine> mountinfo() {
  std::vector<MountLine> out;
  std::string text;
  try {
    text = read_file("/proc/self/mountinfo");
  } catch (const Error&) {
    return out;
  }
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    MountLine m;
    char point[4096];
    if (std::sscanf(line.c_str(), "%d %d %*s %*s %4095s", &m.id, &m.parent, point) == 3) {
      m.point = unescape_mountinfo(point);
      out.push_back(std::move(m));
    }
  }
  return out;
}

int mount_id_of(int fd) {
  struct statx sx{};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0 || !(sx.stx_mask & STATX_MNT_ID)) return -1;
  return static_cast<int>(sx.stx_mnt_id);
}

// Pins hidden under a bind of their directory made after them: reach the
// directory inside each parent mount by file handle (open_by_handle_at stays
// in the mount it is given; a path would cross into the bind on top), open
// the pin there, which lands on the hidden mount, and detach it.
UnpinResult detach_hidden(const std::string& path, uint64_t ns_inode) {
  std::string dir = path.substr(0, path.rfind('/'));
  std::string base = path.substr(path.rfind('/') + 1);
  if (dir.empty()) dir = "/";
  auto all = mountinfo();
  std::vector<int> parents;
  for (const auto& m : all)
    if (m.point == path) parents.push_back(m.parent);
  if (parents.empty()) return UnpinResult::kRemoved;
  struct {
    file_handle h;
    unsigned char bytes[MAX_HANDLE_SZ];
  } handle{};
  handle.h.handle_bytes = MAX_HANDLE_SZ;
  int ignored_mount_id = 0;
  if (::name_to_handle_at(AT_FDCWD, dir.c_str(), &handle.h, &ignored_mount_id, 0) < 0)
    throw_errno("netns pin {} is still mounted below a later mount of {} (file handle)", path, dir);
  UnpinResult result = UnpinResult::kRemoved;
  for (int parent : parents) {
    const MountLine* p = nullptr;
    for (const auto& m : all)
      if (m.id == parent) p = &m;
    if (!p) continue;
    Fd in_parent(::open(p->point.c_str(), O_PATH | O_CLOEXEC));
    if (!in_parent || mount_id_of(in_parent.get()) != parent)
      throw Error(EBUSY, "netns pin {} is still mounted in mount {} at {}, which is itself covered", path, parent,
                  p->point);
    Fd dir_there(::open_by_handle_at(in_parent.get(), &handle.h, O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir_there) throw_errno("reaching {} inside mount {} to remove the pin below", dir, p->point);
    Fd pin_there(::openat(dir_there.get(), base.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    Found f;
    if (!pin_there || !examine(pin_there.get(), f)) continue;
    if (!f.nsfs) continue;
    if (!ours(f, ns_inode)) {
      result = UnpinResult::kNotOurs;
      continue;
    }
    detach(pin_there.get(), path);
  }
  return result;
}

}  // namespace

UnpinResult unpin(const std::string& path, uint64_t ns_inode) {
  bool removed_mount = false;
  // The visible pin (a bind of the directory may have copied it: unmount the
  // copies one by one while they are ours).
  for (int round = 0; round < 16; ++round) {
    Fd fd(::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT) return removed_mount ? UnpinResult::kRemoved : UnpinResult::kAbsent;
      throw_errno("opening netns pin {}", path);
    }
    Found f;
    if (!examine(fd.get(), f)) throw_errno("examining netns pin {}", path);
    if (!f.nsfs) {
      // The file under the mounts. netlab's (mode 0444, empty) unless proven otherwise.
      if (!S_ISREG(f.st.st_mode) || f.st.st_size != 0 || (f.st.st_mode & 07777) != 0444) {
        log::debug("{} is not a netns pin netlab made; left in place", path);
        return UnpinResult::kNotOurs;
      }
      break;
    }
    if (!ours(f, ns_inode)) {
      log::debug("{} pins another network namespace (inode {}, not {}); left in place", path, f.inode, ns_inode);
      return UnpinResult::kNotOurs;
    }
    detach(fd.get(), path);
    removed_mount = true;
  }
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return UnpinResult::kRemoved;
  if (errno != EBUSY) throw_errno("removing netns pin {}", path);
  // Still a mount point: a copy below a later bind of the directory. Only
  // then is mountinfo read (reading it per pin would make destroy O(N^2)).
  if (detach_hidden(path, ns_inode) == UnpinResult::kNotOurs) return UnpinResult::kNotOurs;
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) throw_errno("removing netns pin {}", path);
  return UnpinResult::kRemoved;
}

void write_sysctl(const Netns& ns, const std::string& key, const std::string& value) {
  NetnsSwitch in(ns);
  write_sysctl(key, value);
}

namespace {

// A procfs instance of our own, mounted nowhere: its dentries are its own.
// In the shared /proc, every network namespace that was ever looked up leaves
// a dentry named "net" under /proc/sys, all in one hash chain, and a lookup
// compares against each: O(N) per sysctl write with N namespaces, O(N^2) per
// deploy (a 2000-node lab spent about a second there). An instance serves
// kUsesPerProc namespaces (its chain stays that short; a new instance costs
// about 0.2 ms), one per thread. Null when the kernel cannot (no fsopen).
constexpr int kUsesPerProc = 64;

Fd new_private_proc() { return Fd(open_private_proc()); }

int private_proc() {
  thread_local Fd proc;
  thread_local int uses = 0;
  if (!proc || ++uses > kUsesPerProc) {
    proc = new_private_proc();
    uses = 1;
  }
  return proc.get();
}

}  // namespace

void write_sysctl(const std::string& key, const std::string& value) {
  std::string path = sysctl_path(key);
  Fd fd;
  if (key.starts_with("net.")) {
    if (int proc = private_proc(); proc >= 0)
      fd = Fd(::openat(proc, path.c_str() + std::string_view("/proc/").size(), O_WRONLY | O_CLOEXEC));
  }
  if (!fd) fd = Fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), value.data(), value.size()) < 0) throw_errno("setting sysctl {} = {}", key, value);
}

NetnsSwitch::NetnsSwitch(const Netns& target) : original_(Netns::current()) {
  if (::setns(target.fd(), CLONE_NEWNET) < 0) throw_errno("entering a network namespace (setns)");
}

NetnsSwitch::~NetnsSwitch() {
  if (::setns(original_.fd(), CLONE_NEWNET) < 0) {
    log::critical("cannot return to the original network namespace: {}", describe_errno(errno));
    std::abort();
  }
}

}  // namespace netlab::nl
