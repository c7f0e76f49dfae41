#include "netlink/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include "util/log.hpp"

#include "util/error.hpp"
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

void pin(const Netns& ns, const std::string& path) {
  Fd file(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (!file) throw_errno("creating netns pin {}", path);
  file.reset();
  std::string source = "/proc/self/fd/" + std::to_string(ns.fd());
  if (::mount(source.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) < 0) {
    int saved = errno;
    ::unlink(path.c_str());
    throw Error(saved, "pinning network namespace at {}", path);
  }
}

void unpin(const std::string& path) {
  if (::umount2(path.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    throw_errno("unmounting netns pin {}", path);
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) throw_errno("removing netns pin {}", path);
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

Fd new_private_proc() {
  Fd fs(::fsopen("proc", FSOPEN_CLOEXEC));
  if (!fs) return Fd();
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) return Fd();
  return Fd(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
}

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
