// Container images as node roots (issue #20): an OCI layout, an oci-archive
// and a docker-archive built by the test, deployed as contained and
// privileged nodes; whiteouts and opaque directories read back through the
// node's overlay; the image config's defaults seen by the node's command;
// layers unpacked once (same inode on a second deploy); a digest mismatch and
// a hostile layer refused with nothing left; `images ls|rm|prune`.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/lab_fixture.hpp"
#include "support/oci_image.hpp"

namespace fs = std::filesystem;

namespace netlab::testing {
namespace {

class ImageTest : public LabTest {
 protected:
  void SetUp() override {
    LabTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    image_ = busybox_test_image(IMAGE_HELLO);
  }
  CliResult sh(const std::string& lab, const std::string& node, const std::string& script) {
    return netlab({"exec", lab, node, "--", "/bin/sh", "-c", script});
  }
  std::string two_nodes(const std::string& lab, const std::string& image) {
    return topology(lab, "name = \"" + lab + "\"\n[defaults]\nimage = \"" + image + R"("
[nodes.c]
interfaces.eth0 = "10.9.0.1/24"
[nodes.p]
privileged = true
interfaces.eth0 = "10.9.0.2/24"
[[links]]
endpoints = ["c:eth0", "p:eth0"]
)");
  }
  std::string store() const { return state_dir_ + "/images/oci"; }
  std::string layer_dir(size_t i) const { return store() + "/layers/sha256/" + digest(image_.layers[i].blob).substr(7); }
  // Every check of a node made from the test image.
  void expect_image_root(const std::string& lab, const std::string& node) {
    SCOPED_TRACE("node " + node);
    // The image config's defaults: User app (1000:1000), WorkingDir, Env, Entrypoint + Cmd.
    std::string defaults;
    EXPECT_TRUE(eventually([&] {
      defaults = sh(lab, node, "cat /tmp/defaults").out;
      return !defaults.empty();
    }, 10000));
    EXPECT_EQ(defaults, "1000:1000 /opt/app hi\n");
    // The whiteout hides the lower layer's file; the opaque /data shows only the upper layer's.
    auto removed = sh(lab, node, "cat /etc/removed.txt");
    EXPECT_NE(removed.exit_code, 0) << removed.out;
    EXPECT_EQ(sh(lab, node, "ls /data").out, "b\n");
    EXPECT_EQ(sh(lab, node, "cat /opt/app/hello.txt").out, "hello from layer 2\n");
    // The image's own static program runs; netlab exec gets the image's defaults too (as docker exec).
    EXPECT_EQ(sh(lab, node, "/bin/hello").out, "hello hi from /opt/app\n");
    EXPECT_EQ(sh(lab, node, "id -u; id -g").out, "1000\n1000\n");
    // The root is writable (copy-on-write over the shared layers) where the image lets its user write.
    EXPECT_EQ(sh(lab, node, "echo x > /opt/app/new && cat /opt/app/new").out, "x\n");
    EXPECT_NE(sh(lab, node, "echo x > /etc/new").exit_code, 0);
  }

  TestImage image_;
};

TEST_F(ImageTest, OciLayoutGivesContainedAndPrivilegedNodesItsFilesWhiteoutsAndDefaults) {
  std::string layout = files_dir_ + "/layout-" + lab_prefix_;
  write_oci_layout(layout, image_, "v1");
  std::string lab = lab_prefix_ + "o";
  deploy_ok(two_nodes(lab, "oci:" + layout + ":v1"));
  expect_image_root(lab, "c");
  expect_image_root(lab, "p");
  // The layers are unpacked in overlayfs's form: a 0:0 character device and an opaque xattr.
  struct stat st{};
  ASSERT_EQ(::lstat((layer_dir(1) + "/etc/removed.txt").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  char value[4] = {};
  EXPECT_EQ(::lgetxattr((layer_dir(1) + "/data").c_str(), "trusted.overlay.opaque", value, sizeof value), 1);
  EXPECT_EQ(value[0], 'y');
  // The contained node's root cannot change the shared layer; its write went to its own upper dir.
  EXPECT_NE(sh(lab, "c", "echo bad > /opt/app/hello.txt; cat /opt/app/hello.txt").out, "");
  std::ifstream f(layer_dir(1) + "/opt/app/hello.txt");
  std::string line;
  std::getline(f, line);
  EXPECT_EQ(line, "hello from layer 2");
  destroy_ok(lab);
}

TEST_F(ImageTest, TopologyKeysOverrideTheImageDefaults) {
  std::string layout = files_dir_ + "/layout-" + lab_prefix_;
  write_oci_layout(layout, image_, "v1");
  std::string lab = lab_prefix_ + "d";
  deploy_ok(topology(lab, "name = \"" + lab + "\"\n[nodes.n]\nimage = \"oci:" + layout + ":v1" + R"("
user = "0:0"
env = { GREETING = "override" }
cmd = ["/bin/sh", "-c", "echo \"$(id -u) $(pwd) $GREETING\" > /tmp/mine; exec sleep 100000"]
)"));
  std::string mine;
  EXPECT_TRUE(eventually([&] {
    mine = sh(lab, "n", "cat /tmp/mine").out;
    return !mine.empty();
  }, 10000));
  // cmd replaces Entrypoint and Cmd; WorkingDir still applies.
  EXPECT_EQ(mine, "0 /opt/app override\n");
  EXPECT_NE(sh(lab, "n", "test -e /tmp/defaults").exit_code, 0);
  EXPECT_EQ(sh(lab, "n", "echo $(id -u) $GREETING").out, "0 override\n");
  destroy_ok(lab);
}

TEST_F(ImageTest, OciArchiveAndDockerArchiveNodes) {
  std::string oci = files_dir_ + "/img-" + lab_prefix_ + ".oci.tar";
  std::string docker = files_dir_ + "/img-" + lab_prefix_ + ".docker.tar";
  write_oci_archive(oci, image_, "v1");
  write_docker_archive(docker, image_, "test/img:v1");
  std::string lab = lab_prefix_ + "a";
  deploy_ok(topology(lab, "name = \"" + lab + "\"\n[nodes.o]\nimage = \"oci-archive:" + oci +
                              "\"\n[nodes.d]\nimage = \"docker-archive:" + docker + "\"\n"));
  expect_image_root(lab, "o");
  expect_image_root(lab, "d");
  auto ls = netlab({"images", "ls"});
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("oci-archive:" + oci), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("docker-archive:" + docker), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find(lab), std::string::npos) << ls.out;
  destroy_ok(lab);
}

TEST_F(ImageTest, LayersAreUnpackedOnceAndSharedAcrossDeploys) {
  std::string layout = files_dir_ + "/layout-" + lab_prefix_;
  write_oci_layout(layout, image_, "v1");
  std::string ref = "oci:" + layout + ":v1";
  std::string lab1 = lab_prefix_ + "x", lab2 = lab_prefix_ + "y";
  deploy_ok(two_nodes(lab1, ref));
  struct stat first{}, second{};
  ASSERT_EQ(::stat((layer_dir(0) + "/bin/busybox").c_str(), &first), 0);
  deploy_ok(two_nodes(lab2, ref));
  ASSERT_EQ(::stat((layer_dir(0) + "/bin/busybox").c_str(), &second), 0);
  EXPECT_EQ(first.st_ino, second.st_ino);
  EXPECT_EQ(first.st_ctim.tv_nsec, second.st_ctim.tv_nsec);
  // One directory per layer, nothing half-unpacked.
  size_t layers = 0;
  for (const auto& e : fs::directory_iterator(store() + "/layers/sha256")) layers += e.is_directory();
  EXPECT_EQ(layers, 2u);
  for (const auto& e : fs::directory_iterator(store() + "/layers"))
    EXPECT_NE(e.path().filename().string().rfind(".tmp-", 0), 0u) << e.path();
  expect_image_root(lab2, "c");
  destroy_ok(lab1);
  destroy_ok(lab2);
}

TEST_F(ImageTest, ADigestMismatchIsRefusedAndLeavesNothing) {
  std::string layout = files_dir_ + "/layout-" + lab_prefix_;
  write_oci_layout(layout, image_, "v1");
  // Corrupt the top layer's blob (same size, one byte changed).
  std::string blob = layout + "/blobs/sha256/" + digest(image_.layers[1].blob).substr(7);
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x55');
  }
  std::string lab = lab_prefix_ + "m";
  auto r = netlab({"deploy", two_nodes(lab, "oci:" + layout + ":v1")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("digest mismatch"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(digest(image_.layers[1].blob)), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(store() + "/blobs/sha256/" + digest(image_.layers[1].blob).substr(7)));
  EXPECT_TRUE(fs::is_empty(store() + "/tmp"));
  EXPECT_TRUE(fs::is_empty(store() + "/images"));
  EXPECT_FALSE(fs::exists(state_dir_ + "/" + lab));
}

TEST_F(ImageTest, AMissingLayerOrAnUnknownTagIsRefusedAndLeavesNothing) {
  std::string layout = files_dir_ + "/layout-" + lab_prefix_;
  write_oci_layout(layout, image_, "v1");
  std::string lab = lab_prefix_ + "t";
  auto r = netlab({"deploy", two_nodes(lab, "oci:" + layout + ":v2")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no manifest tagged \"v2\" (tags: v1)"), std::string::npos) << r.err;
  fs::remove(layout + "/blobs/sha256/" + digest(image_.layers[1].blob).substr(7));
  r = netlab({"deploy", two_nodes(lab, "oci:" + layout + ":v1")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("blob " + digest(image_.layers[1].blob) + " is missing from the layout"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(state_dir_ + "/" + lab));
  EXPECT_TRUE(fs::is_empty(store() + "/images"));
  EXPECT_TRUE(fs::is_empty(store() + "/tmp"));
}

TEST_F(ImageTest, HostileLayersAreRefusedWithTheEntryNamedAndLeaveNothing) {
  struct Case {
    std::vector<TarEntry> entries;
    std::string message;
  } cases[] = {
      {{{'f', "/etc/passwd", "x"}}, "\"/etc/passwd\" is an absolute path"},
      {{{'f', "a/../../escape", "x"}}, "contains \"..\""},
      {{{'l', "up", "", 0777, "../../.."}}, "symlink \"up\" -> \"../../..\" points out of the layer"},
      {{{'l', "etc", "", 0777, "/etc"}, {'f', "etc/shadow", "x"}}, "goes through the symlink \"etc\""},
      {{{'h', "pw", "", 0644, "/etc/passwd"}}, "\"/etc/passwd\" is an absolute path"},
  };
  int i = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.message);
    TestImage bad = image_;
    bad.layers.push_back(layer(c.entries, Compression::kGzip));
    bad.config = image_config(bad.layers, "{}");
    std::string layout = files_dir_ + "/hostile-" + lab_prefix_ + std::to_string(i);
    write_oci_layout(layout, bad, "v1");
    std::string lab = lab_prefix_ + "h" + std::to_string(i++);
    auto r = netlab({"deploy", two_nodes(lab, "oci:" + layout)});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(state_dir_ + "/" + lab));
    EXPECT_FALSE(fs::exists(store() + "/layers/sha256/" + digest(bad.layers.back().blob).substr(7)));
    for (const auto& e : fs::directory_iterator(store() + "/layers"))
      EXPECT_NE(e.path().filename().string().rfind(".tmp-", 0), 0u) << e.path();
  }
  EXPECT_FALSE(fs::exists("/escape"));
}

TEST_F(ImageTest, DeviceNodesOfALayerAreSkipped) {
  TestImage img = image_;
  img.layers.push_back(layer({{'d', "dev", "", 0755}, {'c', "dev/mem", "", 0666}}, Compression::kNone));
  img.config = image_config(img.layers, "{}");
  std::string layout = files_dir_ + "/dev-" + lab_prefix_;
  write_oci_layout(layout, img, "v1");
  std::string lab = lab_prefix_ + "v";
  deploy_ok(two_nodes(lab, "oci:" + layout));
  EXPECT_TRUE(fs::exists(store() + "/layers/sha256/" + digest(img.layers.back().blob).substr(7) + "/dev"));
  EXPECT_FALSE(fs::exists(store() + "/layers/sha256/" + digest(img.layers.back().blob).substr(7) + "/dev/mem"));
  destroy_ok(lab);
}

TEST_F(ImageTest, ImagesRmRefusesAnImageInUseAndPruneFreesTheRest) {
  std::string layout = files_dir_ + "/layout-" + lab_prefix_;
  write_oci_layout(layout, image_, "v1");
  std::string ref = "oci:" + layout + ":v1";
  std::string lab = lab_prefix_ + "r";
  deploy_ok(two_nodes(lab, ref));
  auto rm = netlab({"images", "rm", ref});
  EXPECT_NE(rm.exit_code, 0);
  EXPECT_NE(rm.err.find("in use by lab " + lab), std::string::npos) << rm.err;
  EXPECT_TRUE(fs::exists(layer_dir(0) + "/bin/busybox"));
  destroy_ok(lab);
  rm = netlab({"images", "rm", ref});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(netlab({"images", "ls"}).out.find(ref), std::string::npos);
  auto prune = netlab({"images", "prune"});
  EXPECT_EQ(prune.exit_code, 0) << prune.err;
  EXPECT_FALSE(fs::exists(layer_dir(0)));
  EXPECT_TRUE(fs::is_empty(store() + "/blobs/sha256"));
  // `images pull` brings it back, unpacked (gzip and zstd layers), executing no program to do it.
  std::string trace = files_dir_ + "/images-pull-" + lab_prefix_ + ".trace";
  int rc = -1;
  run_shell("strace -f -qq -e trace=execve -o " + trace + " " + NETLAB_BINARY + " images pull " + ref + " >/dev/null", &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(fs::exists(layer_dir(0) + "/bin/busybox"));
  EXPECT_TRUE(fs::exists(layer_dir(1) + "/bin/hello"));
  std::string execs = run_shell("grep -c execve " + trace);
  EXPECT_EQ(execs, "1\n") << run_shell("cat " + trace);  // netlab itself
}

}  // namespace
}  // namespace netlab::testing
