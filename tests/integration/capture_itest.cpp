// netlab capture and inspect --stats against real labs: what the files hold is
// read back with libpcap (and once with tcpdump), packet by packet, and the
// counters are compared with what the test itself sent.
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "support/lab_fixture.hpp"
#include "support/pcap_read.hpp"

namespace netlab::testing {
namespace {

const char* kPairOnBridge = R"(
[bridges.lan]
[nodes.h1]
interfaces.eth0 = "10.0.0.1/24"
[nodes.h2]
interfaces.eth0 = "10.0.0.2/24"
[[links]]
endpoints = ["h1:eth0", "lan"]
[[links]]
endpoints = ["h2:eth0", "lan"]
)";

class CaptureTest : public LabTest {
 protected:
  // Two IPv4-only nodes on a bridge (no IPv6: no router solicitations or MLD
  // reports in the captures), deployed, with the neighbours already resolved.
  std::string pair_lab() {
    std::string lab = lab_prefix_ + "c";
    deploy_ok(topology(lab, "name = \"" + lab + "\"\n" + kPairOnBridge));
    EXPECT_TRUE(ping(lab + "-h1", "10.0.0.2"));
    return lab;
  }
  std::vector<std::string> exec_in(const std::string& lab, const std::string& node, const std::string& shell) {
    return {NETLAB_BINARY, "exec", lab, node, "--", "sh", "-c", shell};
  }
  std::vector<std::string> capture(std::vector<std::string> args, const std::vector<std::string>& command) {
    args.insert(args.begin(), "capture");
    args.push_back("--");
    args.insert(args.end(), command.begin(), command.end());
    return args;
  }
};

// A socket made by a thread that entered the node's namespace: it stays bound there.
int socket_in(const std::string& netns, int type) {
  int fd = -1;
  std::thread t([&] {
    int ns = open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns >= 0 && setns(ns, CLONE_NEWNET) == 0) fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (ns >= 0) close(ns);
  });
  t.join();
  return fd;
}

TEST_F(CaptureTest, CountOfThreeHoldsExactlyTheEchoRequestsAndReplies) {
  std::string lab = pair_lab();
  std::string file = files_dir_ + "/three.pcap";
  // "icmp": a fresh interface also sends its IGMP reports now and then.
  auto r = netlab(capture({lab, "h1:eth0", "-c", "3", "-f", "icmp", "-w", file}, exec_in(lab, "h1", "ping -c 3 10.0.0.2")));
  ASSERT_EQ(r.exit_code, 0) << r.err;  // the command's exit code: all three pings answered
  EXPECT_NE(r.err.find("h1:eth0: 3 packets captured"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("0 dropped by the kernel"), std::string::npos) << r.err;
  auto packets = read_with_libpcap(file);
  ASSERT_TRUE(packets);
  ASSERT_EQ(packets->size(), 3u);
  std::vector<int> types, seqs;
  std::set<int> ids;
  for (const auto& p : *packets) {
    auto icmp = icmp_of(p);
    ASSERT_TRUE(icmp) << "not ICMP: " << p.data.size() << " bytes";
    types.push_back(icmp->type);
    seqs.push_back(icmp->seq);
    ids.insert(icmp->id);
  }
  EXPECT_EQ(types, (std::vector<int>{8, 0, 8}));
  EXPECT_EQ(seqs, (std::vector<int>{0, 0, 1}));
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_LT((*packets)[0].ts_ns, (*packets)[2].ts_ns);
  // tcpdump reads the same file the same way.
  int rc = -1;
  std::string text = run_shell("tcpdump -nr " + file + " 2>/dev/null", &rc);
  ASSERT_EQ(rc, 0);
  std::istringstream lines(text);
  std::vector<std::string> got;
  for (std::string l; std::getline(lines, l);) got.push_back(l);
  ASSERT_EQ(got.size(), 3u) << text;
  EXPECT_NE(got[0].find("10.0.0.1 > 10.0.0.2: ICMP echo request, id " + std::to_string(*ids.begin()) + ", seq 0"),
            std::string::npos) << got[0];
  EXPECT_NE(got[1].find("10.0.0.2 > 10.0.0.1: ICMP echo reply"), std::string::npos) << got[1];
  EXPECT_NE(got[2].find("ICMP echo request, id " + std::to_string(*ids.begin()) + ", seq 1"), std::string::npos);
  destroy_ok(lab);
}

TEST_F(CaptureTest, FilterIcmpExcludesTheUdpThatAnUnfilteredCaptureSees) {
  std::string lab = pair_lab();
  std::string all = files_dir_ + "/all.pcap", icmp = files_dir_ + "/icmp.pcap";
  // Two captures of the same traffic: the outer one runs the inner one, which runs the traffic.
  auto inner = capture({lab, "h2:eth0", "-f", "icmp", "-w", icmp},
                       exec_in(lab, "h1", "nslookup foo 10.0.0.2; ping -c 2 10.0.0.2"));
  inner.insert(inner.begin(), NETLAB_BINARY);
  auto r = netlab(capture({lab, "h2:eth0", "-w", all}, inner));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto unfiltered = read_with_libpcap(all), filtered = read_with_libpcap(icmp);
  ASSERT_TRUE(unfiltered && filtered);
  int udp = 0;
  for (const auto& p : *unfiltered) udp += udp_dport_of(p) == 53;  // nslookup's query
  EXPECT_GE(udp, 1) << "the UDP datagram never reached h2:eth0";
  int requests = 0, replies = 0;
  for (const auto& p : *filtered) {  // echo requests and replies, and h2's "port 53 unreachable"
    EXPECT_EQ(ip_proto_of(p), 1) << "a packet the filter should have dropped";
    auto i = icmp_of(p);
    requests += i && i->type == 8;
    replies += i && i->type == 0;
  }
  EXPECT_EQ(requests, 2);
  EXPECT_EQ(replies, 2);
  EXPECT_LT(filtered->size(), unfiltered->size());
  destroy_ok(lab);
}

TEST_F(CaptureTest, StdoutStreamsPcapPacketByPacketAndCtrlCEndsCleanly) {
  std::string lab = pair_lab();
  auto bg = start_netlab({"capture", lab, "h2:eth0", "-w", "-", "-f", "icmp"}, env());
  ASSERT_TRUE(bg.wait_stderr("capturing on")) << bg.err_text;
  std::thread pinger([&] { EXPECT_TRUE(ping(lab + "-h1", "10.0.0.2", 3)); });
  FILE* stream = fdopen(bg.out, "r");
  ASSERT_NE(stream, nullptr);
  auto packets = read_stream(stream, 6);  // read while netlab still runs: flushed per packet
  pinger.join();
  ASSERT_TRUE(packets);
  ASSERT_EQ(packets->size(), 6u);
  EXPECT_EQ(waitpid(bg.pid, nullptr, WNOHANG), 0) << "netlab ended before it was told to";
  for (size_t i = 0; i < 6; ++i) {
    auto icmp = icmp_of((*packets)[i]);
    ASSERT_TRUE(icmp);
    EXPECT_EQ(icmp->type, i % 2 ? 0 : 8);
  }
  kill(bg.pid, SIGINT);
  EXPECT_EQ(fgetc(stream), EOF);  // the stream ends after the last packet, nothing torn
  fclose(stream);
  EXPECT_EQ(bg.finish(), 0) << bg.err_text;
  EXPECT_NE(bg.err_text.find("h2:eth0: 6 packets captured, 6 accepted by the filter, 0 dropped by the kernel"),
            std::string::npos) << bg.err_text;
  destroy_ok(lab);
}

TEST_F(CaptureTest, AllRecordsEveryHopOfARoutedPathWithItsInterfaceName) {
  std::string lab;
  deploy_ok(shipped("routed-line.toml", lab));
  auto r = netlab(capture({lab, "--all", "-w", files_dir_, "-f", "icmp"},
                          {NETLAB_BINARY, "exec", lab, "h1", "--", "ping", "-c", "1", "10.0.2.2"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string file = files_dir_ + "/" + lab + ".pcapng";
  auto ng = read_pcapng(file);
  ASSERT_TRUE(ng);
  const std::vector<std::string> hops = {"h1:eth0", "r1:eth0", "r1:eth1", "r2:eth0",
                                         "r2:eth1", "r3:eth0", "r3:eth1", "h2:eth0"};
  EXPECT_EQ(ng->interfaces, hops);
  for (size_t h = 0; h < hops.size(); ++h) {
    SCOPED_TRACE(hops[h]);
    std::vector<Icmp> seen;
    for (const auto& p : ng->packets)
      if (p.iface == hops[h])
        if (auto i = icmp_of(p)) seen.push_back(*i);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].type, 8);
    EXPECT_EQ(seen[1].type, 0);
    // Each router forwards with one less TTL: the request is where the name says.
    EXPECT_EQ(seen[0].ttl, 64 - static_cast<int>(h / 2));
  }
  auto libpcap = read_with_libpcap(file);
  ASSERT_TRUE(libpcap);
  EXPECT_EQ(libpcap->size(), 16u);
  int rc = -1;
  std::string text = run_shell("tcpdump -nr " + file + " 2>/dev/null | grep -c 'ICMP echo'", &rc);
  EXPECT_EQ(text, "16\n");
  destroy_ok(lab);
}

TEST_F(CaptureTest, BridgeAndBridgePortAreTargetsAndAllNamesThePorts) {
  std::string lab = pair_lab();
  std::string on_bridge = files_dir_ + "/lan.pcap", on_port = files_dir_ + "/port.pcap";
  auto inner = capture({lab, "lan:h2:eth0", "-f", "icmp", "-w", on_port}, exec_in(lab, "h1", "ping -c 2 10.0.0.2"));
  inner.insert(inner.begin(), NETLAB_BINARY);
  auto r = netlab(capture({lab, "lan", "-f", "icmp", "-w", on_bridge}, inner));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& f : {on_bridge, on_port}) {
    auto p = read_with_libpcap(f);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->size(), 4u) << f;  // two requests, two replies
  }
  auto all = netlab(capture({lab, "--all", "-c", "1", "-w", files_dir_ + "/x.pcapng"}, {"true"}));
  ASSERT_EQ(all.exit_code, 0) << all.err;
  auto ng = read_pcapng(files_dir_ + "/x.pcapng");
  ASSERT_TRUE(ng);
  EXPECT_EQ(ng->interfaces, (std::vector<std::string>{"h1:eth0", "lan:h1:eth0", "h2:eth0", "lan:h2:eth0"}));
  destroy_ok(lab);
}

TEST_F(CaptureTest, ErrorsNameTheTargetAndTheCause) {
  std::string lab = pair_lab();
  auto r = netlab({"capture", lab, "h9:eth0", "-c", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("lab " + lab + " has no node \"h9\""), std::string::npos) << r.err;
  r = netlab({"capture", lab, "h1:eth7", "-c", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no interface eth7"), std::string::npos) << r.err;
  r = netlab({"capture", lab, "h1:eth0", "-f", "icmp and and", "-c", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("capture filter \"icmp and and\""), std::string::npos) << r.err;
  r = netlab({"capture", lab, "lan:h1:eth9"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bridge lan of lab " + lab + " has no port towards h1:eth9"), std::string::npos) << r.err;
  r = netlab({"capture", lab, "h1:eth0", "-w", "/nonexistent/dir/x.pcap", "-c", "1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/dir/x.pcap"), std::string::npos) << r.err;
  destroy_ok(lab);
}

TEST_F(CaptureTest, StatsGrowByExactlyWhatTheTestSent) {
  std::string lab = pair_lab();
  auto stats = [&] {
    auto r = netlab({"inspect", lab, "--stats", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  };
  auto find = [](const nlohmann::json& s, const std::string& node, const std::string& dir) {
    for (const auto& i : s["interfaces"])
      if (i["node"] == node && i["name"] == "eth0") return i[dir];
    return nlohmann::json();
  };
  auto port = [](const nlohmann::json& s, const std::string& name, const std::string& dir) {
    for (const auto& p : s["bridges"][0]["ports"])
      if (p["name"] == name) return p[dir];
    return nlohmann::json();
  };
  int rx = socket_in(lab + "-h2", SOCK_DGRAM), tx = socket_in(lab + "-h1", SOCK_DGRAM);
  ASSERT_GE(rx, 0);
  ASSERT_GE(tx, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(9000);
  ASSERT_EQ(bind(rx, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  inet_pton(AF_INET, "10.0.0.2", &addr.sin_addr);
  auto before = stats();
  const int kCount = 100, kPayload = 200, kFrame = kPayload + 8 + 20 + 14;
  char buf[kPayload] = {};
  for (int i = 0; i < kCount; ++i)
    ASSERT_EQ(sendto(tx, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr), kPayload);
  timeval tv{2, 0};
  setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(recv(rx, buf, sizeof buf, 0), kPayload) << "datagram " << i;
  auto after = stats();
  auto grew = [](const nlohmann::json& a, const nlohmann::json& b, const char* field) {
    return b[field].get<uint64_t>() - a[field].get<uint64_t>();
  };
  EXPECT_EQ(grew(find(before, "h1", "tx"), find(after, "h1", "tx"), "packets"), uint64_t{kCount});
  EXPECT_EQ(grew(find(before, "h1", "tx"), find(after, "h1", "tx"), "bytes"), uint64_t{kCount * kFrame});
  EXPECT_EQ(grew(port(before, "h1:eth0", "rx"), port(after, "h1:eth0", "rx"), "packets"), uint64_t{kCount});
  EXPECT_EQ(grew(port(before, "h1:eth0", "rx"), port(after, "h1:eth0", "rx"), "bytes"), uint64_t{kCount * kFrame});
  // Towards h2 the bridge may add its own IGMP reports (sent for a second or
  // two after it comes up, flooded to every port): exact up to those.
  auto to_h2 = grew(find(before, "h2", "rx"), find(after, "h2", "rx"), "packets");
  EXPECT_GE(to_h2, uint64_t{kCount});
  EXPECT_LE(to_h2, uint64_t{kCount + 2});
  auto port_h2 = grew(port(before, "h2:eth0", "tx"), port(after, "h2:eth0", "tx"), "packets");
  EXPECT_EQ(port_h2, to_h2);  // what the port sent is what h2 received
  EXPECT_EQ(find(after, "h2", "rx")["dropped"], 0);
  // The same counter as iproute2 reads it.
  auto ip = ip_json(lab + "-h1", "-s link show eth0");
  ASSERT_EQ(ip.size(), 1u);
  EXPECT_EQ(ip[0]["stats64"]["tx"]["packets"], find(after, "h1", "tx")["packets"]);
  close(rx);
  close(tx);
  auto table = netlab({"inspect", lab, "--stats"});
  EXPECT_NE(table.out.find("RX PKTS"), std::string::npos) << table.out;
  destroy_ok(lab);
}

TEST_F(CaptureTest, ANodeWhoseInitExitedIsStillCapturedAndCounted) {
  std::string lab = pair_lab();
  auto info = nlohmann::json::parse(netlab({"inspect", lab, "--json"}).out);
  int pid = 0;
  for (const auto& n : info["nodes"])
    if (n["name"] == "h2") pid = n["pid"];
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] {
    auto now = nlohmann::json::parse(netlab({"inspect", lab, "--json"}).out);
    for (const auto& n : now["nodes"])
      if (n["name"] == "h2") return n["state"] == "exited";
    return false;
  }));
  std::string file = files_dir_ + "/exited.pcap";
  auto r = netlab(capture({lab, "h2:eth0", "-f", "icmp", "-w", file}, exec_in(lab, "h1", "ping -c 2 10.0.0.2")));
  ASSERT_EQ(r.exit_code, 0) << r.err;  // the kernel of h2's namespace still answers
  auto p = read_with_libpcap(file);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->size(), 4u);
  auto stats = nlohmann::json::parse(netlab({"inspect", lab, "--stats", "--json"}).out);
  bool counted = false;
  for (const auto& i : stats["interfaces"])
    if (i["node"] == "h2" && i.contains("rx")) counted = i["rx"]["packets"].get<uint64_t>() >= 2;
  EXPECT_TRUE(counted) << stats.dump();
  destroy_ok(lab);
}

TEST_F(CaptureTest, ANodeThatOwnsItsNetworkNamespaceThroughAUserNamespaceIsCapturedToo) {
  std::string lab = lab_prefix_ + "u";
  std::string text = std::string(kPairOnBridge);
  text.replace(text.find("[nodes.h2]\n"), 11, "[nodes.h2]\nuserns = true\n");
  deploy_ok(topology(lab, "name = \"" + lab + "\"\n" + text));
  std::string file = files_dir_ + "/userns.pcap";
  auto r = netlab(capture({lab, "h2:eth0", "-f", "icmp", "-w", file}, exec_in(lab, "h1", "ping -c 2 10.0.0.2")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto p = read_with_libpcap(file);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->size(), 4u);
  auto stats = nlohmann::json::parse(netlab({"inspect", lab, "--stats", "--json"}).out);
  bool counted = false;
  for (const auto& i : stats["interfaces"])
    if (i["node"] == "h2" && i.contains("rx")) counted = i["rx"]["packets"].get<uint64_t>() >= 2;
  EXPECT_TRUE(counted) << stats.dump();
  destroy_ok(lab);
}

TEST_F(CaptureTest, DestroyWhileCapturingEndsTheCaptureAndLeavesNothing) {
  auto before = snapshot();
  std::string lab = pair_lab();
  auto bg = start_netlab({"capture", lab, "--all", "-w", files_dir_ + "/d.pcapng"}, env());
  ASSERT_TRUE(bg.wait_stderr("capturing on")) << bg.err_text;
  destroy_ok(lab);
  // The capture's sockets hold the lab's namespaces; it notices the lab is
  // gone (within a second), ends, and the kernel frees them.
  close(bg.out);
  EXPECT_EQ(bg.finish(), 2) << bg.err_text;
  EXPECT_NE(bg.err_text.find("lab " + lab + " was destroyed while capturing"), std::string::npos) << bg.err_text;
  unlink((files_dir_ + "/d.pcapng").c_str());
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);
}

TEST_F(CaptureTest, AllOnAHundredNodesHoldsOneDescriptorPerEndAndTheCommandInheritsNone) {
  std::string lab = lab_prefix_ + "h";
  auto gen = netlab({"generate", "star", "100", "--name", lab});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  deploy_ok(topology(lab, gen.out));
  // The command reports netlab's descriptors (its parent's) and its own.
  auto r = netlab(capture({lab, "--all", "-w", files_dir_ + "/star.pcapng"},
                          {"sh", "-c", "ls /proc/$PPID/fd | wc -l; ls /proc/self/fd | wc -l"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int netlab_fds = 0, command_fds = 0;
  std::istringstream(r.out) >> netlab_fds >> command_fds;
  EXPECT_GE(netlab_fds, 200);       // one per link end: 100 node ends, 100 bridge ports
  EXPECT_LE(netlab_fds, 200 + 16);  // and a handful more
  EXPECT_LE(command_fds, 8);        // no packet socket leaks into the command
  auto ng = read_pcapng(files_dir_ + "/star.pcapng");
  ASSERT_TRUE(ng);
  EXPECT_EQ(ng->interfaces.size(), 200u);
  EXPECT_EQ(std::set<std::string>(ng->interfaces.begin(), ng->interfaces.end()).size(), 200u);
  destroy_ok(lab);
}

}  // namespace
}  // namespace netlab::testing
