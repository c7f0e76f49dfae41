// Issue 17: `netlab apply` on real labs. Each edit is applied to a running lab
// and read back from the kernel (addresses, routes, links and bridge ports,
// qdiscs, nftables rulesets, cgroup memory limits); the result must equal a
// fresh deploy of the edited file. Untouched nodes keep their pids and
// interfaces (and a 10 ms ping through them loses nothing); a failing step,
// injected or refused by the kernel, leaves the lab as it was; a kill -9 at any
// step followed by destroy leaves nothing, and followed by apply converges.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <regex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/lab_fixture.hpp"
#include "util/strings.hpp"

namespace netlab::testing {
namespace {

const char* kBase = R"(name = "@"
[bridges.lan]
[nodes.h1]
interfaces.eth0 = "192.168.50.2/24"
routes = [{ to = "default", via = "192.168.50.1" }]
[nodes.h2]
interfaces.eth0 = "192.168.50.3/24"
routes = [{ to = "default", via = "192.168.50.1" }]
[nodes.gw]
forwarding = true
memory = "64M"
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

std::string sub(std::string s, const std::string& from, const std::string& to) {
  auto p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

std::string named(std::string text, const std::string& lab) { return sub(std::move(text), "name = \"@\"", "name = \"" + lab + "\""); }

// Edits that leave h1 and h2 (and the lan between them) alone.
std::string edit_around_hosts(std::string t) {
  t = sub(t, "nat = [{ masquerade = \"eth1\" }]",
          "nat = [{ masquerade = \"eth1\" }, { dnat = { in = \"eth1\", port = 8080, to = \"192.168.50.2:80\" } }]");
  t = sub(t, "memory = \"64M\"", "memory = \"96M\"");
  t = sub(t, "interfaces = { eth0", "interfaces = { eth2 = \"10.2.0.1/24\", eth0");  // gw's new first interface
  t = sub(t, "interfaces.eth0 = \"203.0.113.254/24\"",
          "interfaces.eth0 = \"203.0.113.254/24\"\nroutes = [{ to = \"192.168.50.0/24\", via = \"203.0.113.1\" }]\n"
          "cmd = \"sleep 100000\"");
  t = sub(t, "endpoints = [\"gw:eth1\", \"isp:eth0\"]", "endpoints = [\"gw:eth1\", \"isp:eth0\"]\nrate = \"50mbit\"");
  t += R"([bridges.lan2]
[nodes.h3]
interfaces.eth0 = "192.168.50.4/24"
routes = [{ to = "default", via = "192.168.50.1" }]
[nodes.h4]
interfaces.eth0 = "10.2.0.2/24"
[[links]]
endpoints = ["h3:eth0", "lan"]
[[links]]
endpoints = ["gw:eth2", "lan2"]
[[links]]
endpoints = ["h4:eth0", "lan2"]
)";
  return t;
}

// Every kind of edit: the above, plus an address, a dropped limit, a removed node, a moved link.
std::string edit_everything(std::string t) {
  t = edit_around_hosts(std::move(t));
  t = sub(t, "192.168.50.2/24", "192.168.50.20/24");
  t = sub(t, "memory = \"96M\"\n", "");  // a dropped limit: gw restarts in a new, unlimited cgroup
  t = sub(t, "[nodes.h2]\ninterfaces.eth0 = \"192.168.50.3/24\"\nroutes = [{ to = \"default\", via = \"192.168.50.1\" }]\n", "");
  t = sub(t, "[[links]]\nendpoints = [\"h2:eth0\", \"lan\"]\n", "");
  t = sub(t, "endpoints = [\"h3:eth0\", \"lan\"]", "endpoints = [\"h3:eth0\", \"lan2\"]");
  t = sub(t, "interfaces.eth0 = \"192.168.50.4/24\"\nroutes = [{ to = \"default\", via = \"192.168.50.1\" }]",
          "interfaces.eth0 = \"10.2.0.3/24\"");
  return t;
}

// A node with a program: exec commands (one leaves a process running outside
// the cmd's process group, one a file in the node's /tmp) and a cmd.
const char* kProgram = R"(name = "@"
[nodes.srv]
interfaces.eth0 = "198.51.100.1/24"
exec = ["touch /tmp/first", "sh -c 'sleep 200001 >/dev/null 2>&1 &'"]
cmd = "sleep 100001"
sysctls = { "net.ipv4.tcp_syncookies" = "0" }
[nodes.cli]
interfaces.eth0 = "198.51.100.2/24"
[[links]]
endpoints = ["srv:eth0", "cli:eth0"]
)";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Host pids of the processes in the PID namespace of `pid1` whose command line is `cmdline`.
std::vector<int> node_processes(int pid1, const std::string& cmdline) {
  std::error_code ec;
  auto ns = std::filesystem::read_symlink("/proc/" + std::to_string(pid1) + "/ns/pid", ec);
  std::vector<int> out;
  if (ec) return out;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code ec2;
    if (std::filesystem::read_symlink(e.path() / "ns/pid", ec2) != ns || ec2) continue;
    std::string line = read_text(e.path() / "cmdline");
    std::replace(line.begin(), line.end(), '\0', ' ');
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (line == cmdline) out.push_back(std::stoi(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

class ApplyTest : public LabTest {
 protected:
  std::string write(const std::string& lab, const std::string& text, const std::string& file) {
    return topology(file, named(text, lab));
  }

  // A node as the kernel reports it, free of names and indexes that differ between labs.
  std::string node_view(const std::string& lab, const std::string& node) {
    std::string ns = lab + "-" + node;
    std::vector<std::string> lines;
    for (const auto& l : ip_json(ns, "addr show")) {
      lines.push_back("link " + l.value("ifname", "") + " " + l.value("operstate", "") + " mtu " +
                      std::to_string(l.value("mtu", 0)));
      for (const auto& a : l["addr_info"])
        if (a.value("scope", "") != "link")
          lines.push_back("addr " + l.value("ifname", "") + " " + a.value("local", "") + "/" +
                          std::to_string(a.value("prefixlen", 0)));
    }
    for (const char* family : {"-4", "-6"})
      for (const auto& r : ip_json(ns, std::string(family) + " route show table main"))
        lines.push_back("route " + r.value("dst", "") + " via " + r.value("gateway", "") + " dev " + r.value("dev", "") +
                        " proto " + r.value("protocol", "") + " metric " + std::to_string(r.value("metric", 0)));
    for (const auto& q : tc_json(ns, "qdisc show"))
      lines.push_back("qdisc " + q.value("dev", "") + " " + q.value("kind", "") + " " + q["options"].dump());
    lines.push_back("nft " + run_shell("ip netns exec " + ns + " nft list ruleset 2>&1"));
    // The memory limit of the group the node's init is in (v1: a node without a
    // limit is in its lab's memory group, not one of its own).
    std::string pid = run_shell("head -n1 /sys/fs/cgroup/pids/" + cgroup_parent_ + "/" + lab + "/" + node +
                                "/cgroup.procs 2>/dev/null || head -n1 /sys/fs/cgroup/" + cgroup_parent_ + "/" + lab +
                                "/" + node + "/cgroup.procs");
    std::string group = run_shell("sed -n 's/^[0-9]*:memory:\\(.*\\)$/\\1/p' /proc/" + std::string(netlab::trim(pid)) + "/cgroup");
    group = std::string(netlab::trim(group));
    std::string mem = "/sys/fs/cgroup/memory" + group + "/memory.limit_in_bytes";
    if (!std::filesystem::exists(mem)) mem = "/sys/fs/cgroup/" + cgroup_parent_ + "/" + lab + "/" + node + "/memory.max";
    bool own = group.size() > node.size() && group.compare(group.size() - node.size() - 1, std::string::npos, "/" + node) == 0;
    lines.push_back("memory " + run_shell("cat " + mem + " 2>&1") + (own ? " own group" : " lab group"));
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }
  std::string fabric_view(const std::string& lab) {
    std::vector<std::string> lines;
    for (const auto& l : ip_json("netlab-" + lab, "link show"))
    {
      // Admin state: a bridge's operstate settles asynchronously after its ports come up.
      bool up = false;
      for (const auto& f : l.value("flags", nlohmann::json::array())) up = up || f == "UP";
      lines.push_back(l.value("ifname", "") + " master " + l.value("master", "") + (up ? " up" : " down"));
    }
    for (const auto& q : tc_json("netlab-" + lab, "qdisc show"))
      lines.push_back("qdisc " + q.value("dev", "") + " " + q.value("kind", "") + " " + q["options"].dump());
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }
  std::string lab_view(const std::string& lab, const std::vector<std::string>& nodes) {
    std::string out = fabric_view(lab);
    for (const auto& n : nodes) out += "== " + n + "\n" + node_view(lab, n);
    return out;
  }

  // pid and interface indexes of a node: what "untouched" means.
  std::string identity(const std::string& lab, const std::string& node) {
    auto info = nlohmann::json::parse(netlab({"inspect", lab, "--json"}).out, nullptr, false);
    std::string out;
    if (!info.is_discarded())
      for (const auto& n : info["nodes"])
        if (n.value("name", "") == node) out += "pid " + std::to_string(n.value("pid", 0));
    for (const auto& l : ip_json(lab + "-" + node, "link show"))
      out += " " + l.value("ifname", "") + "=" + std::to_string(l.value("ifindex", 0));
    return out;
  }
  // Operstate follows carrier through linkwatch, asynchronously (and slowly on a
  // loaded machine): wait until the views agree, then compare for the message.
  void expect_views(const std::function<std::string()>& got, const std::function<std::string()>& want) {
    eventually([&] { return got() == want(); }, 5000);
    EXPECT_EQ(got(), want());
  }
  int init_pid(const std::string& lab, const std::string& node) {
    auto info = nlohmann::json::parse(netlab({"inspect", lab, "--json"}).out, nullptr, false);
    if (!info.is_discarded())
      for (const auto& n : info["nodes"])
        if (n.value("name", "") == node) return n.value("pid", 0);
    return 0;
  }
  std::string in_node(const std::string& lab, const std::string& node, const std::string& command) {
    auto r = netlab({"exec", lab, node, "--", "sh", "-c", command});
    return r.out + (r.exit_code ? " (exit " + std::to_string(r.exit_code) + ")" : "");
  }
  // 1-based index of the first dry-run line that holds `what`.
  size_t plan_step(const std::string& path, const std::string& what) {
    auto plan = run_netlab({"apply", "--dry-run", path}, env());
    std::istringstream in(plan.out);
    size_t i = 0;
    for (std::string line; std::getline(in, line);) {
      ++i;
      if (line.find(what) != std::string::npos) return i;
    }
    ADD_FAILURE() << what << " is not in the plan:\n" << plan.out << plan.err;
    return 0;
  }
  CliResult apply(const std::string& path, const std::vector<std::string>& env_extra = {}) {
    auto e = env();
    e.insert(e.end(), env_extra.begin(), env_extra.end());
    return run_netlab({"apply", path}, e);
  }
};

TEST_F(ApplyTest, EveryKindOfEditMatchesAFreshDeployOfTheEditedFile) {
  std::string a = lab_prefix_ + "a", b = lab_prefix_ + "b";
  deploy_ok(write(a, kBase, a));
  std::string edited = edit_everything(kBase);
  auto r = apply(write(a, edited, a + "-2"));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  deploy_ok(write(b, edited, b));
  std::vector<std::string> nodes = {"h1", "gw", "isp", "h3", "h4"};
  expect_views([&] { return lab_view(a, nodes); }, [&] { return lab_view(b, nodes); });
  EXPECT_FALSE(std::filesystem::exists("/run/netns/" + a + "-h2")) << "removed node h2 is still pinned";
  // And back: the original file, applied, matches the original deploy.
  r = apply(write(a, kBase, a + "-3"));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  destroy_ok(b);
  deploy_ok(write(b, kBase, b + "-3"));
  nodes = {"h1", "h2", "gw", "isp"};
  expect_views([&] { return lab_view(a, nodes); }, [&] { return lab_view(b, nodes); });
  destroy_ok(a);
  destroy_ok(b);
}

TEST_F(ApplyTest, UnchangedFileSendsNoNetlinkRequest) {
  std::string a = lab_prefix_ + "a";
  std::string path = write(a, kBase, a);
  deploy_ok(path);
  std::string before = identity(a, "gw");
  // Every netlink socket netlab would open: none.
  int rc = -1;
  std::string trace = run_shell("NETLAB_CGROUP_PARENT=" + cgroup_parent_ + " strace -f -qq -e trace=socket " +
                                    NETLAB_BINARY + " apply " + path + " 2>&1",
                                &rc);
  EXPECT_EQ(rc, 0) << trace;
  EXPECT_NE(trace.find("nothing to change"), std::string::npos) << trace;
  EXPECT_EQ(trace.find("AF_NETLINK"), std::string::npos) << trace;
  EXPECT_EQ(identity(a, "gw"), before);
  destroy_ok(a);
}

TEST_F(ApplyTest, UntouchedPathKeepsItsProcessesInterfacesAndEveryPacket) {
  std::string a = lab_prefix_ + "a";
  deploy_ok(write(a, kBase, a));
  std::string h1 = identity(a, "h1"), h2 = identity(a, "h2");
  // A 10 ms ping from h1 to h2 across lan, running through the whole apply.
  auto echoes = [&] {  // Icmp OutEchos of h1's namespace
    std::istringstream snmp(run_shell("ip netns exec " + a + "-h1 cat /proc/net/snmp"));
    std::vector<std::vector<std::string>> icmp;
    for (std::string line; std::getline(snmp, line);) {
      if (line.rfind("Icmp: ", 0) != 0) continue;
      std::istringstream in(line);
      icmp.emplace_back(std::istream_iterator<std::string>(in), std::istream_iterator<std::string>());
    }
    if (icmp.size() < 2) return 0;
    for (size_t i = 0; i < icmp[0].size() && i < icmp[1].size(); ++i)
      if (icmp[0][i] == "OutEchos") return std::stoi(icmp[1][i]);
    return 0;
  };
  std::string ping_out;
  std::thread pinger([&] {
    ping_out = run_shell("ip netns exec " + a + "-h1 busybox ping -i 0.01 -c 400 -W 2 192.168.50.3 2>&1");
  });
  ASSERT_TRUE(eventually([&] { return echoes() >= 10; }, 5000));
  auto r = apply(write(a, edit_around_hosts(kBase), a + "-2"));
  int sent_at_end = echoes();
  pinger.join();
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_LT(sent_at_end, 400) << "the ping ended before the apply did";
  EXPECT_NE(ping_out.find("400 packets transmitted, 400 packets received"), std::string::npos) << ping_out;
  EXPECT_EQ(identity(a, "h1"), h1);
  EXPECT_EQ(identity(a, "h2"), h2);
  destroy_ok(a);
}

TEST_F(ApplyTest, AFailingStepInjectedOrRefusedLeavesTheLabAsItWas) {
  std::string a = lab_prefix_ + "a";
  deploy_ok(write(a, kBase, a));
  std::vector<std::string> nodes = {"h1", "h2", "gw", "isp"};
  std::string view = lab_view(a, nodes);
  std::string ids;
  for (const auto& n : {"h1", "h2"}) ids += identity(a, n);
  auto state = snapshot();
  std::string edited = write(a, edit_everything(kBase), a + "-2");
  auto plan = run_netlab({"apply", "--dry-run", edited}, env());
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  size_t steps = static_cast<size_t>(std::count(plan.out.begin(), plan.out.end(), '\n'));
  ASSERT_GT(steps, 30u);
  for (size_t k = 1; k <= steps; k += 3) {
    SCOPED_TRACE("NETLAB_FAIL_AT=" + std::to_string(k));
    auto r = apply(edited, {"NETLAB_FAIL_AT=" + std::to_string(k)});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("injected failure"), std::string::npos) << r.err;
    expect_views([&] { return lab_view(a, nodes); }, [&] { return view; });
    EXPECT_EQ(snapshot(), state) << state.diff(snapshot());
    // h1's address changes and h2 is removed, but neither process was stopped
    // (h2 goes only at the very end: a failure there restarts it).
    if (k < steps - 4) EXPECT_EQ(identity(a, "h1") + identity(a, "h2"), ids);
  }
  ids = identity(a, "h1") + identity(a, "h2");  // the last steps stop h2: a rollback there restarts it
  // The kernel refuses a second route to the same prefix with the same metric
  // (EEXIST); the file is valid.
  auto bad = write(a, sub(edit_everything(kBase), "routes = [{ to = \"192.168.50.0/24\", via = \"203.0.113.1\" }]",
                          "routes = [{ to = \"192.168.50.0/24\", via = \"203.0.113.1\" }, "
                          "{ to = \"192.168.50.0/24\", via = \"203.0.113.2\" }]"),
                   a + "-3");
  auto r = apply(bad);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("route 192.168.50.0/24 in isp via 203.0.113.2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("EEXIST"), std::string::npos) << r.err;
  expect_views([&] { return lab_view(a, nodes); }, [&] { return view; });
  std::string after_ids;
  for (const auto& n : {"h1", "h2"}) after_ids += identity(a, n);
  EXPECT_EQ(after_ids, ids) << "a rollback touched nodes the edit did not";
  // And then the good edit goes through.
  r = apply(edited);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  destroy_ok(a);
}

TEST_F(ApplyTest, KillAtStepsThenDestroyLeavesNothingAndApplyConverges) {
  std::string a = lab_prefix_ + "a", b = lab_prefix_ + "b";
  auto clean = snapshot();
  std::string base = write(a, kBase, a);
  std::string edited = write(a, edit_everything(kBase), a + "-2");
  deploy_ok(base);
  auto plan = run_netlab({"apply", "--dry-run", edited}, env());
  size_t steps = static_cast<size_t>(std::count(plan.out.begin(), plan.out.end(), '\n'));
  destroy_ok(a);
  for (size_t k = 1; k <= steps; k += 4) {
    SCOPED_TRACE("NETLAB_CRASH_AT=" + std::to_string(k));
    deploy_ok(base);
    auto r = apply(edited, {"NETLAB_CRASH_AT=" + std::to_string(k)});
    EXPECT_EQ(r.exit_code, 137) << r.err;
    destroy_ok(a);
    EXPECT_EQ(snapshot(), clean) << clean.diff(snapshot());
  }
  // A kill in the middle, then apply: the lab ends as a fresh deploy of the file.
  deploy_ok(base);
  auto r = apply(edited, {"NETLAB_CRASH_AT=" + std::to_string(steps / 2)});
  EXPECT_EQ(r.exit_code, 137);
  r = apply(edited);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("interrupted apply was rolled back"), std::string::npos) << r.out;
  deploy_ok(write(b, edit_everything(kBase), b));
  std::vector<std::string> nodes = {"h1", "gw", "isp", "h3", "h4"};
  expect_views([&] { return lab_view(a, nodes); }, [&] { return lab_view(b, nodes); });
  destroy_ok(a);
  destroy_ok(b);
  EXPECT_EQ(snapshot(), clean) << clean.diff(snapshot());
}

TEST_F(ApplyTest, DeployOfARunningLabPointsToApply) {
  std::string a = lab_prefix_ + "a";
  std::string path = write(a, kBase, a);
  deploy_ok(path);
  auto r = netlab({"deploy", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("already deployed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("netlab apply"), std::string::npos) << r.err;
  destroy_ok(a);
}

TEST_F(ApplyTest, CmdChangeRestartsTheProgramNotTheInit) {
  std::string a = lab_prefix_ + "a";
  deploy_ok(write(a, kProgram, a));
  int pid1 = init_pid(a, "srv");
  ASSERT_GT(pid1, 0);
  std::string ids = identity(a, "srv") + identity(a, "cli");
  auto old_cmd = node_processes(pid1, "sleep 100001");
  auto background = node_processes(pid1, "sleep 200001");  // an exec command's, outside the cmd's group
  ASSERT_EQ(old_cmd.size(), 1u);
  ASSERT_EQ(background.size(), 1u);
  auto r = apply(write(a, sub(kProgram, "sleep 100001", "sleep 100002"), a + "-2"));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(identity(a, "srv") + identity(a, "cli"), ids) << "PID 1 or an interface changed";
  EXPECT_EQ(::kill(old_cmd[0], 0), -1) << "the old cmd (pid " << old_cmd[0] << ") still runs";
  EXPECT_TRUE(node_processes(pid1, "sleep 100001").empty());
  EXPECT_EQ(node_processes(pid1, "sleep 100002").size(), 1u);
  EXPECT_EQ(node_processes(pid1, "sleep 200001"), background) << "a process outside the cmd's group was stopped";
  EXPECT_NE(netlab({"inspect", a, "--json"}).out.find("\"running\""), std::string::npos);
  EXPECT_TRUE(ping(a + "-cli", "198.51.100.1"));
  // Changed exec commands run again, in the same mount namespace: the first run's file is still there.
  r = apply(write(a, sub(sub(kProgram, "sleep 100001", "sleep 100003"), "\"touch /tmp/first\"", "\"touch /tmp/second\""),
                  a + "-3"));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(init_pid(a, "srv"), pid1);
  EXPECT_EQ(in_node(a, "srv", "ls /tmp/first /tmp/second"), "/tmp/first\n/tmp/second\n");
  EXPECT_TRUE(node_processes(pid1, "sleep 100002").empty());
  EXPECT_EQ(node_processes(pid1, "sleep 100003").size(), 1u);
  destroy_ok(a);
}

TEST_F(ApplyTest, HostnameAndSysctlsChangeInPlaceAsAFreshDeploySetsThem) {
  std::string a = lab_prefix_ + "a", b = lab_prefix_ + "b";
  deploy_ok(write(a, kProgram, a));
  int pid1 = init_pid(a, "srv");
  auto cmd = node_processes(pid1, "sleep 100001");
  const std::string read = "hostname; cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding "
                           "/proc/sys/net/ipv4/tcp_syncookies /proc/sys/kernel/msgmax";
  std::string before = in_node(a, "srv", read);
  std::string edited = sub(kProgram, "cmd = \"sleep 100001\"",
                           "cmd = \"sleep 100001\"\nhostname = \"edge\"\nforwarding = true");
  edited = sub(edited, "sysctls = { \"net.ipv4.tcp_syncookies\" = \"0\" }",
               "sysctls = { \"net.ipv4.tcp_syncookies\" = \"1\", \"kernel.msgmax\" = \"4321\" }");
  std::string path = write(a, edited, a + "-2");
  // A failure at the last of them puts every value the others wrote back, read from the kernel.
  size_t last = plan_step(path, "sysctl net.ipv6.conf.all.forwarding");
  auto r = apply(path, {"NETLAB_FAIL_AT=" + std::to_string(last)});
  EXPECT_EQ(r.exit_code, 2) << r.err << r.out;
  EXPECT_EQ(in_node(a, "srv", read), before);
  r = apply(path);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(init_pid(a, "srv"), pid1);
  EXPECT_EQ(node_processes(pid1, "sleep 100001"), cmd) << "the program was restarted";
  deploy_ok(write(b, edited, b));
  std::string fresh = in_node(b, "srv", read);
  EXPECT_EQ(fresh, "edge\n1\n1\n1\n4321\n");
  EXPECT_EQ(in_node(a, "srv", read), fresh);
  destroy_ok(a);
  destroy_ok(b);
}

TEST_F(ApplyTest, AFailedOrKilledCmdChangeRestoresTheOldProgramAndDestroyLeavesNothing) {
  std::string a = lab_prefix_ + "a";
  auto clean = snapshot();
  std::string base = write(a, kProgram, a);
  // The cmd changes; a node added after it gives the apply steps after the restart.
  std::string text = sub(sub(kProgram, "sleep 100001", "sleep 100002"),
                         "[nodes.cli]\ninterfaces.eth0 = \"198.51.100.2/24\"",
                         "[nodes.cli]\ninterfaces = { eth0 = \"198.51.100.2/24\", eth1 = \"198.51.100.4/24\" }");
  text += "[nodes.extra]\ninterfaces.eth0 = \"198.51.100.3/24\"\n[[links]]\nendpoints = [\"extra:eth0\", \"cli:eth1\"]\n";
  std::string edited = write(a, text, a + "-2");
  deploy_ok(base);
  int pid1 = init_pid(a, "srv");
  size_t restart = plan_step(edited, "restart_program");
  ASSERT_GT(restart, 0u);
  // Injected after the restart ran: the rollback starts the old program again.
  auto r = apply(edited, {"NETLAB_FAIL_AT=" + std::to_string(restart + 1)});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(init_pid(a, "srv"), pid1);
  EXPECT_EQ(node_processes(pid1, "sleep 100001").size(), 1u);
  EXPECT_TRUE(node_processes(pid1, "sleep 100002").empty());
  EXPECT_FALSE(std::filesystem::exists("/run/netns/" + a + "-extra"));
  // Killed right after the restart: destroy leaves nothing; apply converges.
  r = apply(edited, {"NETLAB_CRASH_AT=" + std::to_string(restart + 1)});
  EXPECT_EQ(r.exit_code, 137) << r.err;
  EXPECT_EQ(node_processes(pid1, "sleep 100002").size(), 1u);
  r = apply(edited);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("interrupted apply was rolled back"), std::string::npos) << r.out;
  EXPECT_EQ(init_pid(a, "srv"), pid1);
  EXPECT_EQ(node_processes(pid1, "sleep 100002").size(), 1u);
  EXPECT_TRUE(node_processes(pid1, "sleep 100001").empty());
  destroy_ok(a);
  EXPECT_EQ(snapshot(), clean) << clean.diff(snapshot());
  // kill -9 of netlab while the init stops a cmd that ignores SIGTERM (it
  // waits out the grace), then destroy: nothing remains.
  deploy_ok(write(a, sub(kProgram, "cmd = \"sleep 100001\"", "cmd = \"trap '' TERM; sleep 100001\""), a + "-3"));
  pid1 = init_pid(a, "srv");
  std::string log = "/run/netlab/" + a + "/nodes/srv/log";
  ASSERT_TRUE(std::filesystem::exists(log));
  pid_t netlab_pid = spawn_netlab({"apply", write(a, sub(kProgram, "sleep 100001", "sleep 100002"), a + "-4")}, env());
  ASSERT_GT(netlab_pid, 0);
  EXPECT_TRUE(eventually([&] { return read_text(log).find("restarting the program") != std::string::npos; }, 10000));
  EXPECT_EQ(::kill(netlab_pid, SIGKILL), 0);
  int status = 0;
  ::waitpid(netlab_pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status)) << "apply ended before the kill: the cmd did not wait out its grace";
  EXPECT_FALSE(node_processes(pid1, "sleep 100001").empty()) << "SIGTERM stopped a cmd that ignores it";
  destroy_ok(a);
  EXPECT_EQ(snapshot(), clean) << clean.diff(snapshot());
}

TEST_F(ApplyTest, HostAttachmentAndHostNatChangeInPlaceAsAFreshDeployMakesThem) {
  // This test's netns plays the host: an uplink with a default route (no packet
  // is sent through it), as in NatTest.HostUplinkNatIsAddedAndDestroyRestoresTheHostExactly.
  int rc = -1;
  run_shell("ip link add up0 type veth peer name up1 && ip addr add 192.0.2.1/24 dev up0 && "
            "ip link set up0 up && ip link set up1 up && ip route add default via 192.0.2.2",
            &rc);
  ASSERT_EQ(rc, 0);
  std::string a = lab_prefix_ + "h";
  std::string iface = a + "m";
  std::string base = R"(name = "@"
[bridges.lan]
[nodes.n]
interfaces.eth0 = "10.198.0.2/24"
routes = [{ to = "default", via = "10.198.0.1" }]
[[links]]
endpoints = ["n:eth0", "lan"]
)";
  std::string attached = sub(base, "[bridges.lan]\n", "[bridges.lan]\nhost = { address = \"10.198.0.1/24\", iface = \"" + iface + "\" }\n") +
                         "[host]\nnat = [{ from = \"lan\" }]\n";
  std::string moved = sub(sub(attached, "10.198.0.1/24", "10.198.0.254/24"), "[host]\nnat = [{ from = \"lan\" }]\n", "");
  moved = sub(moved, "via = \"10.198.0.1\"", "via = \"10.198.0.254\"");
  auto host_view = [&] {
    std::string out;
    for (const auto& l : ip_json("", "-d addr show"))
      if (l.value("ifname", "") == iface) {
        out += "link " + iface + " " + l.value("operstate", "") + " alias " + l.value("ifalias", "") + "\n";
        for (const auto& x : l["addr_info"])
          if (x.value("scope", "") != "link")
            out += "addr " + x.value("local", "") + "/" + std::to_string(x.value("prefixlen", 0)) + "\n";
      }
    for (const auto& l : ip_json("netlab-" + a, "link show"))
      if (l.value("ifname", "").rfind("host.", 0) == 0) out += "fabric " + l.value("ifname", "") + " master " + l.value("master", "") + "\n";
    out += "nft " + run_shell("nft list table inet netlab_" + a + " 2>/dev/null");
    out += "ip_forward " + run_shell("cat /proc/sys/net/ipv4/ip_forward");
    return out;
  };
  auto fresh = [&](const std::string& text, const std::string& file) {
    destroy_ok(a);
    deploy_ok(write(a, text, file));
    std::string v = host_view() + node_view(a, "n");
    EXPECT_TRUE(ping(a + "-n", text == base ? "10.198.0.2" : text == moved ? "10.198.0.254" : "10.198.0.1"));
    return v;
  };
  const std::string ruleset = run_shell("nft list ruleset");
  auto clean = snapshot();
  std::string want_attached = fresh(attached, a + "-f1");
  std::string want_moved = fresh(moved, a + "-f2");
  ASSERT_NE(want_attached.find("masquerade"), std::string::npos) << want_attached;
  ASSERT_NE(want_moved.find("10.198.0.254/24"), std::string::npos) << want_moved;
  destroy_ok(a);
  ASSERT_EQ(snapshot(), clean);

  deploy_ok(write(a, base, a));
  std::string plain = host_view() + node_view(a, "n");
  std::string node = identity(a, "n");
  std::string path = write(a, attached, a + "-1");
  // A failure at the last step, and a kill at every step followed by destroy, leave the host as it was.
  size_t steps = plan_step(path, "nftables table inet netlab_" + a + " in host");
  ASSERT_GT(steps, 3u);
  auto r = apply(path, {"NETLAB_FAIL_AT=" + std::to_string(steps)});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(host_view() + node_view(a, "n"), plain);
  for (size_t k = 1; k <= steps; ++k) {
    SCOPED_TRACE("NETLAB_CRASH_AT=" + std::to_string(k));
    r = apply(path, {"NETLAB_CRASH_AT=" + std::to_string(k)});
    EXPECT_EQ(r.exit_code, 137) << r.err;
    destroy_ok(a);
    EXPECT_EQ(snapshot(), clean) << clean.diff(snapshot());
    EXPECT_EQ(run_shell("nft list ruleset"), ruleset);
    EXPECT_EQ(run_shell("cat /proc/sys/net/ipv4/ip_forward"), "0\n");
    deploy_ok(write(a, base, a));
  }
  node = identity(a, "n");
  // Attached, moved to another address without NAT, detached: each as a fresh deploy makes it.
  r = apply(path);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  expect_views([&] { return host_view() + node_view(a, "n"); }, [&] { return want_attached; });
  EXPECT_TRUE(ping(a + "-n", "10.198.0.1"));
  EXPECT_EQ(identity(a, "n").substr(0, identity(a, "n").find(' ')), node.substr(0, node.find(' ')))
      << "the node was restarted";
  r = apply(write(a, moved, a + "-2"));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  expect_views([&] { return host_view() + node_view(a, "n"); }, [&] { return want_moved; });
  EXPECT_TRUE(ping(a + "-n", "10.198.0.254"));
  r = apply(write(a, base, a + "-3"));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  expect_views([&] { return host_view() + node_view(a, "n"); }, [&] { return plain; });
  EXPECT_EQ(run_shell("nft list ruleset"), ruleset);
  destroy_ok(a);
  EXPECT_EQ(snapshot(), clean) << clean.diff(snapshot());
  run_shell("ip link del up0");
}

TEST_F(ApplyTest, TheInitsControlSocketIsOutOfTheNodesReach) {
  std::string a = lab_prefix_ + "a";
  deploy_ok(write(a, kProgram, a));
  int pid1 = init_pid(a, "srv");
  ASSERT_GT(pid1, 0);
  // The socket exists on the host, root's alone ...
  struct stat st{};
  ASSERT_EQ(::stat(("/run/netlab/" + a + "/nodes/srv/control").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // ... and root in the node finds no socket file in its tree, and cannot
  // reach its init's descriptors through /proc/1/fd.
  EXPECT_EQ(in_node(a, "srv", "find / -xdev -type s 2>/dev/null; find /tmp /run /dev -type s 2>/dev/null"), "");
  std::string fds = in_node(a, "srv", "ls /proc/1/fd 2>&1");
  EXPECT_NE(fds.find("(exit"), std::string::npos) << fds;
  EXPECT_NE(in_node(a, "srv", "cat /proc/1/net/unix").find("/control"), std::string::npos)
      << "the socket is listed in the node's network namespace; listing is not reaching it";
  destroy_ok(a);
}

TEST_F(ApplyTest, ACmdThatEndedIsReplacedAndShowsRunningAgain) {
  std::string a = lab_prefix_ + "a";
  deploy_ok(write(a, sub(kProgram, "cmd = \"sleep 100001\"", "cmd = \"exit 3\""), a));
  int pid1 = init_pid(a, "srv");
  auto cmd_state = [&] {
    auto info = nlohmann::json::parse(netlab({"inspect", a, "--json"}).out, nullptr, false);
    if (!info.is_discarded())
      for (const auto& n : info["nodes"])
        if (n.value("name", "") == "srv") return n.contains("cmd") ? n["cmd"].dump() : n.dump();
    return std::string("?");
  };
  ASSERT_TRUE(eventually([&] { return cmd_state().find("exited") != std::string::npos; }, 5000)) << cmd_state();
  auto r = apply(write(a, kProgram, a + "-2"));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(init_pid(a, "srv"), pid1);
  EXPECT_EQ(node_processes(pid1, "sleep 100001").size(), 1u);
  EXPECT_NE(cmd_state().find("running"), std::string::npos) << cmd_state();
  EXPECT_EQ(cmd_state().find("exited"), std::string::npos) << cmd_state();
  destroy_ok(a);
}

// A node's copy-on-write layers are mounted `volatile` (their unmount does not
// sync the state directory's filesystem; see docs/performance.md). That leaves a marker overlayfs refuses on a later mount of the same
// work directory: a node restarted by apply mounts them again, its files kept.
TEST_F(ApplyTest, ARestartedNodeRemountsItsVolatileLayersWithItsFiles) {
  const char* text = R"(name = "@"
[nodes.b]
memory = "64M"
[nodes.h]
image = "host"
memory = "64M"
)";
  // The node's overlay mounts, each with whether it is volatile.
  auto layers = [](int pid) {
    std::istringstream lines(read_text("/proc/" + std::to_string(pid) + "/mountinfo"));
    std::map<std::string, bool> out;
    for (std::string line; std::getline(lines, line);) {
      auto f = split(line, ' ');
      auto dash = std::find(f.begin(), f.end(), "-");
      if (f.size() > 4 && std::distance(dash, f.end()) >= 4 && dash[1] == "overlay")
        out[f[4]] = dash[3].find("volatile") != std::string::npos;
    }
    return out;
  };
  const std::map<std::string, std::map<std::string, bool>> want = {
      {"b", {{"/", true}}}, {"h", {{"/etc", true}, {"/var", true}}}};
  std::string a = lab_prefix_ + "a";
  deploy_ok(write(a, text, a));
  std::map<std::string, int> pid1;
  for (const auto& [node, mounts] : want) {
    pid1[node] = init_pid(a, node);
    ASSERT_GT(pid1[node], 0);
    EXPECT_EQ(layers(pid1[node]), mounts) << node;
  }
  EXPECT_EQ(in_node(a, "b", "echo b > /kept && echo ok"), "ok\n");
  EXPECT_EQ(in_node(a, "h", "echo e > /etc/kept && echo v > /var/kept && echo ok"), "ok\n");

  // Dropped limits restart both.
  auto r = apply(write(a, sub(sub(text, "memory = \"64M\"\n", ""), "memory = \"64M\"\n", ""), a + "-2"));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  for (const auto& [node, mounts] : want) {
    int pid2 = init_pid(a, node);
    ASSERT_GT(pid2, 0);
    EXPECT_NE(pid2, pid1[node]) << node << " was not restarted";
    EXPECT_EQ(layers(pid2), mounts) << node;
  }
  EXPECT_EQ(in_node(a, "b", "cat /kept"), "b\n");
  EXPECT_EQ(in_node(a, "h", "cat /etc/kept /var/kept"), "e\nv\n");
  destroy_ok(a);
}

}  // namespace
}  // namespace netlab::testing
