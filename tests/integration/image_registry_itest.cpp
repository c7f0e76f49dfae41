// Pulling images from a registry (issue #20): Debian's docker-registry,
// started by the test on 127.0.0.1 in the test's own network namespace (and
// ended by PID), the test image pushed to it with skopeo, then deployed by
// tag and pulled by digest; a wrong digest and an unreachable registry are
// refused with the registry named and nothing stored.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/lab_fixture.hpp"
#include "support/oci_image.hpp"

namespace fs = std::filesystem;

namespace netlab::testing {
namespace {

constexpr int kPort = 5000;

bool port_open(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

class RegistryTest : public LabTest {
 protected:
  void SetUp() override {
    LabTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (::access("/usr/bin/docker-registry", X_OK) != 0 || ::access("/usr/bin/skopeo", X_OK) != 0)
      GTEST_SKIP() << "docker-registry or skopeo missing (scripts/setup installs them)";
    dir_ = files_dir_ + "/registry-" + lab_prefix_;
    fs::remove_all(dir_);
    fs::create_directories(dir_ + "/data");
    std::ofstream(dir_ + "/config.yml") << "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: "
                                        << dir_ << "/data\nhttp:\n  addr: 127.0.0.1:" << kPort << "\n";
    pid_ = ::fork();
    if (pid_ == 0) {
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execl("/usr/bin/docker-registry", "docker-registry", "serve", (dir_ + "/config.yml").c_str(), nullptr);
      ::_exit(127);
    }
    ASSERT_GT(pid_, 0);
    ASSERT_TRUE(eventually([] { return port_open(kPort); }, 15000)) << "the registry did not start listening";
  }
  void TearDown() override {
    for (const auto& lab : deployed_) netlab({"destroy", "--lab", lab});
    deployed_.clear();
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status;
      ::waitpid(pid_, &status, 0);
    }
    LabTest::TearDown();
  }
  // skopeo copies the test image's OCI layout into the registry; returns skopeo's exit code.
  int push(const std::string& layout, const std::string& repo_tag) {
    int rc = -1;
    std::string out = run_shell("skopeo copy --quiet --dest-tls-verify=false oci:" + layout + ":v1 docker://127.0.0.1:" +
                                    std::to_string(kPort) + "/" + repo_tag + " 2>&1",
                                &rc);
    if (rc != 0) ADD_FAILURE() << out;
    return rc;
  }
  CliResult sh(const std::string& lab, const std::string& node, const std::string& script) {
    return netlab({"exec", lab, node, "--", "/bin/sh", "-c", script});
  }

  std::string dir_;
  pid_t pid_ = -1;
};

TEST_F(RegistryTest, ImagesPulledByTagAndByDigestRunAsNodes) {
  std::string layout = files_dir_ + "/reg-layout-" + lab_prefix_;
  write_oci_layout(layout, busybox_test_image(IMAGE_HELLO), "v1");
  ASSERT_EQ(push(layout, "test/img:v1"), 0);
  std::string ref = "127.0.0.1:" + std::to_string(kPort) + "/test/img:v1";
  std::string lab = lab_prefix_ + "g";
  deploy_ok(topology(lab, "name = \"" + lab + "\"\n[nodes.c]\nimage = \"" + ref + "\"\n[nodes.p]\nprivileged = true\nimage = \"" +
                              ref + "\"\n"));
  for (const char* node : {"c", "p"}) {
    SCOPED_TRACE(node);
    std::string defaults;
    EXPECT_TRUE(eventually([&] {
      defaults = sh(lab, node, "cat /tmp/defaults").out;
      return !defaults.empty();
    }, 10000));
    EXPECT_EQ(defaults, "1000:1000 /opt/app hi\n");
    EXPECT_NE(sh(lab, node, "cat /etc/removed.txt").exit_code, 0);
    EXPECT_EQ(sh(lab, node, "ls /data").out, "b\n");
  }
  auto ls = netlab({"images", "ls", "--json"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  auto images = nlohmann::json::parse(ls.out);
  ASSERT_EQ(images.size(), 1u) << ls.out;
  EXPECT_EQ(images[0]["ref"], ref);
  EXPECT_EQ(images[0]["labs"], nlohmann::json::array({lab}));
  std::string manifest = images[0]["manifest"];
  destroy_ok(lab);

  // By digest: the same manifest, verified against the reference.
  std::string pinned = "127.0.0.1:" + std::to_string(kPort) + "/test/img@" + manifest;
  auto pull = netlab({"images", "pull", pinned});
  EXPECT_EQ(pull.exit_code, 0) << pull.err;
  EXPECT_NE(pull.out.find(manifest), std::string::npos) << pull.out;

  // A digest the registry lacks, and a registry nobody listens on.
  auto missing = netlab({"images", "pull", "127.0.0.1:" + std::to_string(kPort) + "/test/img@sha256:" + std::string(64, '0')});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("HTTP 404"), std::string::npos) << missing.err;
  auto unreachable = netlab({"images", "pull", "127.0.0.1:1/test/img:v1"});
  EXPECT_NE(unreachable.exit_code, 0);
  EXPECT_NE(unreachable.err.find("registry 127.0.0.1:1 unreachable"), std::string::npos) << unreachable.err;
  EXPECT_TRUE(fs::is_empty(state_dir_ + "/images/oci/tmp"));
}

}  // namespace
}  // namespace netlab::testing
