// OCI images in the real backend: each reference resolved (imported or
// pulled, verified, unpacked) once per run, and the image config's process
// defaults (Entrypoint/Cmd, Env, WorkingDir, User) under the topology's keys.
#include <cerrno>
#include <charconv>
#include <optional>

#include "lab/image_defaults.hpp"
#include "lab/real_backend_impl.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

namespace netlab::lab {

namespace {

bool parse_uint(const std::string& s, uint32_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// The lines of `file` ("etc/passwd") in the first of the image's layers (top first) that has it.
std::vector<std::vector<std::string>> table(const std::vector<std::string>& layers, const std::string& file) {
  for (const auto& layer : layers) {
    std::string text;
    try {
      text = read_file(layer + "/" + file);
    } catch (const Error&) {
      continue;
    }
    std::vector<std::vector<std::string>> out;
    for (const auto& line : split(text, '\n')) out.push_back(split(line, ':'));
    return out;
  }
  return {};
}

}  // namespace

const image::Resolved& RealBackend::oci_image(const topo::Node& n) {
  auto it = oci_images_.find(n.image.path);
  if (it != oci_images_.end()) return it->second;
  auto resolved = image::ensure_image(image::store_root(facts_.state_dir), n.image.path, image::pull_options_from_env());
  return oci_images_.emplace(n.image.path, std::move(resolved)).first->second;
}

ProcessDefaults image_process_defaults(const topo::Node& n, const image::Resolved& img) {
  ProcessDefaults s;
  s.env = n.env;
  if (n.cmd) s.cmd = n.cmd->argv;
  if (n.user) s.user = std::make_pair(n.user->uid, n.user->gid);
  const auto& d = img.defaults;
  // The topology's cmd replaces the image's whole command (Entrypoint and Cmd).
  if (!n.cmd) {
    s.cmd = d.entrypoint;
    s.cmd.insert(s.cmd.end(), d.cmd.begin(), d.cmd.end());
  }
  for (const auto& kv : d.env) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::string key = kv.substr(0, eq);
    if (!n.env.count(key)) s.env[key] = kv.substr(eq + 1);
  }
  s.workdir = d.workdir;
  if (!n.user && !d.user.empty()) {
    // "uid", "name", "uid:gid" or "name:group", names looked up in the image's files.
    auto parts = split(d.user, ':');
    auto passwd = table(img.lower, "etc/passwd");
    std::optional<uint32_t> uid, gid;
    uint32_t v = 0;
    if (parse_uint(parts[0], v)) uid = v;
    for (const auto& f : passwd)
      if (f.size() >= 4 && (f[0] == parts[0] || (uid && f[2] == parts[0]))) {
        if (!uid && parse_uint(f[2], v)) uid = v;
        if (parse_uint(f[3], v)) gid = v;
        break;
      }
    if (!uid) throw Error(ENOENT, "node {}: image {}: user \"{}\" is not in the image's /etc/passwd", n.name, img.ref, parts[0]);
    if (parts.size() > 1) {
      gid.reset();
      if (parse_uint(parts[1], v)) gid = v;
      for (const auto& f : table(img.lower, "etc/group"))
        if (!gid && f.size() >= 3 && f[0] == parts[1] && parse_uint(f[2], v)) gid = v;
      if (!gid) throw Error(ENOENT, "node {}: image {}: group \"{}\" is not in the image's /etc/group", n.name, img.ref, parts[1]);
    }
    s.user = std::make_pair(*uid, gid.value_or(0));
  }
  return s;
}

std::optional<ProcessDefaults> stored_process_defaults(const HostFacts& facts, const topo::Node& n) {
  if (n.image.kind != topo::ImageKind::kOci) return std::nullopt;
  std::string why;
  size_t offset;
  auto ref = image::parse_reference(n.image.path, why, offset);
  if (!ref) return std::nullopt;
  image::Store store(image::store_root(facts.state_dir));
  auto stored = store.find(ref->str());
  if (!stored) return std::nullopt;
  image::Resolved img;
  img.ref = stored->ref;
  img.manifest = stored->manifest;
  img.defaults = stored->defaults;
  for (auto it = stored->layers.rbegin(); it != stored->layers.rend(); ++it) img.lower.push_back(store.layer_path(*it));
  return image_process_defaults(n, img);
}

void RealBackend::apply_image_defaults(const topo::Node& n, node::NodeSpec& s) {
  auto d = image_process_defaults(n, oci_image(n));
  s.cmd = d.cmd;
  s.env = d.env;
  s.user = d.user;
  s.workdir = d.workdir;
}

}  // namespace netlab::lab
