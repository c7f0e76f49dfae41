#include "netlink/netns_store.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>

namespace netlab::nl {

namespace {

// An existing directory to attach the store's tmpfs to, inside its private
// mount namespace (nothing outside it sees the mount).
const char* attach_point() {
  for (const char* d : {"/tmp", "/run", "/mnt", "/var/tmp", "/dev"})
    if (::access(d, F_OK) == 0) return d;
  return "/";
}

}  // namespace

NetnsStore::NetnsStore() {
  thread_ = std::thread([this] { serve(); });
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return ready_ || failed_; });
  if (failed_) {
    lock.unlock();
    thread_.join();
    throw *failed_;
  }
}

NetnsStore::~NetnsStore() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NetnsStore::serve() {
  // The thread's own mount namespace: it stops sharing file system
  // attributes with netlab's other threads, and makes every mount private
  // first, so that nothing mounted here propagates to the host.
  auto fail = [&](const char* step) {
    std::lock_guard lock(mutex_);
    failed_ = Error(errno, "netns store: {}", step);
    changed_.notify_all();
  };
  if (::unshare(CLONE_FS | CLONE_NEWNS) < 0) return fail("creating its mount namespace");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) return fail("making its mounts private");
  Fd fs(::fsopen("tmpfs", FSOPEN_CLOEXEC));
  if (!fs || ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "mode", "0700", 0) < 0 ||
      ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
    return fail("creating its tmpfs");
  Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  if (!mnt) return fail("mounting its tmpfs");
  if (::move_mount(mnt.get(), "", AT_FDCWD, attach_point(), MOVE_MOUNT_F_EMPTY_PATH) < 0) return fail("attaching its tmpfs");
  {
    std::lock_guard lock(mutex_);
    dir_ = std::move(mnt);
    ready_ = true;
  }
  changed_.notify_all();

  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_) break;
    auto [key, fd] = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    std::optional<Error> error;
    int file = ::openat(dir_.get(), key.c_str(), O_CREAT | O_EXCL | O_RDONLY | O_CLOEXEC, 0400);
    if (file < 0) {
      error = Error(errno, "netns store: creating the hold of {}", key);
    } else {
      ::close(file);
      Fd tree(::open_tree(fd.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
      if (!tree || ::move_mount(tree.get(), "", dir_.get(), key.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
        error = Error(errno, "netns store: holding the network namespace of {}", key);
    }
    fd.reset();
    lock.lock();
    auto& hold = holds_[key];
    hold.error = std::move(error);
    hold.done = true;
    changed_.notify_all();
  }
  // Leaving ends this thread's mount namespace: every hold goes with it.
}

void NetnsStore::put(const std::string& key, const Netns& ns) {
  if (key.empty() || key.find('/') != std::string::npos || key == "." || key == "..")
    throw Error(EINVAL, "netns store: \"{}\" is no name for a hold", key);
  Fd dup(::fcntl(ns.fd(), F_DUPFD_CLOEXEC, 3));
  if (!dup) throw_errno("netns store: duplicating the descriptor of {}", key);
  {
    std::lock_guard lock(mutex_);
    if (holds_.count(key)) throw Error(EEXIST, "netns store: {} is held already", key);
    holds_[key] = Hold{};
    queue_.emplace_back(key, std::move(dup));
  }
  changed_.notify_all();
}

bool NetnsStore::has(const std::string& key) {
  std::lock_guard lock(mutex_);
  return holds_.count(key) > 0;
}

Netns NetnsStore::open(const std::string& key) {
  std::unique_lock lock(mutex_);
  auto it = holds_.find(key);
  if (it == holds_.end()) throw Error(ENOENT, "netns store: nothing is held as {}", key);
  changed_.wait(lock, [&] { return it->second.done; });
  if (it->second.error) throw *it->second.error;
  int dir = dir_.get();
  lock.unlock();
  Fd fd(::openat(dir, key.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("netns store: opening the network namespace of {}", key);
  return Netns(std::move(fd));
}

}  // namespace netlab::nl
