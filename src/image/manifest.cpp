#include "image/manifest.hpp"

#include <cerrno>
#include <nlohmann/json.hpp>

#include "image/digest.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

using json = nlohmann::json;

namespace netlab::image {

const char* const kAcceptManifests =
    "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";

namespace {

json parse_json(const std::string& data, const std::string& what) {
  try {
    auto j = json::parse(data);
    if (!j.is_object()) throw Error(EBADMSG, "{}: not a JSON object", what);
    return j;
  } catch (const json::exception& e) {
    throw Error(EBADMSG, "{}: malformed JSON: {}", what, e.what());
  }
}

Descriptor descriptor(const json& j, const std::string& what) {
  if (!j.is_object()) throw Error(EBADMSG, "{}: a descriptor is not an object", what);
  Descriptor d;
  d.media_type = j.value("mediaType", "");
  d.digest = j.value("digest", "");
  if (!valid_digest(d.digest)) throw Error(EBADMSG, "{}: \"{}\" is not a sha256 digest", what, d.digest);
  if (j.contains("size") && j["size"].is_number_integer()) d.size = j["size"].get<int64_t>();
  if (j.contains("platform") && j["platform"].is_object()) {
    d.os = j["platform"].value("os", "");
    d.architecture = j["platform"].value("architecture", "");
  }
  if (j.contains("annotations") && j["annotations"].is_object())
    d.ref_name = j["annotations"].value("org.opencontainers.image.ref.name", "");
  return d;
}

std::vector<std::string> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.contains(key) || !j[key].is_array()) return out;
  for (const auto& s : j[key])
    if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

std::string host_architecture() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#else
  return "unknown";
#endif
}

}  // namespace

bool is_index_type(const std::string& t) {
  return t == "application/vnd.oci.image.index.v1+json" ||
         t == "application/vnd.docker.distribution.manifest.list.v2+json";
}

bool is_manifest_type(const std::string& t) {
  return t == "application/vnd.oci.image.manifest.v1+json" ||
         t == "application/vnd.docker.distribution.manifest.v2+json";
}

std::string media_type_of(const std::string& data, const std::string& what) {
  return parse_json(data, what).value("mediaType", "");
}

std::vector<Descriptor> parse_index(const std::string& data, const std::string& what) {
  auto j = parse_json(data, what);
  if (!j.contains("manifests") || !j["manifests"].is_array()) throw Error(EBADMSG, "{}: no \"manifests\" list", what);
  std::vector<Descriptor> out;
  for (const auto& m : j["manifests"]) out.push_back(descriptor(m, what));
  return out;
}

Descriptor pick_platform(const std::vector<Descriptor>& entries, const std::string& what) {
  std::string arch = host_architecture();
  std::vector<std::string> have;
  for (const auto& e : entries) {
    if ((e.os.empty() || e.os == "linux") && (e.architecture.empty() || e.architecture == arch)) return e;
    have.push_back(e.os + "/" + e.architecture);
  }
  throw Error(ENOENT, "{}: no linux/{} image (it has {})", what, arch, have.empty() ? "none" : join(have, ", "));
}

Manifest parse_manifest(const std::string& data, const std::string& what) {
  auto j = parse_json(data, what);
  std::string type = j.value("mediaType", "");
  if (!type.empty() && !is_manifest_type(type))
    throw Error(EPROTONOSUPPORT, "{}: unknown media type \"{}\" for a manifest", what, type);
  if (j.value("schemaVersion", 0) != 2) throw Error(EPROTONOSUPPORT, "{}: schemaVersion is not 2", what);
  if (!j.contains("config")) throw Error(EBADMSG, "{}: no config", what);
  Manifest m;
  m.config = descriptor(j["config"], what + " config");
  if (!j.contains("layers") || !j["layers"].is_array()) throw Error(EBADMSG, "{}: no layers list", what);
  for (const auto& l : j["layers"]) {
    Descriptor d = descriptor(l, what + " layer");
    static const char* const kLayerTypes[] = {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    };
    bool known = false;
    for (const char* t : kLayerTypes) known = known || d.media_type == t;
    if (!known) throw Error(EPROTONOSUPPORT, "{}: layer {} has the unknown media type \"{}\"", what, d.digest, d.media_type);
    m.layers.push_back(d);
  }
  return m;
}

ImageConfig parse_config(const std::string& data, const std::string& what, std::vector<std::string>* diff_ids) {
  auto j = parse_json(data, what);
  ImageConfig c;
  if (j.contains("os") && j["os"].is_string() && j["os"] != "linux")
    throw Error(EPROTONOSUPPORT, "{}: the image is for {}, not linux", what, j["os"].get<std::string>());
  if (j.contains("config") && j["config"].is_object()) {
    const auto& cfg = j["config"];
    c.entrypoint = strings(cfg, "Entrypoint");
    c.cmd = strings(cfg, "Cmd");
    c.env = strings(cfg, "Env");
    c.workdir = cfg.value("WorkingDir", "");
    c.user = cfg.value("User", "");
  }
  if (diff_ids && j.contains("rootfs") && j["rootfs"].is_object()) *diff_ids = strings(j["rootfs"], "diff_ids");
  return c;
}

}  // namespace netlab::image
