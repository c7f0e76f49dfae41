#include "node/caps.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

// CAP_MKNOD is left out on purpose: without a devices cgroup it would let a
// node create and open host block devices.

namespace netlab::node {

std::vector<int> node_capabilities(bool sys_admin) {
  std::vector<int> caps = {CAP_CHOWN,      CAP_DAC_OVERRIDE, CAP_FSETID,   CAP_FOWNER,
                           CAP_NET_RAW,      CAP_SETGID,   CAP_SETUID,
                           CAP_SETFCAP,    CAP_SETPCAP,      CAP_NET_BIND_SERVICE,
                           CAP_SYS_CHROOT, CAP_KILL,         CAP_AUDIT_WRITE, CAP_NET_ADMIN,
                           CAP_NET_BROADCAST};
  if (sys_admin) caps.push_back(CAP_SYS_ADMIN);
  return caps;
}

int restrict_bounding_set(bool sys_admin) {
  auto keep = node_capabilities(sys_admin);
  // The bounding set caps what an exec can gain; the process's own permitted and
  // effective sets (a node's init never execs) must shrink to the same set.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int cap : keep) {
    data[cap / 32].permitted |= 1u << (cap % 32);
    data[cap / 32].effective |= 1u << (cap % 32);
  }
  for (int cap = 0; cap <= 63; ++cap) {
    if (std::find(keep.begin(), keep.end(), cap) != keep.end()) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno == EINVAL) break;  // past the kernel's last capability
      return -errno;
    }
  }
  if (::syscall(SYS_capset, &header, data) < 0) return -errno;
  return 0;
}

}  // namespace netlab::node
