// apply of one host's part of a multi-host lab (no privileges): the diff of two
// parts keeps cross-host links' VXLAN devices that did not change, makes and
// deletes those that did (a fresh interface index, never a kept one's), and
// refuses a change of the hosts a bridge spans; pin_hosts writes every node's
// host into the file so that each host computes the same parts.
#include <gtest/gtest.h>

#include "cluster/part.hpp"
#include "lab/diff.hpp"
#include "lab/plan.hpp"
#include "topology/parse.hpp"
#include "topology/pin_hosts.hpp"
#include "lab_text.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

namespace netlab::cluster {
namespace {

const std::string kLab = "name = \"mh\"\n" + test::hosts_toml(3) + R"(
[bridges.lan]
[nodes.r1]
host = "h1"
interfaces.eth0 = "10.0.12.1/24"
[nodes.r2]
host = "h2"
interfaces = { eth0 = "10.0.12.2/24", eth1 = "10.0.23.1/24" }
[nodes.r3]
host = "h3"
interfaces.eth0 = "10.0.23.2/24"
[nodes.a1]
host = "h1"
interfaces.eth0 = "192.168.50.1/24"
[nodes.a3]
host = "h3"
interfaces.eth0 = "192.168.50.3/24"
[[links]]
endpoints = ["r1:eth0", "r2:eth0"]
[[links]]
endpoints = ["r2:eth1", "r3:eth0"]
[[links]]
endpoints = ["a1:eth0", "lan"]
[[links]]
endpoints = ["a3:eth0", "lan"]
)";

using test::load;

std::string sub(std::string s, const std::string& from, const std::string& to) {
  size_t p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

// The change plan of host `host`'s part from kLab to `edited`, its journal as deploy planned it.
lab::ChangePlan diff_part(const std::string& edited, int host) {
  lab::HostFacts facts;
  topo::Lab before = host_part(load(kLab), host), after = host_part(load(edited), host);
  return lab::diff_labs(before, lab::plan(before, facts).actions, after, facts);
}

std::vector<std::string> lines(const lab::ChangePlan& p) {
  std::vector<std::string> out;
  for (const auto& s : p.steps) out.push_back(lab::op_name_of(s.forward) + " " + lab::describe_op(s.forward));
  return out;
}

const std::string kR4 = "[nodes.r4]\nhost = \"h3\"\ninterfaces.eth0 = \"10.0.14.4/24\"\n[[links]]\nendpoints = [\"r1:eth1\", \"r4:eth0\"]\n";

TEST(ApplyPart, UnchangedPartsHaveNoStep) {
  for (int h = 0; h < 3; ++h) EXPECT_TRUE(diff_part(kLab, h).steps.empty()) << join(lines(diff_part(kLab, h)), "\n");
}

TEST(ApplyPart, ANewCrossHostLinkIsAVxlanOnEachSideWithAFreshIndex) {
  std::string edited = sub(std::string(kLab) + kR4, "interfaces.eth0 = \"10.0.12.1/24\"",
                           "interfaces = { eth0 = \"10.0.12.1/24\", eth1 = \"10.0.14.1/24\" }");
  auto p = diff_part(edited, 0);  // h1: r1 gets eth1 toward r4 on h3
  auto l = lines(p);
  ASSERT_EQ(l.size(), 2u) << join(l, "\n");
  EXPECT_EQ(l[0].rfind("create_vxlan vxlan r1:eth1 <-> r4:eth0 on h3", 0), 0u) << l[0];
  EXPECT_EQ(l[1], "add_address address 10.0.14.1/24 on r1:eth1");
  // Its index is not r1:eth0's (that VXLAN device stays, with its index).
  topo::Lab before = host_part(load(kLab), 0);
  uint32_t kept = 0;
  for (const auto& a : lab::plan(before, {}).actions)
    if (auto* v = std::get_if<lab::CreateVxlan>(&a); v && v->ns == "r1") kept = v->ifindex;
  auto* made = std::get_if<lab::CreateVxlan>(&std::get<lab::Action>(p.steps[0].forward));
  ASSERT_NE(made, nullptr);
  EXPECT_NE(made->ifindex, kept);
  EXPECT_EQ(made->remote, "192.0.2.13");
  // h3: the new node, with its end of the tunnel; h2 is not touched.
  auto l3 = lines(diff_part(edited, 2));
  EXPECT_NE(std::find_if(l3.begin(), l3.end(), [](const std::string& s) {
              return s.rfind("create_vxlan vxlan r4:eth0 <-> r1:eth1 on h1", 0) == 0;
            }), l3.end()) << join(l3, "\n");
  EXPECT_TRUE(diff_part(edited, 1).steps.empty());
}

TEST(ApplyPart, ARemovedCrossHostLinkDeletesBothEndsWithTheirRevert) {
  std::string edited = sub(sub(sub(kLab, "[[links]]\nendpoints = [\"r2:eth1\", \"r3:eth0\"]\n", ""),
                               "interfaces = { eth0 = \"10.0.12.2/24\", eth1 = \"10.0.23.1/24\" }",
                               "interfaces.eth0 = \"10.0.12.2/24\""),
                           "interfaces.eth0 = \"10.0.23.2/24\"\n", "");
  auto p = diff_part(edited, 1);
  ASSERT_EQ(lines(p), std::vector<std::string>{"del_link link r2:eth1"});
  // The revert makes the device again, then its address.
  ASSERT_EQ(p.steps[0].revert.size(), 2u);
  EXPECT_EQ(lab::op_name_of(p.steps[0].revert[0]), "create_vxlan");
  EXPECT_EQ(lab::describe_op(p.steps[0].revert[1]), "address 10.0.23.1/24 on r2:eth1");
  EXPECT_EQ(lines(diff_part(edited, 2)), std::vector<std::string>{"del_link link r3:eth0"});
  EXPECT_TRUE(diff_part(edited, 0).steps.empty());
}

TEST(ApplyPart, AChangeOfTheHostsABridgeSpansIsRefusedNamingIt) {
  std::string edited = sub(sub(kLab, "[[links]]\nendpoints = [\"a3:eth0\", \"lan\"]\n", ""),
                           "[nodes.a3]\nhost = \"h3\"\ninterfaces.eth0 = \"192.168.50.3/24\"\n", "");
  try {
    diff_part(edited, 0);
    FAIL() << "applied";
  } catch (const lab::ApplyRefused& e) {
    EXPECT_NE(std::string(e.what()).find("bridge lan spans hosts"), std::string::npos) << e.what();
  }
}

TEST(PinHosts, EveryNodeGetsItsHostAndThePlacementFollows) {
  std::string text = kLab;
  for (const char* h : {"h1", "h2", "h3"})
    for (size_t p; (p = text.find(std::string("host = \"") + h + "\"\n")) != std::string::npos;) text.erase(p, 12);
  std::map<std::string, std::string> hosts = {{"r1", "h3"}, {"r2", "h2"}, {"r3", "h1"}, {"a1", "h1"}, {"a3", "h2"}};
  topo::Lab lab = load(topo::pin_hosts(text, "t.toml", hosts));
  Placement p = place(lab);
  for (size_t i = 0; i < lab.nodes.size(); ++i) {
    EXPECT_EQ(lab.nodes[i].host, hosts[lab.nodes[i].name]);
    EXPECT_EQ(lab.hosts[p.node_host[i]].name, hosts[lab.nodes[i].name]);
  }
  EXPECT_EQ(lab.links.size(), 4u);
  EXPECT_THROW(topo::pin_hosts(text, "t.toml", {{"r9", "h1"}}), Error);
}

}  // namespace
}  // namespace netlab::cluster
