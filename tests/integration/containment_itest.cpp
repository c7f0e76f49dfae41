// The escape tests of docs/security.md: each attack a node's root could try,
// performed against a default (contained) node, which must fail with nothing
// changed on the host (host sysctls, files, fabric links, other nodes' links
// read back unchanged); and, where the docs say it would work there, against a
// `privileged = true` node, so each test shows it can see an escape.
// (Terminal attacks and topology sysctls have tests of their own.)
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <fstream>
#include <filesystem>
#include <sstream>

#include "node/userns.hpp"
#include "support/lab_fixture.hpp"

namespace netlab::testing {
namespace {

class ContainmentTest : public LabTest {
 protected:
  CliResult in(const std::string& lab, const std::string& node, const std::vector<std::string>& argv) {
    std::vector<std::string> args = {"exec", lab, node, "--"};
    args.insert(args.end(), argv.begin(), argv.end());
    return netlab(args);
  }
  CliResult sh(const std::string& lab, const std::string& node, const std::string& script) {
    return in(lab, node, {"sh", "-c", script});
  }
  static std::string host_file(const std::string& path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  std::string node_dir(const std::string& lab, const std::string& node) const {
    return state_dir_ + "/" + lab + "/nodes/" + node;
  }
  // A tiny root file system: busybox and a few applet links.
  std::string make_image(const std::string& name) {
    std::string dir = files_dir_ + "/" + name;
    run_shell("mkdir -p " + dir + "/bin " + dir + "/etc && cp /bin/busybox " + dir + "/bin/ && for a in sh cat head touch ls "
              "id echo; do ln -sf busybox " + dir + "/bin/$a; done");
    return dir;
  }
  // Names and administrative state (UP or not) of every interface in a
  // namespace: what an attack would change. (Carrier flags are left out:
  // the kernel sets them asynchronously after a deploy.)
  static std::string links_of(const std::string& netns) {
    std::string out;
    for (const auto& l : ip_json(netns, "link show")) {
      bool up = false;
      for (const auto& f : l.value("flags", nlohmann::json::array())) up = up || f == "UP";
      out += l.value("ifname", "") + (up ? ":up\n" : ":down\n");
    }
    return out;
  }
  static std::string fabric_links(const std::string& lab) { return links_of("netlab-" + lab); }
};

TEST_F(ContainmentTest, HostGlobalSysctlsAndMountsAreOutOfReachButTheNodesOwnNetworkIsNot) {
  std::string lab = lab_prefix_ + "s";
  deploy_ok(topology(lab, "name = \"" + lab + R"("
[nodes.c]
interfaces.eth0 = "10.8.0.1/24"
[nodes.p]
privileged = true
interfaces.eth0 = "10.8.0.2/24"
[[links]]
endpoints = ["c:eth0", "p:eth0"]
)"));
  const std::string lease = "/proc/sys/fs/lease-break-time";
  const std::string before = host_file(lease), core = host_file("/proc/sys/kernel/core_pattern");
  ASSERT_FALSE(before.empty());
  const std::string other = std::to_string(std::stoi(before) + 1);

  // Attack 1: a host-global sysctl, directly and after trying to undo the
  // read-only /proc/sys; kernel.core_pattern would run a program as host root.
  EXPECT_NE(sh(lab, "c", "echo " + other + " > " + lease).exit_code, 0);
  EXPECT_NE(sh(lab, "c", "echo '|/tmp/x' > /proc/sys/kernel/core_pattern").exit_code, 0);
  EXPECT_NE(sh(lab, "c", "umount /proc/sys || umount -l /proc/sys").exit_code, 0);
  EXPECT_NE(sh(lab, "c", "mount -o remount,rw /proc/sys").exit_code, 0);
  EXPECT_NE(sh(lab, "c", "mkdir -p /tmp/p && mount -t proc proc /tmp/p").exit_code, 0);
  EXPECT_NE(sh(lab, "c", "echo " + other + " > " + lease).exit_code, 0);
  // The node's root may make a mount namespace of its own (CAP_SYS_ADMIN of
  // its user namespace), but every mount it inherits there is locked.
  auto own = sh(lab, "c", "unshare -m sh -c 'umount -l /proc/sys; echo " + other + " > " + lease + "'");
  EXPECT_NE(own.exit_code, 0) << own.out << own.err;
  EXPECT_NE(sh(lab, "c", "unshare -m sh -c 'mkdir -p /tmp/p && mount -t proc proc /tmp/p'").exit_code, 0);
  EXPECT_EQ(host_file(lease), before);
  EXPECT_EQ(host_file("/proc/sys/kernel/core_pattern"), core);
  // Masked kernel files read empty; the hostname is not the node's to change.
  EXPECT_EQ(in(lab, "c", {"cat", "/proc/timer_list"}).out, "");
  // Masked directories: empty, read-only, nosuid/nodev/noexec, and staying so.
  auto mountinfo = in(lab, "c", {"cat", "/proc/self/mountinfo"}).out;
  for (const char* d : {"/sys/firmware", "/sys/kernel/debug", "/sys/kernel/tracing", "/sys/kernel/security"}) {
    SCOPED_TRACE(d);
    if (!std::filesystem::is_directory(d)) continue;  // masked only where the host has it
    EXPECT_EQ(in(lab, "c", {"ls", "-A", d}).out, "");
    EXPECT_NE(sh(lab, "c", std::string("touch ") + d + "/x").exit_code, 0);
    EXPECT_NE(sh(lab, "c", std::string("umount ") + d + " || umount -l " + d).exit_code, 0);
    EXPECT_NE(sh(lab, "c", std::string("mount -o remount,rw ") + d).exit_code, 0);
    std::string line;
    std::istringstream lines(mountinfo);
    while (std::getline(lines, line) && line.find(std::string(" ") + d + " ") == std::string::npos) {
    }
    EXPECT_NE(line.find(" ro,nosuid,nodev,noexec"), std::string::npos) << line;
  }
  EXPECT_NE(in(lab, "c", {"hostname", "evil"}).exit_code, 0);

  // Its own network is its own: a net sysctl, an address, a route.
  EXPECT_EQ(sh(lab, "c", "echo 1 > /proc/sys/net/ipv4/ip_forward").exit_code, 0);
  EXPECT_EQ(run_shell("ip netns exec " + lab + "-c cat /proc/sys/net/ipv4/ip_forward"), "1\n");
  EXPECT_EQ(in(lab, "c", {"ip", "addr", "add", "10.9.9.9/32", "dev", "lo"}).exit_code, 0);
  EXPECT_NE(run_shell("ip -n " + lab + "-c -o addr show dev lo").find("10.9.9.9/32"), std::string::npos);
  EXPECT_EQ(in(lab, "c", {"ping", "-c", "1", "-W", "2", "10.8.0.2"}).exit_code, 0);

  // The privileged node is root of the host: the same write goes through.
  auto p = sh(lab, "p", "echo " + other + " > " + lease);
  std::string after_p = host_file(lease);
  std::ofstream(lease) << before;  // put the host back first
  EXPECT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(after_p, other + "\n");
  EXPECT_EQ(host_file(lease), before);
  destroy_ok(lab);
}

TEST_F(ContainmentTest, FilesANodeWritesCarryNoPrivilegeOut) {
  const node::IdRange range = node::userns_id_range();
  std::string lab = lab_prefix_ + "f";
  deploy_ok(topology(lab, "name = \"" + lab + R"("
[nodes.c]
[nodes.p]
privileged = true
)"));
  // Attack 3: a setuid copy of a shell in the node's root, run by a host user.
  for (const char* n : {"c", "p"}) {
    auto r = sh(lab, n, "cp /bin/busybox /suid && chmod 4755 /suid");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  struct stat c{}, p{};
  ASSERT_EQ(::stat((node_dir(lab, "c") + "/upper/suid").c_str(), &c), 0);
  ASSERT_EQ(::stat((node_dir(lab, "p") + "/upper/suid").c_str(), &p), 0);
  // Contained: the file belongs to the node's unprivileged host uid.
  EXPECT_EQ(c.st_uid, range.host_uid);
  EXPECT_NE(c.st_uid, 0u);
  // A host user running it is not root (nor can reach it).
  std::string who = run_shell("setpriv --reuid=65534 --regid=65534 --clear-groups " + node_dir(lab, "c") +
                              "/upper/suid id -u 2>/dev/null");
  EXPECT_NE(who, "0\n");
  // Privileged: a setuid-root file on the host, the escape the docs warn of.
  EXPECT_EQ(p.st_uid, 0u);
  EXPECT_TRUE(p.st_mode & S_ISUID);
  // The state dir keeps host users out of every node's files.
  struct stat st{};
  ASSERT_EQ(::stat(state_dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u) << "state dir mode " << std::oct << (st.st_mode & 07777);
  destroy_ok(lab);
}

TEST_F(ContainmentTest, NodesCannotReachOtherNamespacesThroughNsids) {
  std::string lab = lab_prefix_ + "n";
  std::string probe = NSID_PROBE;
  deploy_ok(topology(lab, "name = \"" + lab + R"("
[bridges.lan]
[nodes.c1]
interfaces = { eth0 = "10.8.1.1/24", eth1 = "10.8.2.1/24" }
binds = [")" + probe + R"(:/probe:ro"]
[nodes.c2]
interfaces.eth0 = "10.8.2.2/24"
[nodes.p]
privileged = true
interfaces.eth0 = "10.8.1.3/24"
binds = [")" + probe + R"(:/probe:ro"]
[[links]]
endpoints = ["c1:eth0", "lan"]
[[links]]
endpoints = ["p:eth0", "lan"]
[[links]]
endpoints = ["c1:eth1", "c2:eth0"]
)"));
  std::string fabric = fabric_links(lab);
  ASSERT_NE(fabric, "");
  auto c2_links = links_of(lab + "-c2");
  // Attack 5: list, set down and delete the fabric's and the peer node's links
  // through the ids the kernel gave their namespaces in c1's.
  auto r = in(lab, "c1", {"/probe", "delete"});
  // (The kernel answers a dump it does not allow with no links at all.)
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out.find(" ok"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("list 0: 0 links"), std::string::npos) << r.out;
  EXPECT_EQ(fabric_links(lab), fabric);
  EXPECT_EQ(links_of(lab + "-c2"), c2_links);
  EXPECT_TRUE(ping(lab + "-c2", "10.8.2.1"));

  // The privileged node reaches the fabric: it lists its links and sets one down.
  auto p = in(lab, "p", {"/probe"});
  EXPECT_EQ(p.exit_code, 0) << p.out << p.err;
  EXPECT_NE(p.out.find("down 0"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find(": ok"), std::string::npos) << p.out;
  EXPECT_NE(fabric_links(lab), fabric) << p.out;
  destroy_ok(lab);
}

TEST_F(ContainmentTest, DeviceFilesOfAnImageCannotBeOpenedOnlyNamedBindsCan) {
  std::string lab = lab_prefix_ + "d";
  std::string image = make_image("devimage");
  // Attack 6: an image shipping device files (1:3 is null, harmless to read;
  // 1:11 is the kernel log).
  run_shell("mknod " + image + "/nul c 1 3 && mknod " + image + "/kmsg c 1 11 && chmod 666 " + image + "/nul");
  deploy_ok(topology(lab, "name = \"" + lab + R"("
[nodes.c]
image = ")" + image + R"("
binds = ["/dev/full:/dev/named-full"]
[nodes.p]
privileged = true
image = ")" + image + R"("
binds = ["/dev/full:/dev/named-full"]
)"));
  for (const char* n : {"c", "p"}) {
    SCOPED_TRACE(n);
    EXPECT_NE(in(lab, n, {"head", "-c", "1", "/nul"}).exit_code, 0);
    EXPECT_NE(in(lab, n, {"head", "-c", "1", "/kmsg"}).exit_code, 0);
    // A device the topology names is there (the test can see a device open).
    auto full = in(lab, n, {"head", "-c", "1", "/dev/named-full"});
    EXPECT_EQ(full.exit_code, 0) << full.err;
    EXPECT_EQ(full.out, std::string(1, '\0'));
  }
  // Nor can the node make a device of its own.
  EXPECT_NE(sh(lab, "c", "mknod /dev/m c 1 11").exit_code, 0);
  destroy_ok(lab);
}

TEST_F(ContainmentTest, BindTargetsStayInsideTheNodesRoot) {
  // Attack 7: a node path climbing out of the root is a topology error.
  std::string bad = topology("b" + lab_prefix_, "name = \"b" + lab_prefix_ + R"("
[nodes.c]
binds = ["/etc/hostname:/../../../tmp/x"]
)");
  auto v = netlab({"validate", bad});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.err.find("bind target \"/../../../tmp/x\""), std::string::npos) << v.err;

  // An image whose /etc/evil points at a host directory: the bind lands inside
  // the node's root (or fails), never in the host directory.
  std::string outside = files_dir_ + "/outside";
  run_shell("mkdir -p " + outside);
  std::string image = make_image("linkimage");
  ASSERT_EQ(::symlink(("/../../../../../../../../.." + outside).c_str(), (image + "/etc/evil").c_str()), 0);
  std::string lab = lab_prefix_ + "b";
  auto r = netlab({"deploy", topology(lab, "name = \"" + lab + R"("
[nodes.c]
image = ")" + image + R"("
binds = ["/etc/hostname:/etc/evil/planted:ro"]
)")});
  if (r.exit_code == 0) {
    deployed_.push_back(lab);
    EXPECT_EQ(in(lab, "c", {"cat", "/etc/evil/planted"}).out, host_file("/etc/hostname"));
    destroy_ok(lab);
  } else {
    EXPECT_NE(r.err.find("/etc/evil"), std::string::npos) << r.err;
  }
  EXPECT_EQ(run_shell("ls -A " + outside), "");
}

TEST_F(ContainmentTest, ReadOnlyBindsAreReadOnlyAllTheWayDown) {
  // Attack 8: a submount below a read-only bind's source.
  std::string src = files_dir_ + "/ro";
  run_shell("mkdir -p " + src + "/sub && chmod 777 " + src + " " + src + "/sub");
  ASSERT_EQ(::mount("tmpfs", (src + "/sub").c_str(), "tmpfs", 0, "mode=777"), 0);
  std::string lab = lab_prefix_ + "r";
  deploy_ok(topology(lab, "name = \"" + lab + R"("
[nodes.c]
binds = [")" + src + R"(:/data:ro"]
[nodes.p]
privileged = true
binds = [")" + src + R"(:/data:ro"]
[nodes.h]
image = "host"
)"));
  for (const char* n : {"c", "p"}) {
    SCOPED_TRACE(n);
    EXPECT_NE(in(lab, n, {"touch", "/data/x"}).exit_code, 0);
    EXPECT_NE(in(lab, n, {"touch", "/data/sub/x"}).exit_code, 0);
  }
  // The host's directories in a host-image node: read-only, and /etc is the
  // node's own copy.
  EXPECT_NE(in(lab, "h", {"touch", "/usr/x"}).exit_code, 0);
  EXPECT_EQ(sh(lab, "h", "echo changed > /etc/motd-netlab-test").exit_code, 0);
  EXPECT_NE(::access("/etc/motd-netlab-test", F_OK), 0);
  destroy_ok(lab);
  EXPECT_EQ(run_shell("ls -A " + src + "/sub"), "");
  ::umount2((src + "/sub").c_str(), MNT_DETACH);
}

}  // namespace
}  // namespace netlab::testing
