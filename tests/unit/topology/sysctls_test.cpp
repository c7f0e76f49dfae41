// Which sysctls a node may set: per-namespace keys pass, host-global and
// malformed ones are refused (the positions are in tests/testdata/bad/sysctl-*).
#include "topology/sysctls.hpp"

#include <gtest/gtest.h>

namespace netlab::topo {
namespace {

TEST(Sysctls, PerNamespaceKeysPass) {
  for (const char* key :
       {"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding", "net.ipv4.conf.eth0.rp_filter",
        "net.ipv4.tcp_syncookies", "net.core.somaxconn", "net.ipv4.route.min_pmtu",
        "net.ipv4.neigh.eth0.gc_stale_time", "net.ipv6.route.max_size", "net.unix.max_dgram_qlen",
        "kernel.shmmni", "kernel.sem", "kernel.msgmnb", "fs.mqueue.msg_max"})
    EXPECT_EQ(sysctl_refusal(key), "") << key;
}

TEST(Sysctls, HostGlobalKeysAreRefused) {
  for (const char* key : {"fs.lease-break-time", "kernel.core_pattern", "vm.swappiness",
                          "kernel.modprobe", "user.max_user_namespaces", "dev.tty.legacy_tiocsti",
                          "net.core.bpf_jit_enable", "net.core.rmem_max", "net.ipv4.tcp_mem",
                          "net.ipv4.route.gc_timeout", "net.ipv4.neigh.default.gc_thresh3",
                          "net.ipv4.cipso_cache_enable", "net.nf_conntrack_max", "kernel", "net"})
    EXPECT_NE(sysctl_refusal(key).find("is host-global"), std::string::npos) << key;
}

TEST(Sysctls, MalformedKeysAreRefused) {
  for (const char* key :
       {"", ".", "net.ipv4/../../fs/lease-break-time", "net..ipv4.ip_forward", ".net.ipv4.x",
        "net.ipv4.", "net.ipv4.conf.lo .forwarding", "net.ipv4.conf.a\tb.forwarding"})
    EXPECT_NE(sysctl_refusal(key).find("is not a sysctl name"), std::string::npos) << key;
}

TEST(Sysctls, UtsKeysAreRefused) {
  EXPECT_NE(sysctl_refusal("kernel.hostname").find("`hostname` key"), std::string::npos);
  EXPECT_NE(sysctl_refusal("kernel.domainname").find("cannot be set in a node"), std::string::npos);
}

}  // namespace
}  // namespace netlab::topo
