// The installed C++ API used from another project: `cmake --install` to a
// temporary prefix, a consumer (tests/consumer) configured with
// find_package(netlab CONFIG) against it, built, and run to deploy, ping across,
// check and destroy a two-node lab. The same consumer links once more through
// the pkg-config file. Nothing may be left behind.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include "support/fresh_ns.hpp"
#include "support/netlab_cli.hpp"

namespace netlab::testing {
namespace {

class ConsumerTest : public FreshNamespaceTest {};

std::string sh(const std::string& cmd, int* rc) { return run_shell("(" + cmd + ") 2>&1", rc); }

TEST_F(ConsumerTest, InstalledPackageBuildsAProjectThatDeploysAndDestroysATwoNodeLab) {
  char tmpl[] = "/tmp/netlab-consumer-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string tmp = tmpl, prefix = tmp + "/prefix";
  int rc = -1;
  std::string out = sh("cmake --install " NETLAB_BUILD_DIR " --prefix " + prefix, &rc);
  ASSERT_EQ(rc, 0) << out;
  for (const char* f : {"/lib/cmake/netlab/netlabConfig.cmake", "/lib/cmake/netlab/netlabTargets.cmake",
                        "/lib/pkgconfig/netlab.pc", "/include/netlab/netlab.hpp", "/libexec/netlab/netlab-init",
                        "/bin/netlab", "/share/man/man1/netlab.1", "/share/bash-completion/completions/netlab",
                        "/share/zsh/site-functions/_netlab"})
    EXPECT_TRUE(std::filesystem::exists(prefix + f)) << f;

  std::string launcher = run_shell("command -v ccache").empty() ? "" : " -DCMAKE_CXX_COMPILER_LAUNCHER=ccache";
  out = sh("cmake -S " NETLAB_SOURCE_DIR "/tests/consumer -B " + tmp + "/build -DCMAKE_BUILD_TYPE=Release"
           " -DCMAKE_PREFIX_PATH=" + prefix + launcher + " && cmake --build " + tmp + "/build",
           &rc);
  ASSERT_EQ(rc, 0) << out;

  std::string topo = write_topology(tmp, "pair.toml", "name = \"" + lab_prefix_ + "c\"\n"
      "[nodes.a]\ninterfaces.eth0 = \"10.77.0.1/24\"\n"
      "[nodes.b]\ninterfaces.eth0 = \"10.77.0.2/24\"\n"
      "[[links]]\nendpoints = [\"a:eth0\", \"b:eth0\"]\n"
      "[[checks]]\nkind = \"ping\"\nfrom = \"b\"\nto = \"a\"\n");
  auto before = snapshot();
  std::string run = tmp + "/build/netlab_consumer " + topo + " " + state_dir_ + " " + cgroup_parent_;
  out = run_shell(run + " 2>" + tmp + "/stderr", &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "deployed " + lab_prefix_ + "c\nping exit 0\nchecks 1 passed 0 failed\ndestroyed\n" +
                     out.substr(out.find("log lines ")));
  EXPECT_NE(out.find("log lines "), std::string::npos);
  EXPECT_NE(out.find("log lines "), std::string::npos);
  EXPECT_NE(out.substr(out.find("log lines ")), "log lines 0\n") << "the log hook got nothing";
  EXPECT_EQ(run_shell("cat " + tmp + "/stderr"), "") << "the library wrote to stderr by itself";
  auto after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);

  // The node init is the installed one: without it, deploy names that path.
  std::string init = prefix + "/libexec/netlab/netlab-init";
  ASSERT_EQ(::rename(init.c_str(), (init + ".away").c_str()), 0);
  out = run_shell("NETLAB_INIT= " + run + " 2>&1", &rc);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find(init), std::string::npos) << out;
  ASSERT_EQ(::rename((init + ".away").c_str(), init.c_str()), 0);
  after = snapshot();
  EXPECT_EQ(before, after) << before.diff(after);

  // pkg-config: the same program compiles and links from the .pc file alone.
  out = sh("PKG_CONFIG_PATH=" + prefix + "/lib/pkgconfig; export PKG_CONFIG_PATH; "
           "g++ -std=c++20 -o " + tmp + "/pc_consumer " NETLAB_SOURCE_DIR "/tests/consumer/main.cpp "
           "$(pkg-config --cflags --libs netlab) && pkg-config --variable=init netlab",
           &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("/libexec/netlab/netlab-init"), std::string::npos) << out;
  run_shell("rm -rf " + tmp);
}

}  // namespace
}  // namespace netlab::testing
