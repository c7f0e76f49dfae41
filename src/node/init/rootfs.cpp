#include "node/init/rootfs.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "node/init/steps.hpp"

namespace netlab::node::detail {

namespace {

int openat2_in(int root_fd, const std::string& path, int flags, uint64_t resolve) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? 0644 : 0;
  how.resolve = resolve;
  return static_cast<int>(::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how));
}

constexpr uint64_t kInRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

void mkdirs(const std::string& path, mode_t mode = 0755) {
  for (size_t pos = 1; pos != std::string::npos;) {
    pos = path.find('/', pos + 1);
    std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), mode) < 0 && errno != EEXIST) fail("creating " + part);
  }
}

// A detached copy of the mount tree at `source` (recursive), with `attrs` set
// on every mount of it and, for a contained node, the node's ID mapping: a file
// the host's root owns is then owned by the node's root inside.
int clone_tree(const std::string& source, uint64_t attrs, int userns_fd, bool recursive = true) {
  int tree = ::open_tree(AT_FDCWD, source.c_str(),
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
  if (tree < 0) fail("cloning the mount tree of " + source);
  mount_attr attr{};
  attr.attr_set = attrs;
  if (userns_fd >= 0) {
    attr.attr_set |= MOUNT_ATTR_IDMAP;
    attr.userns_fd = static_cast<uint64_t>(userns_fd);
  }
  if (attr.attr_set &&
      ::mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
    fail(std::string(userns_fd >= 0 ? "idmapping " : "setting the mount flags of ") + source +
         (userns_fd >= 0 ? " (every file system under it must support idmapped mounts)" : ""));
  return tree;
}

void attach(int tree, int target_fd, const std::string& what) {
  check(::move_mount(tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH),
        "mounting " + what);
  ::close(tree);
}

void attach_at(int tree, const std::string& path, const std::string& what) {
  check(::move_mount(tree, "", AT_FDCWD, path.c_str(), MOVE_MOUNT_F_EMPTY_PATH), "mounting " + what);
  ::close(tree);
}

// Where a contained node's layer (an idmapped copy of a host directory) is
// attached for overlayfs to use as a lower dir: in the node's directory, seen
// only in the node's own mount namespace.
std::string idmapped_layer(const NodeSpec& spec, const std::string& source, const std::string& name, int userns_fd) {
  std::string at = spec.node_dir + "/layers/" + name;
  mkdirs(at);
  attach_at(clone_tree(source, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, userns_fd), at,
            "the idmapped layer " + source);
  return at;
}

// `volatile`: the node's layer lives only as long as its lab, so overlayfs
// need not sync it: without it, every unmount (each node's exit, twice for a
// host-image node) synced the whole filesystem under the state directory,
// serialised across nodes on its disk (sync_inodes_sb; on this project's ext4
// VM, 10 004 nodes were killed in 5.1 s instead of 6.4), and a node could make
// the host flush its disk with syncfs.
// A later mount of the same work directory needs the marker it leaves gone
// (prepare_node_dir does that on a restart).
void overlay(const std::string& lower, const std::string& upper, const std::string& work, const std::string& target) {
  std::string opts = "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work + ",volatile";
  check(::mount("overlay", target.c_str(), "overlay", MS_NOSUID | MS_NODEV, opts.c_str()), "mounting overlay on " + target);
}

// tmpfs options: a contained node's root owns it (as its host uid).
std::string tmpfs_opts(const NodeSpec& spec, const char* mode, const char* extra = "") {
  std::string o = std::string("mode=") + mode + extra;
  if (spec.userns) o += ",uid=" + std::to_string(spec.userns->host_uid) + ",gid=" + std::to_string(spec.userns->host_gid);
  return o;
}

void tmpfs(const NodeSpec& spec, const std::string& target, const char* mode, unsigned long flags, const char* extra = "") {
  mkdirs(target);
  check(::mount("tmpfs", target.c_str(), "tmpfs", flags, tmpfs_opts(spec, mode, extra).c_str()), "mounting tmpfs on " + target);
}

// The host's programs and libraries read-only (idmapped for a contained node),
// /etc copy-on-write per node over the host's, /var the host's directory
// skeleton (built once by netlab, empty) under a private writable layer, and
// private /run and /tmp: what a package's init script expects of a booted host.
void host_rootfs(const NodeSpec& spec, const std::string& root, int userns_fd) {
  tmpfs(spec, root, "755", MS_NOSUID | MS_NODEV);
  for (const char* d : {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "opt"}) {
    std::string host = std::string("/") + d;
    struct stat st{};
    if (::lstat(host.c_str(), &st) < 0) continue;
    std::string target = root + host;
    if (S_ISLNK(st.st_mode)) {  // merged /usr: /bin -> usr/bin
      char link[256] = {};
      ssize_t n = ::readlink(host.c_str(), link, sizeof link - 1);
      if (n > 0) check(::symlink(link, target.c_str()), "linking " + target);
    } else if (S_ISDIR(st.st_mode)) {
      mkdirs(target);
      attach_at(clone_tree(host, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, userns_fd), target,
                "the host's " + host);
    }
  }
  std::string etc_lower = userns_fd >= 0 ? idmapped_layer(spec, "/etc", "etc", userns_fd) : "/etc";
  if (!spec.hosts_layer.empty()) etc_lower = spec.hosts_layer + "/etc:" + etc_lower;
  mkdirs(root + "/etc");
  overlay(etc_lower, spec.node_dir + "/upper/etc", spec.node_dir + "/work", root + "/etc");
  mkdirs(root + "/var");
  overlay(spec.var_lower, spec.node_dir + "/var", spec.node_dir + "/var-work", root + "/var");
  tmpfs(spec, root + "/run", "755", MS_NOSUID | MS_NODEV);
  for (const char* d : {"/run/lock", "/run/user"}) {
    std::string p = root + d;
    check(::mkdir(p.c_str(), d[5] == 'l' ? 01777 : 0755), "creating " + p);
    check(::chmod(p.c_str(), d[5] == 'l' ? 01777 : 0755), "setting the mode of " + p);
    if (spec.userns) check(::chown(p.c_str(), spec.userns->host_uid, spec.userns->host_gid), "changing the owner of " + p);
  }
}

bool is_device(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode));
}

// A bind: its target resolved inside the root (a symlink planted in an image
// cannot send it outside), the whole tree read-only when asked (submounts
// too), never setuid, and device files only when the user named one.
// Read-only binds of a contained node are idmapped (nothing is written
// through them); a writable one is not, so what the node writes there belongs
// to its unprivileged host uid, never to the host's root.
void bind(const NodeSpec& spec, int root_fd, const BindSpec& b, int userns_fd) {
  struct stat st{};
  if (::stat(b.host_path.c_str(), &st) < 0) fail("bind source " + b.host_path);
  int target = open_in_root(root_fd, b.node_path, S_ISDIR(st.st_mode));
  uint64_t attrs = MOUNT_ATTR_NOSUID | (is_device(b.host_path) ? 0 : MOUNT_ATTR_NODEV);
  if (b.read_only) attrs |= MOUNT_ATTR_RDONLY;
  attach(clone_tree(b.host_path, attrs, b.read_only ? userns_fd : -1), target, b.host_path + " on " + b.node_path);
  ::close(target);
  (void)spec;
}

// The OCI defaults' masked and read-only paths, with /proc/sys/net writable
// again for the node's own network namespace.
void mask_proc_and_sys(const NodeSpec& spec, const std::string& root) {
  for (const char* f : {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/latency_stats",
                        "/proc/timer_stats", "/proc/sysrq-trigger", "/proc/kallsyms", "/proc/kpagecount",
                        "/proc/kpageflags", "/proc/kpagecgroup", "/proc/config.gz"}) {
    std::string p = root + f;
    struct stat st{};
    if (::lstat(p.c_str(), &st) < 0 || !S_ISREG(st.st_mode)) continue;
    check(::mount("/dev/null", p.c_str(), nullptr, MS_BIND, nullptr), std::string("masking ") + f);
  }
  // One empty read-only tmpfs masks every directory (the first mounted, the
  // others binds of it): each superblock costs kernel memory in every memory
  // cgroup of the host (docs/performance.md), so a node mounts as few as it can.
  constexpr unsigned long kMaskFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  std::string first_mask;
  for (const char* d : {"/proc/acpi", "/proc/scsi", "/proc/asound", "/sys/firmware", "/sys/kernel/debug",
                        "/sys/kernel/tracing", "/sys/kernel/security"}) {
    std::string p = root + d;
    struct stat st{};
    if (::lstat(p.c_str(), &st) < 0 || !S_ISDIR(st.st_mode)) continue;
    if (first_mask.empty()) {
      check(::mount("tmpfs", p.c_str(), "tmpfs", kMaskFlags, tmpfs_opts(spec, "555").c_str()), std::string("masking ") + d);
      first_mask = p;
      continue;
    }
    check(::mount(first_mask.c_str(), p.c_str(), nullptr, MS_BIND, nullptr), std::string("masking ") + d);
    check(::mount(nullptr, p.c_str(), nullptr, MS_BIND | MS_REMOUNT | kMaskFlags, nullptr),
          std::string("making the mask of ") + d + " read-only");
  }
  for (const char* d : {"/proc/sys", "/proc/irq", "/proc/bus", "/proc/fs", "/proc/sysvipc"}) {
    std::string p = root + d;
    struct stat st{};
    if (::lstat(p.c_str(), &st) < 0) continue;
    check(::mount(p.c_str(), p.c_str(), nullptr, MS_BIND | MS_REC, nullptr), std::string("binding ") + d);
    check(::mount(nullptr, p.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr),
          std::string("making ") + d + " read-only");
  }
  std::string net = root + "/proc/sys/net";
  check(::mount(net.c_str(), net.c_str(), nullptr, MS_BIND, nullptr), "binding /proc/sys/net");
  check(::mount(nullptr, net.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr),
        "making /proc/sys/net writable");
}

void minimal_dev(const NodeSpec& spec, const std::string& root) {
  std::string dev = root + "/dev";
  tmpfs(spec, dev, "755", MS_NOSUID | MS_NOEXEC, ",size=64k");
  auto device = [&](const std::string& host, const std::string& at) {
    int fd = ::open(at.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) fail("creating " + at);
    ::close(fd);
    check(::mount(host.c_str(), at.c_str(), nullptr, MS_BIND, nullptr), "binding " + host);
  };
  for (const char* d : {"null", "zero", "full", "random", "urandom", "tty"})
    device(std::string("/dev/") + d, dev + "/" + d);
  if (is_device("/dev/net/tun")) {
    mkdirs(dev + "/net");
    device("/dev/net/tun", dev + "/net/tun");
  }
  mkdirs(dev + "/pts");
  check(::mount("devpts", (dev + "/pts").c_str(), "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620"),
        "mounting /dev/pts");
  check(::symlink("pts/ptmx", (dev + "/ptmx").c_str()), "linking /dev/ptmx");
  tmpfs(spec, dev + "/shm", "1777", MS_NOSUID | MS_NODEV, ",size=16m");
  ::symlink("/proc/self/fd", (dev + "/fd").c_str());
  ::symlink("/proc/self/fd/0", (dev + "/stdin").c_str());
  ::symlink("/proc/self/fd/1", (dev + "/stdout").c_str());
  ::symlink("/proc/self/fd/2", (dev + "/stderr").c_str());
}

}  // namespace

int open_in_root(int root_fd, const std::string& node_path, bool dir) {
  if (node_path.empty() || node_path[0] != '/') {
    errno = EINVAL;
    fail("bind target " + node_path + " (not an absolute path)");
  }
  std::vector<std::string> parts;
  for (size_t pos = 1; pos <= node_path.size();) {
    size_t next = node_path.find('/', pos);
    if (next == std::string::npos) next = node_path.size();
    std::string part = node_path.substr(pos, next - pos);
    if (part == "..") {
      errno = EINVAL;
      fail("bind target " + node_path + " (contains ..)");
    }
    if (!part.empty() && part != ".") parts.push_back(part);
    pos = next + 1;
  }
  std::string prefix;
  int parent = ::fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
  if (parent < 0) fail("duplicating the root descriptor");
  for (size_t i = 0; i < parts.size(); ++i) {
    bool last = i + 1 == parts.size();
    prefix += "/" + parts[i];
    int want_dir = !last || dir ? O_DIRECTORY : 0;
    int fd = openat2_in(root_fd, prefix, O_PATH | want_dir, kInRoot);
    if (fd < 0 && errno == ENOENT) {
      // Created in the parent we resolved inside the root; O_EXCL and the
      // directory's own creation never follow a symlink.
      if (want_dir) {
        if (::mkdirat(parent, parts[i].c_str(), 0755) < 0 && errno != EEXIST) fail("creating " + prefix + " in the node");
      } else {
        int f = ::openat(parent, parts[i].c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (f < 0 && errno != EEXIST) fail("creating " + prefix + " in the node");
        if (f >= 0) ::close(f);
      }
      fd = openat2_in(root_fd, prefix, O_PATH | want_dir, kInRoot);
    }
    if (fd < 0) fail("resolving " + prefix + " inside the node's root");
    ::close(parent);
    parent = fd;
  }
  if (parts.empty()) {
    errno = EINVAL;
    fail("bind target " + node_path + " (the node's root itself)");
  }
  return parent;
}

void build_root(const NodeSpec& spec, const std::string& root, int userns_fd) {
  // The lab's /etc/hosts is one read-only layer above the image, shared by the
  // lab's nodes (a copy per node made the lab's state grow with the square of
  // its size); a node that writes it gets its own copy in its upper layer.
  std::string hosts = spec.hosts_layer.empty() ? "" : spec.hosts_layer + ":";
  switch (spec.rootfs) {
    case RootfsKind::kHost: host_rootfs(spec, root, userns_fd); break;
    case RootfsKind::kBusybox:
      // A contained node's busybox image is a copy owned by its root (netlab made it).
      overlay(hosts + spec.lower, spec.node_dir + "/upper", spec.node_dir + "/work", root);
      break;
    case RootfsKind::kPath:
      overlay(hosts + (userns_fd >= 0 ? idmapped_layer(spec, spec.lower, "image", userns_fd) : spec.lower),
              spec.node_dir + "/upper", spec.node_dir + "/work", root);
      break;
    case RootfsKind::kImage: {
      // An OCI image's layers (top first), shared by every node: a contained
      // node sees each through an idmapped mount, as it sees a path image.
      std::string lower = spec.lower;
      if (userns_fd >= 0) {
        lower.clear();
        size_t i = 0;
        for (size_t pos = 0; pos <= spec.lower.size(); ++i) {
          size_t end = spec.lower.find(':', pos);
          if (end == std::string::npos) end = spec.lower.size();
          std::string layer = spec.lower.substr(pos, end - pos);
          lower += (i ? ":" : "") + idmapped_layer(spec, layer, "layer" + std::to_string(i), userns_fd);
          pos = end + 1;
        }
      }
      overlay(hosts + lower, spec.node_dir + "/upper", spec.node_dir + "/work", root);
      break;
    }
  }
  mkdirs(root + "/proc");
  check(::mount("proc", (root + "/proc").c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr), "mounting /proc");
  mkdirs(root + "/sys");
  // Without it (`sysfs = false`) /sys is an empty directory of the image.
  if (spec.sysfs)
    check(::mount("sysfs", (root + "/sys").c_str(), "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr),
          "mounting /sys");
  if (spec.userns) mask_proc_and_sys(spec, root);
  minimal_dev(spec, root);
  tmpfs(spec, root + "/tmp", "1777", MS_NOSUID | MS_NODEV);
  // Binds last: one into /tmp or onto a device under /dev stays in view.
  if (!spec.binds.empty()) {
    int root_fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) fail("opening " + root);
    for (const auto& b : spec.binds) bind(spec, root_fd, b, userns_fd);
    ::close(root_fd);
  }
}

}  // namespace netlab::node::detail
