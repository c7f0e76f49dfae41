// Issue 14, attack 2: a topology's `sysctls` may set only what belongs to the
// node's own namespaces. A host-global key is refused when the file is loaded
// and the host's value reads back unchanged; the namespaced keys netlab
// accepts (network, IPC) land in the node and leave the host's alone.
#include <fmt/format.h>

#include "support/lab_fixture.hpp"
#include "util/strings.hpp"

namespace netlab::testing {
namespace {

std::string host(const std::string& path) {
  return std::string(trim(read_file("/proc/sys/" + path)));
}

class SysctlTest : public LabTest {};

// The parameter: extra node keys (a default, contained node; a privileged one).
class NamespacedSysctlTest : public LabTest, public ::testing::WithParamInterface<const char*> {};

TEST_F(SysctlTest, AHostGlobalSysctlIsRefusedAndTheHostKeepsItsValue) {
  std::string lease = host("fs/lease-break-time");
  std::string core = host("kernel/core_pattern");
  std::string lab = lab_prefix_ + "g";
  std::string value = std::to_string(std::stoi(lease) + 1);
  std::string path = topology(lab, fmt::format(R"(name = "{}"
[nodes.h1]
sysctls = {{ "fs.lease-break-time" = {}, "kernel.core_pattern" = "|/bin/false" }}
)",
                                               lab, value));
  auto r = netlab({"deploy", path});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(lab + ".toml:3:13: sysctl \"fs.lease-break-time\" is host-global"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(fmt::format("{}.toml:3:{}: sysctl", lab, 39 + value.size()) +
                       " \"kernel.core_pattern\" is host-global"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(host("fs/lease-break-time"), lease);
  EXPECT_EQ(host("kernel/core_pattern"), core);
  // Nothing was deployed.
  EXPECT_NE(netlab({"inspect", lab}).exit_code, 0);
}

TEST_P(NamespacedSysctlTest, LandInTheNodeOnly) {
  std::string shmmni = host("kernel/shmmni");
  std::string msg_max = host("fs/mqueue/msg_max");
  std::string somaxconn = host("net/core/somaxconn");
  std::string lab = lab_prefix_ + "n";
  std::string want_shmmni = std::to_string(std::stoul(shmmni) - 7);
  std::string want_msg_max = std::to_string(std::stoul(msg_max) + 3);
  deploy_ok(topology(lab, fmt::format(R"(name = "{}"
[nodes.h1]
sysctls = {{ "kernel.shmmni" = {}, "fs.mqueue.msg_max" = {}, "net.core.somaxconn" = 777 }}
{})",
                                      lab, want_shmmni, want_msg_max, GetParam())));
  auto in = [&](const std::string& key) {
    auto r = netlab({"exec", lab, "h1", "--", "cat", "/proc/sys/" + key});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::string(trim(r.out));
  };
  EXPECT_EQ(in("kernel/shmmni"), want_shmmni);
  EXPECT_EQ(in("fs/mqueue/msg_max"), want_msg_max);
  EXPECT_EQ(in("net/core/somaxconn"), "777");
  EXPECT_EQ(host("kernel/shmmni"), shmmni);
  EXPECT_EQ(host("fs/mqueue/msg_max"), msg_max);
  EXPECT_EQ(host("net/core/somaxconn"), somaxconn);  // the test's own network namespace
  destroy_ok(lab);
}

INSTANTIATE_TEST_SUITE_P(Nodes, NamespacedSysctlTest, ::testing::Values("", "privileged = true\n"),
                         [](const auto& info) {
                           return std::string(info.param).empty() ? "Contained" : "Privileged";
                         });

}  // namespace
}  // namespace netlab::testing
