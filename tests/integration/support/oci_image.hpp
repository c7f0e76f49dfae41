// Small container images built by the tests themselves (no registry is
// reachable here): tar layers written with libarchive (plain, gzip, zstd),
// an image config, and the three file forms netlab reads: an OCI image
// layout, an oci-archive (a tar of a layout) and a docker-archive.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace netlab::testing {

struct TarEntry {
  TarEntry(char t, std::string p, std::string d = "", unsigned m = 0644, std::string l = "", unsigned u = 0,
           unsigned g = 0)
      : type(t), path(std::move(p)), data(std::move(d)), mode(m), link(std::move(l)), uid(u), gid(g) {}
  char type = 'f';  // f file, d directory, l symlink, h hard link, c character device
  std::string path;
  std::string data;  // file contents
  unsigned mode = 0644;
  std::string link;  // l, h: target
  unsigned uid = 0, gid = 0;
};

enum class Compression { kNone, kGzip, kZstd };

std::string make_tar(const std::vector<TarEntry>& entries, Compression c = Compression::kNone);

struct TestLayer {
  std::string blob;       // as stored (maybe compressed)
  std::string diff;       // uncompressed tar
  std::string media_type;
};

struct TestImage {
  std::vector<TestLayer> layers;  // bottom first
  std::string config;             // JSON
  std::string manifest() const;   // OCI manifest JSON
};

TestLayer layer(const std::vector<TarEntry>& entries, Compression c);
/// A config with rootfs.diff_ids of `layers` and `process` as its "config" object (JSON text).
std::string image_config(const std::vector<TestLayer>& layers, const std::string& process);

/// "sha256:<hex>" of data.
std::string digest(const std::string& data);

void write_oci_layout(const std::string& dir, const TestImage& img, const std::string& tag);
void write_oci_archive(const std::string& file, const TestImage& img, const std::string& tag);
/// Layers are written uncompressed, as `docker save` does.
void write_docker_archive(const std::string& file, const TestImage& img, const std::string& repo_tag);

/// The tests' image: busybox in a gzip layer (with /etc/removed.txt and /data/a),
/// a zstd layer on top that whites out /etc/removed.txt, makes /data opaque
/// (adding /data/b), adds user "app" (1000:1000), /opt/app/hello.txt and the
/// static program /bin/hello; config Env GREETING=hi, WorkingDir /opt/app,
/// User app, Entrypoint sh -c and a Cmd that writes "uid:gid cwd $GREETING"
/// to /tmp/defaults and sleeps. `hello` is the path of the static program.
TestImage busybox_test_image(const std::string& hello);

}  // namespace netlab::testing
