// A procfs instance of the caller's own, mounted nowhere (fsopen/fsmount):
// its dentries are its own. In the shared /proc every network namespace that
// was ever looked up leaves its /proc/sys/net dentries in one hash chain that
// each lookup walks (proc_sys_compare), so sysctl writes for many namespaces
// through it cost O(N) each. Used by netlab (netlink/netns.cpp) and by
// netlab-init, which links nothing but header-only utilities of util/.
#pragma once

#include <sys/mount.h>
#include <unistd.h>

namespace netlab {

/// The instance's root as a close-on-exec descriptor (no suid, dev or exec),
/// or -1 when the kernel cannot (no fsopen).
inline int open_private_proc() {
  int fs = ::fsopen("proc", FSOPEN_CLOEXEC);
  if (fs < 0) return -1;
  int root = -1;
  if (::fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0)
    root = ::fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  ::close(fs);
  return root;
}

}  // namespace netlab
