// The model verbs through the real binary (no privileges needed): exit codes,
// what goes to stdout and what to stderr.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace {

struct Run {
  int code;
  std::string out;
  std::string err;
};

Run netlab(const std::string& args, const std::string& stdin_file = "") {
  char err_path[] = "/tmp/netlab-verbs-XXXXXX";
  int fd = mkstemp(err_path);
  close(fd);
  std::string cmd = std::string(NETLAB_BINARY) + " " + args + " 2>" + err_path;
  if (!stdin_file.empty()) cmd += " <" + stdin_file;
  Run r{-1, "", ""};
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (FILE* e = fopen(err_path, "r")) {
    while ((n = fread(buf, 1, sizeof buf, e)) > 0) r.err.append(buf, n);
    fclose(e);
  }
  unlink(err_path);
  return r;
}

const std::string kSource = NETLAB_SOURCE_DIR;

TEST(ValidateVerb, ValidFileExitsZeroAndPrintsNothing) {
  auto r = netlab("validate " + kSource + "/topologies/nat-gateway.toml");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
}

TEST(ValidateVerb, BadFileExitsOneWithEveryDiagnosticOnStderr) {
  auto r = netlab("validate " + kSource + "/tests/testdata/bad/route-via-off-subnet.toml");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("route-via-off-subnet.toml:5:3: route to default of node h1: gateway 10.9.9.9 is on no subnet"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("route-via-off-subnet.toml:8:3:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("^"), std::string::npos) << "no caret under the column";
}

TEST(ValidateVerb, MissingFileIsAUserError) {
  auto r = netlab("validate /nonexistent.toml");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("No such file or directory (ENOENT)"), std::string::npos) << r.err;
}

TEST(GraphVerb, DotAndMermaidNameEveryNodeAndAddress) {
  auto dot = netlab("graph " + kSource + "/topologies/nat-gateway.toml");
  EXPECT_EQ(dot.code, 0);
  EXPECT_EQ(dot.out.rfind("graph \"natgw\" {", 0), 0u) << dot.out;
  for (const char* s : {"\"h1\"", "\"isp\"", "\"lan\"", "192.168.50.2/24", "203.0.113.254/24"})
    EXPECT_NE(dot.out.find(s), std::string::npos) << s;
  auto mm = netlab("graph --format mermaid " + kSource + "/topologies/nat-gateway.toml");
  EXPECT_EQ(mm.code, 0);
  EXPECT_EQ(mm.out.rfind("graph LR", 0), 0u);
  EXPECT_NE(mm.out.find("n_gw ---|\"eth1 203.0.113.1/24"), std::string::npos) << mm.out;
  EXPECT_EQ(netlab("graph --format svg " + kSource + "/topologies/nat-gateway.toml").code, 1);
}

TEST(GenerateVerb, OutputValidatesAndBadArgumentsAreUserErrors) {
  char path[] = "/tmp/netlab-gen-XXXXXX";
  int fd = mkstemp(path);
  auto g = netlab("generate clos 2 3 2 --name c1");
  ASSERT_EQ(g.code, 0) << g.err;
  ASSERT_EQ(write(fd, g.out.data(), g.out.size()), static_cast<ssize_t>(g.out.size()));
  close(fd);
  auto v = netlab(std::string("validate ") + path);
  EXPECT_EQ(v.code, 0) << v.err;
  unlink(path);
  EXPECT_EQ(netlab("generate star").code, 1);
  EXPECT_EQ(netlab("generate blob 3").code, 1);
  auto tiny = netlab("generate star 1000 --lan-pool 192.168.0.0/24");
  EXPECT_EQ(tiny.code, 1);
  EXPECT_NE(tiny.err.find("too small"), std::string::npos) << tiny.err;
}

TEST(Verbs, UnknownVerbAndHelp) {
  EXPECT_EQ(netlab("frobnicate").code, 1);
  auto h = netlab("--help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("exit codes"), std::string::npos);
}

}  // namespace
