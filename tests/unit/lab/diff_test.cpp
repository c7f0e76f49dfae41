// apply's change plan (diff.cpp) and its transaction (apply_lab.cpp) against a
// recording backend: what each kind of edit touches (and that nothing else is),
// that an unchanged file does nothing, that a failure at every step runs exactly
// the reverts of the steps before it (latest first), and that an apply killed
// at every step is rolled back by the next apply and destroyed by destroy.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "lab/apply_lab.hpp"
#include "lab/journal.hpp"
#include "topology/parse.hpp"
#include "util/strings.hpp"

namespace netlab::lab {
namespace {

// Records every op as "op_name describe" in one sequence; fails or "crashes" on cue.
class Recorder : public Backend {
 public:
  struct Crash {};
  std::vector<std::string> log;
  std::optional<size_t> crash_at;  // 1-based count of ops: this one escapes like a kill -9
  size_t count = 0;

  void prepare(Action&) override {}
  void run(std::span<Action> batch) override {
    for (auto& a : batch) {
      tick();
      if (auto* s = std::get_if<StartNode>(&a)) {
        s->pid = 1000 + static_cast<int>(count);
        s->start_time = 42;
      }
      log.push_back(op_name(a) + " " + describe(a));
    }
  }
  void undo(const Undo& u) override {
    tick();
    log.push_back(op_name_of(Op(u)) + " " + describe(u));
  }
  void change(const Change& c) override {
    tick();
    log.push_back(op_name(c) + " " + describe(c));
  }
  std::string node_sysctl(const SetNodeSysctl& s) override {
    log.push_back("read_sysctl " + s.key + " in " + s.node);
    return "7";
  }

 private:
  void tick() {
    ++count;
    if (crash_at && count == *crash_at) throw Crash{};
  }
};

class Forward : public Backend {
 public:
  explicit Forward(Recorder& r) : r_(r) {}
  void prepare(Action& a) override { r_.prepare(a); }
  void run(std::span<Action> b) override { r_.run(b); }
  void undo(const Undo& u) override { r_.undo(u); }
  void change(const Change& c) override { r_.change(c); }
  std::string node_sysctl(const SetNodeSysctl& s) override { return r_.node_sysctl(s); }

 private:
  Recorder& r_;
};

const char* kBase = R"(name = "dt"
[bridges.lan]
[nodes.h1]
interfaces.eth0 = "192.168.50.2/24"
routes = [{ to = "default", via = "192.168.50.1" }]
[nodes.h2]
interfaces.eth0 = "192.168.50.3/24"
routes = [{ to = "default", via = "192.168.50.1" }]
[nodes.gw]
forwarding = true
interfaces = { eth0 = "192.168.50.1/24", eth1 = "203.0.113.1/24" }
nat = [{ masquerade = "eth1" }]
[nodes.isp]
interfaces.eth0 = "203.0.113.254/24"
[[links]]
endpoints = ["h1:eth0", "lan"]
[[links]]
endpoints = ["h2:eth0", "lan"]
[[links]]
endpoints = ["gw:eth0", "lan"]
[[links]]
endpoints = ["gw:eth1", "isp:eth0"]
)";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  auto p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

class ApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // tmpfs when there is one: every step syncs its journal and apply log.
    std::filesystem::path tmp =
        std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path();
    dir_ = tmp /
           ("netlab-apply-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    facts_.state_dir = dir_ + "/state";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  topo::Lab load(const std::string& text) {
    std::string path = dir_ + "/topo" + std::to_string(files_++) + ".toml";
    write_file(path, text);
    Diagnostics diags;
    auto lab = topo::load_file(path, diags);
    EXPECT_TRUE(lab) << diags.render();
    return lab ? *lab : topo::Lab{};
  }
  BackendFactory factory() {
    return [this](const topo::Lab*) { return std::make_unique<Forward>(rec_); };
  }
  void deploy(const std::string& text) {
    deploy_lab(load(text), facts_, factory());
    rec_.log.clear();
    rec_.count = 0;
  }
  // A rollback restarts a node it had stopped: pids are left out of comparisons.
  static std::string line(const Op& op) {
    static const std::regex pid(" \\(pid [0-9]+\\)");
    return std::regex_replace(op_name_of(op) + " " + describe_op(op), pid, "");
  }
  static std::vector<std::string> lines(const ChangePlan& p) {
    std::vector<std::string> out;
    for (const auto& s : p.steps) out.push_back(line(s.forward));
    return out;
  }
  static std::vector<std::string> unpid(std::vector<std::string> v) {
    static const std::regex pid(" \\(pid [0-9]+\\)");
    for (auto& s : v) s = std::regex_replace(s, pid, "");
    return v;
  }
  static bool mentions(const std::vector<std::string>& lines, const std::string& what) {
    for (const auto& l : lines)
      if (l.find(what) != std::string::npos) return true;
    return false;
  }

  std::string dir_;
  int files_ = 0;
  HostFacts facts_;
  Recorder rec_;
};

TEST_F(ApplyTest, UnchangedFileHasNoStepAndTouchesNothing) {
  deploy(kBase);
  auto r = apply_lab(load(kBase), facts_, factory());
  EXPECT_TRUE(r.plan.steps.empty());
  EXPECT_TRUE(rec_.log.empty());
  // Comments and checks have no runtime effect either.
  r = apply_lab(load(std::string(kBase) + "# a comment\n[[checks]]\nkind = \"ping\"\nfrom = \"h1\"\nto = \"h2\"\n"),
                facts_, factory());
  EXPECT_TRUE(r.plan.steps.empty());
  EXPECT_TRUE(rec_.log.empty());
}

TEST_F(ApplyTest, AddressChangeTouchesThatNodeOnly) {
  deploy(kBase);
  auto p = lines(plan_apply(load(replace(kBase, "192.168.50.2/24", "192.168.50.20/24")), facts_));
  EXPECT_TRUE(mentions(p, "del_address address 192.168.50.2/24 on h1:eth0"));
  EXPECT_TRUE(mentions(p, "add_address address 192.168.50.20/24 on h1:eth0"));
  EXPECT_TRUE(mentions(p, "add_route route 0.0.0.0/0 in h1 via 192.168.50.1"));
  for (const char* other : {"h2", "gw", "isp", "veth", "link", "node "}) EXPECT_FALSE(mentions(p, other)) << other;
}

TEST_F(ApplyTest, AddedNodeGetsEverythingAndNothingElseIsTouched) {
  deploy(kBase);
  auto p = lines(plan_apply(load(std::string(kBase) + R"([nodes.h3]
interfaces.eth0 = "192.168.50.4/24"
[[links]]
endpoints = ["h3:eth0", "lan"]
)"),
                            facts_));
  std::vector<std::string> want = {"create_node_netns netns of node h3",
                                   "create_veth veth h3:eth0 <-> lan",
                                   "set_link link h3:lo up",
                                   "set_link link h3_eth0 up in bridge lan",
                                   "add_address address 192.168.50.4/24 on h3:eth0",
                                   "create_cgroup cgroup netlab/dt/h3",
                                   "prepare_rootfs rootfs of node h3",
                                   "start_node node h3",
                                   "pin_node_netns netns pin"};
  ASSERT_EQ(p.size(), want.size()) << join(p, "\n");
  for (size_t i = 0; i < p.size(); ++i) EXPECT_EQ(p[i].rfind(want[i], 0), 0u) << p[i];
}

TEST_F(ApplyTest, NewInterfacesTakeFreshIndexesAndKeptOnesKeepTheirs) {
  deploy(kBase);
  // gw gets an interface before its others: a fresh deploy would number them anew.
  std::string text = replace(kBase, "interfaces = { eth0", "interfaces = { eth9 = \"10.9.0.1/24\", eth0");
  text += "[nodes.r9]\ninterfaces.eth0 = \"10.9.0.2/24\"\n[[links]]\nendpoints = [\"gw:eth9\", \"r9:eth0\"]\n";
  auto cp = plan_apply(load(text), facts_);
  bool saw = false;
  for (const auto& s : cp.steps) {
    if (auto* a = std::get_if<Action>(&s.forward)) {
      if (auto* v = std::get_if<CreateVeth>(a)) {
        saw = true;
        EXPECT_EQ(v->a_ns, "gw");
        EXPECT_EQ(v->a_ifindex, 102u) << "gw had 100 and 101";
        EXPECT_EQ(v->b_ifindex, 100u) << "r9 is a fresh namespace";
      }
      if (auto* ad = std::get_if<AddAddress>(a); ad && ad->ns == "gw") {
        EXPECT_EQ(ad->ifname, "eth9");
        EXPECT_EQ(ad->ifindex, 102u);
      }
    }
  }
  EXPECT_TRUE(saw);
}

TEST_F(ApplyTest, MovedLinkIsDeletedAndMadeAgainWithItsAddressesAndRoutes) {
  deploy(kBase);
  std::string text = replace(kBase, "[bridges.lan]", "[bridges.lan]\n[bridges.lan2]");
  text = replace(text, "endpoints = [\"h2:eth0\", \"lan\"]", "endpoints = [\"h2:eth0\", \"lan2\"]");
  auto p = lines(plan_apply(load(text), facts_));
  EXPECT_TRUE(mentions(p, "del_link link h2:eth0"));
  EXPECT_TRUE(mentions(p, "create_bridge bridge lan2"));
  EXPECT_TRUE(mentions(p, "create_veth veth h2:eth0 <-> lan2"));
  EXPECT_TRUE(mentions(p, "set_link link h2_eth0 up in bridge lan2"));
  EXPECT_TRUE(mentions(p, "add_address address 192.168.50.3/24 on h2:eth0"));
  EXPECT_TRUE(mentions(p, "add_route route 0.0.0.0/0 in h2 via 192.168.50.1"));
  for (const char* other : {"h1", "gw", "isp"}) EXPECT_FALSE(mentions(p, other)) << other;
}

TEST_F(ApplyTest, RemovedNodeIsTornDownAndItsLinkDeleted) {
  deploy(kBase);
  std::string text = replace(kBase, "[nodes.h2]\ninterfaces.eth0 = \"192.168.50.3/24\"\nroutes = [{ to = \"default\", via = \"192.168.50.1\" }]\n", "");
  text = replace(text, "[[links]]\nendpoints = [\"h2:eth0\", \"lan\"]\n", "");
  auto p = lines(plan_apply(load(text), facts_));
  EXPECT_TRUE(mentions(p, "del_link link h2:eth0"));
  EXPECT_TRUE(mentions(p, "kill_node node h2"));
  EXPECT_TRUE(mentions(p, "unpin"));
  EXPECT_TRUE(mentions(p, "remove_cgroup cgroup netlab/dt/h2"));
  EXPECT_TRUE(mentions(p, "remove_dir"));
  for (const char* other : {"h1", "gw", "isp"}) EXPECT_FALSE(mentions(p, other)) << other;
}

TEST_F(ApplyTest, NatChangeReplacesThatTableOnly) {
  deploy(kBase);
  auto p = lines(plan_apply(load(replace(kBase, "nat = [{ masquerade = \"eth1\" }]",
                                         "nat = [{ masquerade = \"eth1\" }, { dnat = { in = \"eth1\", port = 80, to = \"192.168.50.2\" } }]")),
                            facts_));
  ASSERT_EQ(p.size(), 1u) << join(p, "\n");
  EXPECT_EQ(p[0], "apply_nft nftables table inet netlab in gw");
}

TEST_F(ApplyTest, CommandChangeRestartsThatNodesProgramOnly) {
  deploy(kBase);
  auto cp = plan_apply(load(replace(kBase, "interfaces.eth0 = \"203.0.113.254/24\"",
                                    "interfaces.eth0 = \"203.0.113.254/24\"\ncmd = \"sleep 1000\"\n"
                                    "exec = [\"touch /tmp/x\"]\nenv = { A = \"1\" }")),
                       facts_);
  auto p = lines(cp);
  ASSERT_EQ(p.size(), 1u) << join(p, "\n");
  EXPECT_EQ(p[0], "restart_program program of node isp (exec, cmd)");
  // Its revert is the same op, run with the running lab's settings (the old program).
  ASSERT_EQ(cp.steps[0].revert.size(), 1u);
  EXPECT_EQ(line(cp.steps[0].revert[0]), "restart_program program of node isp (exec, cmd)");
}

TEST_F(ApplyTest, ImageOrBindsChangeRestartsThatNodesInitInItsNamespace) {
  deploy(kBase);
  auto p = lines(plan_apply(load(replace(kBase, "[nodes.isp]\n", "[nodes.isp]\nimage = \"host\"\n")), facts_));
  std::vector<std::string> want = {"kill_node node isp", "remove_cgroup cgroup netlab/dt/isp", "remove_dir directory",
                                   "create_cgroup cgroup netlab/dt/isp", "prepare_rootfs rootfs of node isp",
                                   "start_node node isp"};
  ASSERT_EQ(p.size(), want.size()) << join(p, "\n");
  for (size_t i = 0; i < p.size(); ++i) EXPECT_EQ(p[i].rfind(want[i], 0), 0u) << p[i];
}

TEST_F(ApplyTest, HostnameAndSysctlsChangeInPlaceWithTheirOldValuesAsReverts) {
  deploy(replace(kBase, "[nodes.isp]\n", "[nodes.isp]\nsysctls = { \"net.ipv4.tcp_syncookies\" = \"0\" }\n"));
  auto target = load(replace(kBase, "[nodes.isp]\n",
                             "[nodes.isp]\nhostname = \"internet\"\nforwarding = true\n"
                             "sysctls = { \"net.ipv4.tcp_syncookies\" = \"1\" }\n"));
  auto cp = plan_apply(target, facts_);
  auto p = lines(cp);
  std::vector<std::string> want = {"set_hostname hostname of isp: internet",
                                   "set_sysctl sysctl net.ipv4.ip_forward = 1 in isp",
                                   "set_sysctl sysctl net.ipv4.tcp_syncookies = 1 in isp",
                                   "set_sysctl sysctl net.ipv6.conf.all.forwarding = 1 in isp"};
  EXPECT_EQ(p, want);
  ASSERT_EQ(cp.steps.size(), 4u);
  EXPECT_EQ(line(cp.steps[0].revert.at(0)), "set_hostname hostname of isp: isp");
  EXPECT_TRUE(cp.steps[1].revert.empty());  // never set: read when the step runs
  EXPECT_EQ(line(cp.steps[2].revert.at(0)), "set_sysctl sysctl net.ipv4.tcp_syncookies = 0 in isp");
  // As apply.log holds them.
  for (const auto& st : cp.steps)
    for (const Op& op : std::vector<Op>{st.forward, Op(Action(RestartProgram{"isp"}))})
      EXPECT_EQ(op_to_json(op_from_json(op_to_json(op))).dump(), op_to_json(op).dump());
  // A failure after them: each comes back, a key the node never set to the value it had.
  ApplyOptions o;
  o.fail_at = 4;
  EXPECT_THROW(apply_lab(target, facts_, factory(), o), DeployError);
  std::vector<std::string> ran = {"set_hostname hostname of isp: internet",
                                  "read_sysctl net.ipv4.ip_forward in isp",
                                  "set_sysctl sysctl net.ipv4.ip_forward = 1 in isp",
                                  "set_sysctl sysctl net.ipv4.tcp_syncookies = 1 in isp",
                                  "read_sysctl net.ipv6.conf.all.forwarding in isp",
                                  "set_sysctl sysctl net.ipv6.conf.all.forwarding = 7 in isp",
                                  "set_sysctl sysctl net.ipv4.tcp_syncookies = 0 in isp",
                                  "set_sysctl sysctl net.ipv4.ip_forward = 7 in isp",
                                  "set_hostname hostname of isp: isp"};
  EXPECT_EQ(rec_.log, ran);
  // Turning a setting off cannot be undone in place: the node is made again.
  EXPECT_TRUE(mentions(lines(plan_apply(load(kBase), facts_)), "create_node_netns netns of node isp"));
}

TEST_F(ApplyTest, LimitsChangeRewritesTheCgroupOnly) {
  deploy(replace(kBase, "forwarding = true", "forwarding = true\nmemory = \"32M\""));
  auto p = lines(plan_apply(
      load(replace(kBase, "forwarding = true", "forwarding = true\nmemory = \"48M\"\npids = 64")), facts_));
  ASSERT_EQ(p.size(), 1u) << join(p, "\n");
  EXPECT_EQ(p[0], "create_cgroup cgroup netlab/dt/gw");
}

TEST_F(ApplyTest, AFirstMemoryLimitRestartsTheNodeInANewCgroup) {
  // Without a limit the node's memory is charged to its lab's memory cgroup:
  // moving its processes would leave what they hold there, unlimited.
  deploy(kBase);
  auto p = lines(plan_apply(load(replace(kBase, "forwarding = true", "forwarding = true\nmemory = \"32M\"")), facts_));
  EXPECT_TRUE(mentions(p, "kill_node node gw"));
  EXPECT_TRUE(mentions(p, "remove_cgroup cgroup netlab/dt/gw"));
  EXPECT_TRUE(mentions(p, "start_node node gw"));
  EXPECT_FALSE(mentions(p, "link")) << join(p, "\n");
}

TEST_F(ApplyTest, ADroppedLimitRestartsTheNodeInANewCgroup) {
  deploy(replace(kBase, "forwarding = true", "forwarding = true\nmemory = \"32M\""));
  auto p = lines(plan_apply(load(kBase), facts_));
  EXPECT_TRUE(mentions(p, "kill_node node gw"));
  EXPECT_TRUE(mentions(p, "remove_cgroup cgroup netlab/dt/gw"));
  EXPECT_TRUE(mentions(p, "start_node node gw"));
  EXPECT_FALSE(mentions(p, "link")) << join(p, "\n");
}

TEST_F(ApplyTest, ForwardingTurnedOffRecreatesTheNode) {
  deploy(kBase);
  auto p = lines(plan_apply(load(replace(kBase, "forwarding = true", "")), facts_));
  EXPECT_TRUE(mentions(p, "create_node_netns netns of node gw"));
  EXPECT_TRUE(mentions(p, "create_veth veth gw:eth1 <-> isp:eth0"));
  EXPECT_TRUE(mentions(p, "create_veth veth gw:eth0 <-> lan"));
}

TEST_F(ApplyTest, PrivilegedChangeRecreatesTheNodeAndReconnectsItsLinks) {
  deploy(kBase);
  auto p = lines(plan_apply(load(replace(kBase, "[nodes.isp]\n", "[nodes.isp]\nprivileged = true\n")), facts_));
  EXPECT_TRUE(mentions(p, "del_link link gw:eth1"));
  EXPECT_TRUE(mentions(p, "kill_node node isp"));
  EXPECT_TRUE(mentions(p, "create_node_netns netns of node isp"));
  EXPECT_TRUE(mentions(p, "create_veth veth gw:eth1 <-> isp:eth0"));
  EXPECT_TRUE(mentions(p, "add_address address 203.0.113.1/24 on gw:eth1"));  // the far end died with the pair
  EXPECT_TRUE(mentions(p, "add_address address 203.0.113.254/24 on isp:eth0"));
  for (const char* other : {" h1", " h2", "gw:eth0", "lan"}) EXPECT_FALSE(mentions(p, other)) << other << "\n" << join(p, "\n");
}

TEST_F(ApplyTest, HostAttachmentAndHostNatAreMadeAndRemovedInPlace) {
  deploy(kBase);
  std::string attached = replace(kBase, "[bridges.lan]", "[bridges.lan]\nhost = { address = \"10.9.0.1/24\", iface = \"nlt0\" }") +
                         "[host]\nnat = [{ from = \"lan\" }]\n";
  auto cp = plan_apply(load(attached), facts_);
  std::vector<std::string> want = {"create_veth veth lan <-> host:nlt0", "set_link link host.0 up in bridge lan",
                                   "set_link link host:nlt0 up", "add_address address 10.9.0.1/24 on host:nlt0",
                                   "set_host_sysctl host sysctl net.ipv4.ip_forward = 1",
                                   "apply_nft nftables table inet netlab_dt in host"};
  EXPECT_EQ(lines(cp), want);
  // The host end's revert is known once prepare() picked its index; the table's is its deletion.
  EXPECT_TRUE(cp.steps[0].revert.empty());
  EXPECT_EQ(line(cp.steps[5].revert.at(0)), "delete_nft nftables table inet netlab_dt in host");
  apply_lab(load(attached), facts_, factory());
  EXPECT_TRUE(plan_apply(load(attached), facts_).steps.empty());
  // Another address: the attachment is made again; no NAT: the table goes.
  auto p = lines(plan_apply(load(replace(replace(attached, "10.9.0.1/24", "10.9.0.2/24"), "[host]\nnat = [{ from = \"lan\" }]\n", "")),
                            facts_));
  EXPECT_EQ(p.front(), "delete_host_link link host:nlt0") << join(p, "\n");
  EXPECT_TRUE(mentions(p, "create_veth veth lan <-> host:nlt0"));
  EXPECT_TRUE(mentions(p, "add_address address 10.9.0.2/24 on host:nlt0"));
  EXPECT_TRUE(mentions(p, "delete_nft nftables table inet netlab_dt in host"));
  for (const char* other : {" h1", " h2", "gw", "isp", "h1_eth0"}) EXPECT_FALSE(mentions(p, other)) << other << "\n" << join(p, "\n");
}

std::string big_change() {
  std::string text = replace(kBase, "192.168.50.2/24", "192.168.50.20/24");  // address
  text = replace(text, "nat = [{ masquerade = \"eth1\" }]", "");             // NAT removed
  text = replace(text, "[nodes.isp]\n", "[nodes.isp]\ncmd = \"sleep 1000\"\n");  // restart
  text = replace(text, "[nodes.h2]\n", "[nodes.h2]\nprivileged = true\n");      // recreate
  text += "[nodes.h3]\ninterfaces.eth0 = \"192.168.50.4/24\"\n[[links]]\nendpoints = [\"h3:eth0\", \"lan\"]\n";
  return text;
}

TEST_F(ApplyTest, FailureAtEveryStepRunsExactlyTheRevertsOfTheStepsBefore) {
  deploy(kBase);
  auto target = load(big_change());
  const ChangePlan cp = plan_apply(target, facts_);
  ASSERT_GT(cp.steps.size(), 20u);
  for (size_t k = 1; k <= cp.steps.size(); ++k) {
    SCOPED_TRACE("fail at step " + std::to_string(k));
    rec_.log.clear();
    ApplyOptions o;
    o.fail_at = k;
    EXPECT_THROW(apply_lab(target, facts_, factory(), o), DeployError);
    std::vector<std::string> want;
    for (size_t i = 0; i + 1 < k; ++i) want.push_back(line(cp.steps[i].forward));
    for (size_t j = k; j-- > 0;)
      for (const auto& op : cp.steps[j].revert) want.push_back(line(op));
    EXPECT_EQ(unpid(rec_.log), want);
    EXPECT_FALSE(std::filesystem::exists(apply_log_path(facts_, "dt")));
    // The lab is as before: the same change plan again.
    EXPECT_EQ(lines(plan_apply(target, facts_)), lines(cp));
  }
  rec_.log.clear();
  auto r = apply_lab(target, facts_, factory());
  EXPECT_EQ(r.plan.steps.size(), cp.steps.size());
  EXPECT_TRUE(plan_apply(target, facts_).steps.empty());
}

TEST_F(ApplyTest, KillAtEveryStepIsRolledBackByTheNextApplyAndDestroyedByDestroy) {
  deploy(kBase);
  auto target = load(big_change());
  const ChangePlan cp = plan_apply(target, facts_);
  for (size_t k = 1; k <= cp.steps.size(); ++k) {
    SCOPED_TRACE("crash at op " + std::to_string(k));
    rec_.log.clear();
    rec_.count = 0;
    rec_.crash_at = k;
    EXPECT_THROW(apply_lab(target, facts_, factory()), Recorder::Crash);
    rec_.crash_at.reset();
    ASSERT_TRUE(std::filesystem::exists(apply_log_path(facts_, "dt")));
    // The next apply rolls the interrupted one back first, then applies in full.
    rec_.log.clear();
    auto r = apply_lab(target, facts_, factory());
    EXPECT_TRUE(r.recovered);
    EXPECT_FALSE(std::filesystem::exists(apply_log_path(facts_, "dt")));
    EXPECT_TRUE(plan_apply(target, facts_).steps.empty());
    // destroy needs the journal only, and every node ever started is in it.
    auto journal = load_journal(journal_path(facts_, "dt")).actions;
    std::set<std::string> started;
    for (const auto& a : journal)
      if (auto* s = std::get_if<StartNode>(&a)) started.insert(s->node);
    EXPECT_EQ(started, (std::set<std::string>{"h1", "h2", "gw", "isp", "h3"}));
    auto d = destroy_lab("dt", facts_, factory());
    EXPECT_TRUE(d.report.ok());
    EXPECT_FALSE(std::filesystem::exists(lab_dir(facts_, "dt")));
    deploy(kBase);
  }
}

}  // namespace
}  // namespace netlab::lab
