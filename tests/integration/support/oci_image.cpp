#include "support/oci_image.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "image/digest.hpp"

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace netlab::testing {

namespace {

la_ssize_t append(struct archive*, void* user, const void* buf, size_t len) {
  static_cast<std::string*>(user)->append(static_cast<const char*>(buf), len);
  return static_cast<la_ssize_t>(len);
}

void write_file(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path, std::ios::binary);
  f << data;
  if (!f) throw std::runtime_error("writing " + path);
}

std::string read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string hex(const std::string& d) { return d.substr(7); }

// The files of a layout: path -> contents.
std::vector<std::pair<std::string, std::string>> layout_files(const TestImage& img, const std::string& tag) {
  std::vector<std::pair<std::string, std::string>> files;
  files.push_back({"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"});
  for (const auto& l : img.layers) files.push_back({"blobs/sha256/" + hex(digest(l.blob)), l.blob});
  files.push_back({"blobs/sha256/" + hex(digest(img.config)), img.config});
  std::string m = img.manifest();
  files.push_back({"blobs/sha256/" + hex(digest(m)), m});
  json index = {{"schemaVersion", 2},
                {"mediaType", "application/vnd.oci.image.index.v1+json"},
                {"manifests",
                 {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"digest", digest(m)},
                   {"size", m.size()},
                   {"annotations", {{"org.opencontainers.image.ref.name", tag}}}}}}};
  files.push_back({"index.json", index.dump()});
  return files;
}

}  // namespace

std::string digest(const std::string& data) { return image::sha256_digest(data); }

std::string make_tar(const std::vector<TarEntry>& entries, Compression c) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (c == Compression::kGzip) archive_write_add_filter_gzip(a);
  if (c == Compression::kZstd) archive_write_add_filter_zstd(a);
  archive_write_set_bytes_in_last_block(a, 1);
  if (archive_write_open(a, &out, nullptr, append, nullptr) != ARCHIVE_OK)
    throw std::runtime_error(std::string("make_tar: ") + archive_error_string(a));
  for (const auto& e : entries) {
    struct archive_entry* en = archive_entry_new();
    archive_entry_set_pathname(en, e.path.c_str());
    archive_entry_set_perm(en, e.mode);
    archive_entry_set_uid(en, e.uid);
    archive_entry_set_gid(en, e.gid);
    archive_entry_set_mtime(en, 1700000000, 0);
    switch (e.type) {
      case 'd': archive_entry_set_filetype(en, AE_IFDIR); break;
      case 'l':
        archive_entry_set_filetype(en, AE_IFLNK);
        archive_entry_set_symlink(en, e.link.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(en, AE_IFREG);
        archive_entry_set_hardlink(en, e.link.c_str());
        break;
      case 'c':
        archive_entry_set_filetype(en, AE_IFCHR);
        archive_entry_set_rdevmajor(en, 1);
        archive_entry_set_rdevminor(en, 3);
        break;
      default:
        archive_entry_set_filetype(en, AE_IFREG);
        archive_entry_set_size(en, static_cast<la_int64_t>(e.data.size()));
    }
    if (archive_write_header(a, en) != ARCHIVE_OK) throw std::runtime_error(archive_error_string(a));
    if (e.type == 'f' && !e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(en);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

TestLayer layer(const std::vector<TarEntry>& entries, Compression c) {
  TestLayer l;
  l.diff = make_tar(entries, Compression::kNone);
  l.blob = c == Compression::kNone ? l.diff : make_tar(entries, c);
  l.media_type = c == Compression::kGzip   ? "application/vnd.oci.image.layer.v1.tar+gzip"
                 : c == Compression::kZstd ? "application/vnd.oci.image.layer.v1.tar+zstd"
                                           : "application/vnd.oci.image.layer.v1.tar";
  return l;
}

std::string image_config(const std::vector<TestLayer>& layers, const std::string& process) {
  json diff_ids = json::array();
  for (const auto& l : layers) diff_ids.push_back(digest(l.diff));
  json j = {{"architecture", "amd64"},
            {"os", "linux"},
            {"config", json::parse(process)},
            {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  return j.dump();
}

std::string TestImage::manifest() const {
  json layers_json = json::array();
  for (const auto& l : layers)
    layers_json.push_back({{"mediaType", l.media_type}, {"digest", digest(l.blob)}, {"size", l.blob.size()}});
  json m = {{"schemaVersion", 2},
            {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
            {"config",
             {{"mediaType", "application/vnd.oci.image.config.v1+json"},
              {"digest", digest(config)},
              {"size", config.size()}}},
            {"layers", layers_json}};
  return m.dump();
}

void write_oci_layout(const std::string& dir, const TestImage& img, const std::string& tag) {
  for (const auto& [path, data] : layout_files(img, tag)) write_file(dir + "/" + path, data);
}

void write_oci_archive(const std::string& file, const TestImage& img, const std::string& tag) {
  std::vector<TarEntry> entries;
  for (const auto& [path, data] : layout_files(img, tag)) entries.push_back({'f', path, data});
  write_file(file, make_tar(entries));
}

void write_docker_archive(const std::string& file, const TestImage& img, const std::string& repo_tag) {
  std::vector<TarEntry> entries;
  std::string config_name = hex(digest(img.config)) + ".json";
  entries.push_back({'f', config_name, img.config});
  json layers = json::array();
  for (size_t i = 0; i < img.layers.size(); ++i) {
    std::string name = "layer" + std::to_string(i) + "/layer.tar";
    entries.push_back({'d', "layer" + std::to_string(i), "", 0755});
    entries.push_back({'f', name, img.layers[i].diff});
    layers.push_back(name);
  }
  json manifest = json::array({{{"Config", config_name}, {"RepoTags", {repo_tag}}, {"Layers", layers}}});
  entries.push_back({'f', "manifest.json", manifest.dump()});
  write_file(file, make_tar(entries));
}

TestImage busybox_test_image(const std::string& hello) {
  std::vector<TarEntry> base = {
      {'d', "bin", "", 0755},       {'d', "etc", "", 0755}, {'d', "data", "", 0755},
      {'d', "tmp", "", 01777},      {'f', "bin/busybox", read("/bin/busybox"), 0755},
      {'f', "etc/removed.txt", "this file is whited out by the upper layer\n"},
      {'f', "data/a", "a\n"},
  };
  for (const char* applet : {"sh", "cat", "ls", "id", "pwd", "echo", "sleep", "env", "test", "stat", "touch", "rm"})
    base.push_back({'l', std::string("bin/") + applet, "", 0777, "busybox"});
  std::vector<TarEntry> top = {
      {'d', "etc", "", 0755},
      {'f', "etc/.wh.removed.txt", ""},
      {'f', "etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/opt/app:/bin/sh\n"},
      {'f', "etc/group", "root:x:0:\napp:x:1000:\n"},
      {'d', "data", "", 0755},
      {'f', "data/.wh..wh..opq", ""},
      {'f', "data/b", "b\n"},
      {'d', "opt", "", 0755},
      {'d', "opt/app", "", 0755, "", 1000, 1000},
      {'f', "opt/app/hello.txt", "hello from layer 2\n", 0644, "", 1000, 1000},
      {'f', "bin/hello", read(hello), 0755},
  };
  TestImage img;
  img.layers = {layer(base, Compression::kGzip), layer(top, Compression::kZstd)};
  img.config = image_config(img.layers, R"({
    "Env": ["PATH=/bin", "GREETING=hi"],
    "WorkingDir": "/opt/app",
    "User": "app",
    "Entrypoint": ["/bin/sh", "-c"],
    "Cmd": ["echo \"$(id -u):$(id -g) $(pwd) $GREETING\" > /tmp/defaults; exec sleep 100000"]
  })");
  return img;
}

}  // namespace netlab::testing
