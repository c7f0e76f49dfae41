// `netlab capture` usage errors through the real binary (no privileges, no
// lab): each is refused with exit code 1 and a message, before any lab is looked up.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "capture/sink.hpp"

namespace {

struct Run {
  int code;
  std::string all;  // stdout and stderr
};

Run netlab(const std::string& args) {
  std::string cmd = std::string(NETLAB_BINARY) + " " + args + " 2>&1 </dev/null";
  Run r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.all.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(CaptureVerb, UsageErrorsAreRefusedBeforeAnyLabIsLookedUp) {
  for (const char* args : {"capture", "capture a b c", "capture lab --all extra"}) {
    auto r = netlab(args);
    EXPECT_EQ(r.code, 1) << args;
    EXPECT_NE(r.all.find("usage: netlab capture"), std::string::npos) << args << ": " << r.all;
  }
  auto r = netlab("capture lab h1:eth0 --duration 0s");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.all.find("--duration \"0s\": must be > 0"), std::string::npos) << r.all;
  r = netlab("capture lab h1:eth0 --duration soon");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.all.find("--duration \"soon\""), std::string::npos) << r.all;
  r = netlab("capture lab h1:eth0 -B 1");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.all.find("-B must be"), std::string::npos) << r.all;
  r = netlab("capture --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.all.find("--all"), std::string::npos);
}

TEST(CaptureVerb, FormatFollowsTheNameAndTheNumberOfInterfaces) {
  using netlab::capture::Format;
  EXPECT_EQ(netlab::capture::format_for("", false), Format::kText);
  EXPECT_EQ(netlab::capture::format_for("x.pcap", false), Format::kPcap);
  EXPECT_EQ(netlab::capture::format_for("-", false), Format::kPcap);
  EXPECT_EQ(netlab::capture::format_for("x.pcapng", false), Format::kPcapng);
  EXPECT_EQ(netlab::capture::format_for("-", true), Format::kPcapng);
  EXPECT_EQ(netlab::capture::format_for("x.pcap", true), Format::kPcapng);
}

}  // namespace
