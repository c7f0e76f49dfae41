// Names from the command line go through the same validator as the topology's
// (issue #15): `destroy --lab ''` removed the whole state dir, `--lab ../x` a
// directory outside it. Runs the binary against a private state dir; no root.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace {

struct Run {
  int code;
  std::string err;
};

Run netlab(const std::string& args) {
  std::string cmd = std::string(NETLAB_BINARY) + " " + args + " 2>&1 >/dev/null";
  Run r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.err.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(NamesCli, LabAndNodeNamesAreValidatedWhereTheyEnter) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("netlab-names-" + std::to_string(getpid()));
  fs::create_directories(dir / "state/images");
  fs::create_directories(dir / "state/keep");
  fs::create_directories(dir / "outside");
  std::string state = "--state-dir " + (dir / "state").string();
  for (const char* bad : {"''", "..", "../outside", "images", "a/b"}) {
    SCOPED_TRACE(bad);
    auto r = netlab(std::string("destroy --lab ") + bad + " " + state);
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("lab name"), std::string::npos) << r.err;
  }
  auto r = netlab("exec " + state + " keep ../x -- true");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("node name \"../x\" must match [a-z0-9][a-z0-9-]*"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(dir / "state/images"));
  EXPECT_TRUE(fs::exists(dir / "state/keep"));
  EXPECT_TRUE(fs::exists(dir / "outside"));
  fs::remove_all(dir);
}

TEST(NamesCli, AStateDirectoryOverlayfsCouldNotNameIsRefusedByEveryVerb) {
  for (const char* verb : {"ls", "destroy --all", "inspect x", "images ls"}) {
    SCOPED_TRACE(verb);
    auto r = netlab(std::string(verb) + " --state-dir /tmp/netlab:x");
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("state directory /tmp/netlab:x (from --state-dir): it may not contain ':'"), std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("terminate called"), std::string::npos) << r.err;
  }
  // The variable, where no option is given.
  std::string cmd = std::string("NETLAB_STATE_DIR=/tmp/a,b ") + NETLAB_BINARY + " ls 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  char buf[512];
  std::string out;
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  pclose(p);
  EXPECT_NE(out.find("(from NETLAB_STATE_DIR): it may not contain ','"), std::string::npos) << out;
}

}  // namespace
