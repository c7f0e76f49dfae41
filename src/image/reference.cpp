#include "image/reference.hpp"

#include <fmt/format.h>

#include <cctype>

namespace netlab::image {

namespace {

constexpr const char* kDockerHub = "registry-1.docker.io";

bool tag_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; }
bool repo_char(char c) {
  return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_' ||
         c == '.' || c == '-' || c == '/';
}

}  // namespace

std::string Reference::str() const {
  switch (source) {
    case Source::kOciLayout: return "oci:" + path + (tag.empty() ? "" : ":" + tag);
    case Source::kOciArchive: return "oci-archive:" + path;
    case Source::kDockerArchive: return "docker-archive:" + path;
    case Source::kRegistry: break;
  }
  std::string s = registry + "/" + repo;
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

bool is_image_reference(const std::string& s) { return !s.empty() && s != "busybox" && s != "host" && s[0] != '/'; }

std::optional<Reference> parse_reference(const std::string& s, std::string& why, size_t& offset) {
  Reference r;
  offset = 0;
  auto prefixed = [&](const char* p, Source src) {
    std::string pre(p);
    if (s.compare(0, pre.size(), pre) != 0) return false;
    r.source = src;
    r.path = s.substr(pre.size());
    offset = pre.size();
    return true;
  };
  if (prefixed("oci:", Source::kOciLayout) || prefixed("oci-archive:", Source::kOciArchive) ||
      prefixed("docker-archive:", Source::kDockerArchive)) {
    if (r.source == Source::kOciLayout) {
      // oci:PATH:TAG — the tag is after the last ':' when that ':' follows the last '/'.
      size_t colon = r.path.rfind(':');
      size_t slash = r.path.rfind('/');
      if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
        r.tag = r.path.substr(colon + 1);
        r.path.resize(colon);
        if (r.tag.empty()) {
          why = "the tag after ':' is empty";
          offset += colon;
          return std::nullopt;
        }
      }
    }
    if (r.path.empty()) {
      why = "no path after the prefix";
      return std::nullopt;
    }
    if (r.path.front() != '/') {
      why = fmt::format("\"{}\" is not an absolute path", r.path);
      return std::nullopt;
    }
    return r;
  }
  // REGISTRY/REPO[:TAG][@sha256:HEX]
  std::string rest = s;
  size_t at = rest.find('@');
  if (at != std::string::npos) {
    r.digest = rest.substr(at + 1);
    rest.resize(at);
    bool ok = r.digest.size() == 7 + 64 && r.digest.compare(0, 7, "sha256:") == 0;
    for (size_t i = 7; ok && i < r.digest.size(); ++i) ok = std::isxdigit(static_cast<unsigned char>(r.digest[i])) &&
                                                           !std::isupper(static_cast<unsigned char>(r.digest[i]));
    if (!ok) {
      why = fmt::format("the digest \"{}\" is not sha256: and 64 lowercase hex digits", r.digest);
      offset = at + 1;
      return std::nullopt;
    }
  }
  size_t slash = rest.find('/');
  std::string first = slash == std::string::npos ? "" : rest.substr(0, slash);
  // The first component names a registry when it has a '.' or ':' or is "localhost" (Docker's rule).
  if (!first.empty() && (first.find('.') != std::string::npos || first.find(':') != std::string::npos ||
                         first == "localhost")) {
    r.registry = first;
    if (first == "docker.io" || first == "index.docker.io") r.registry = kDockerHub;  // Docker's aliases
    rest = rest.substr(slash + 1);
    offset = slash + 1;
  } else {
    r.registry = kDockerHub;
  }
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos) {
    r.tag = rest.substr(colon + 1);
    rest.resize(colon);
    if (r.tag.empty() || r.tag.size() > 128) {
      why = "the tag after ':' is empty or longer than 128 characters";
      offset += colon + 1;
      return std::nullopt;
    }
    for (size_t i = 0; i < r.tag.size(); ++i)
      if (!tag_char(r.tag[i])) {
        why = fmt::format("the tag \"{}\" has characters other than [A-Za-z0-9_.-]", r.tag);
        offset += colon + 1 + i;
        return std::nullopt;
      }
  }
  if (rest.empty()) {
    why = "no repository name";
    return std::nullopt;
  }
  for (size_t i = 0; i < rest.size(); ++i)
    if (!repo_char(rest[i]) || (rest[i] == '/' && (i == 0 || i + 1 == rest.size() || rest[i + 1] == '/'))) {
      why = fmt::format("the repository \"{}\" is not lowercase [a-z0-9._-] components separated by '/'", rest);
      offset += i;
      return std::nullopt;
    }
  if (r.registry == kDockerHub && rest.find('/') == std::string::npos) rest = "library/" + rest;
  r.repo = rest;
  if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
  return r;
}

}  // namespace netlab::image
