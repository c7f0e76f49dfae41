#include "image/registry.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "image/digest.hpp"
#include "image/manifest.hpp"
#include "util/error.hpp"
#include "util/fd.hpp"
#include "util/strings.hpp"

using json = nlohmann::json;

namespace netlab::image {

namespace {

struct Response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lowercase names, last value
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Response*>(user);
  std::string line(data, size * n);
  size_t colon = line.find(':');
  if (line.rfind("HTTP/", 0) == 0) r->headers.clear();  // a redirect's or a 100's headers
  else if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r->headers[name] = std::string(trim(line.substr(colon + 1)));
  }
  return size * n;
}

struct Sink {
  Response* r;
  int fd = -1;  // a blob goes to a file, everything else to r->body
  size_t limit = 0;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  size_t len = size * n;
  if (s->fd >= 0) {
    for (size_t done = 0; done < len;) {
      ssize_t w = ::write(s->fd, data + done, len - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return 0;
      done += static_cast<size_t>(w);
    }
    return len;
  }
  if (s->r->body.size() + len > s->limit) return 0;  // a manifest is small: refuse a flood
  s->r->body.append(data, len);
  return len;
}

class Client {
 public:
  Client(const Reference& ref, const PullOptions& options, std::string what)
      : ref_(ref), what_(std::move(what)), secure_(!is_insecure(ref.registry, options)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    base_ = fmt::format("{}://{}/v2/{}/", secure_ ? "https" : "http", ref.registry, ref.repo);
    if (!options.docker_config.empty() && ::access(options.docker_config.c_str(), R_OK) == 0) {
      try {
        credentials_ = registry_credentials(read_file(options.docker_config), ref.registry);
      } catch (const std::exception&) {
        // An unreadable or malformed config: pull anonymously, as docker does.
      }
    }
  }

  Response get(const std::string& path, const std::string& accept, int fd = -1) {
    Response r = request(base_ + path, accept, fd);
    if (r.status == 401 && !authenticated_) {
      authenticate(r.headers["www-authenticate"]);
      if (fd >= 0 && (::ftruncate(fd, 0) < 0 || ::lseek(fd, 0, SEEK_SET) < 0)) throw_errno("{}: rewinding a download", what_);
      r = request(base_ + path, accept, fd);
    }
    if (r.status != 200) {
      std::string detail;
      try {
        auto j = json::parse(r.body);
        if (j.contains("errors") && j["errors"].is_array() && !j["errors"].empty())
          detail = ": " + j["errors"][0].value("code", "") + " " + j["errors"][0].value("message", "");
      } catch (const std::exception&) {
      }
      int err = r.status == 404 ? ENOENT : (r.status == 401 || r.status == 403) ? EACCES : EPROTO;
      throw Error(err, "{}: GET {}{}: HTTP {}{}", what_, base_, path, r.status, detail);
    }
    return r;
  }

 private:
  Response request(const std::string& url, const std::string& accept, int fd) {
    Response r;
    Sink sink{&r, fd, 4 << 20};
    CURL* c = curl_easy_init();
    if (!c) throw Error(ENOMEM, "{}: starting libcurl", what_);
    struct curl_slist* headers = nullptr;
    if (!accept.empty()) headers = curl_slist_append(headers, ("Accept: " + accept).c_str());
    if (!auth_header_.empty()) headers = curl_slist_append(headers, auth_header_.c_str());
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    // A secure registry's blobs may be redirected to a CDN, over HTTPS only;
    // curl drops the Authorization header when the host changes.
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, secure_ ? "https" : "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, secure_ ? "https" : "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "netlab");
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK)
      throw Error(rc == CURLE_COULDNT_CONNECT ? ECONNREFUSED : rc == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT : EIO,
                  "{}: registry {} unreachable: GET {}: {}", what_, ref_.registry, url, curl_easy_strerror(rc));
    return r;
  }

  void authenticate(const std::string& challenge) {
    authenticated_ = true;
    auto p = parse_challenge(challenge);
    if (p["scheme"] == "basic") {
      if (!credentials_) throw Error(EACCES, "{}: registry {} wants a password; none in the docker config", what_, ref_.registry);
      auth_header_ = "Authorization: Basic " + base64(*credentials_);
      return;
    }
    if (p["scheme"] != "bearer" || p["realm"].empty())
      throw Error(EACCES, "{}: registry {} asks for \"{}\", which netlab cannot answer", what_, ref_.registry, challenge);
    CURL* c = curl_easy_init();
    char* service = curl_easy_escape(c, p["service"].c_str(), 0);
    std::string scope = p.count("scope") ? p["scope"] : "repository:" + ref_.repo + ":pull";
    char* escaped_scope = curl_easy_escape(c, scope.c_str(), 0);
    std::string url = p["realm"] + (p["realm"].find('?') == std::string::npos ? "?" : "&") + "service=" + service +
                      "&scope=" + escaped_scope;
    curl_free(service);
    curl_free(escaped_scope);
    curl_easy_cleanup(c);
    std::string saved = auth_header_;
    if (credentials_) auth_header_ = "Authorization: Basic " + base64(*credentials_);
    Response r = request(url, "", -1);
    auth_header_ = saved;
    if (r.status != 200) throw Error(EACCES, "{}: token from {}: HTTP {}", what_, p["realm"], r.status);
    try {
      auto j = json::parse(r.body);
      std::string token = j.value("token", j.value("access_token", ""));
      if (token.empty()) throw Error(EACCES, "{}: the token service {} gave no token", what_, p["realm"]);
      auth_header_ = "Authorization: Bearer " + token;
    } catch (const json::exception& e) {
      throw Error(EBADMSG, "{}: the token service {} answered no JSON: {}", what_, p["realm"], e.what());
    }
  }

  static std::string base64(const std::string& in) {
    static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    int val = 0, bits = -6;
    for (unsigned char ch : in) {
      val = (val << 8) + ch;
      bits += 8;
      while (bits >= 0) {
        out.push_back(k[(val >> bits) & 0x3F]);
        bits -= 6;
      }
    }
    if (bits > -6) out.push_back(k[((val << 8) >> (bits + 8)) & 0x3F]);
    while (out.size() % 4) out.push_back('=');
    return out;
  }

  const Reference& ref_;
  std::string what_;
  bool secure_;
  std::string base_;
  std::optional<std::string> credentials_;
  std::string auth_header_;
  bool authenticated_ = false;
};

std::string base64_decode(const std::string& in) {
  std::string out;
  int val = 0, bits = -8;
  for (unsigned char c : in) {
    int d;
    if (c >= 'A' && c <= 'Z') d = c - 'A';
    else if (c >= 'a' && c <= 'z') d = c - 'a' + 26;
    else if (c >= '0' && c <= '9') d = c - '0' + 52;
    else if (c == '+') d = 62;
    else if (c == '/') d = 63;
    else break;
    val = (val << 6) + d;
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> parse_challenge(const std::string& header) {
  std::map<std::string, std::string> out;
  std::string h(trim(header));
  size_t sp = h.find(' ');
  std::string scheme = h.substr(0, sp);
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out["scheme"] = scheme;
  if (sp == std::string::npos) return out;
  size_t i = sp + 1;
  while (i < h.size()) {
    while (i < h.size() && (h[i] == ' ' || h[i] == ',')) ++i;
    size_t eq = h.find('=', i);
    if (eq == std::string::npos) break;
    std::string key = h.substr(i, eq - i);
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value;
    i = eq + 1;
    if (i < h.size() && h[i] == '"') {
      size_t end = h.find('"', i + 1);
      if (end == std::string::npos) end = h.size();
      value = h.substr(i + 1, end - i - 1);
      i = end + 1;
    } else {
      size_t end = h.find(',', i);
      if (end == std::string::npos) end = h.size();
      value = std::string(trim(h.substr(i, end - i)));
      i = end;
    }
    out[key] = value;
  }
  return out;
}

std::optional<std::string> registry_credentials(const std::string& config_json, const std::string& registry) {
  auto j = json::parse(config_json);
  if (!j.contains("auths") || !j["auths"].is_object()) return std::nullopt;
  std::vector<std::string> keys = {registry, "https://" + registry, "http://" + registry, "https://" + registry + "/v1/"};
  if (registry == "registry-1.docker.io") keys.push_back("https://index.docker.io/v1/");
  for (const auto& k : keys) {
    if (!j["auths"].contains(k) || !j["auths"][k].is_object()) continue;
    std::string auth = j["auths"][k].value("auth", "");
    if (auth.empty()) continue;
    std::string decoded = base64_decode(auth);
    if (decoded.find(':') != std::string::npos) return decoded;
  }
  return std::nullopt;
}

bool is_insecure(const std::string& registry, const PullOptions& options) {
  std::string host = registry;
  if (!host.empty() && host[0] == '[') host = host.substr(0, host.find(']') + 1);
  else host = host.substr(0, host.find(':'));
  if (host == "localhost" || host == "127.0.0.1" || host == "[::1]") return true;
  for (const auto& r : options.insecure)
    if (r == registry || r == host) return true;
  return false;
}

StoredImage pull_from_registry(Store& store, const Reference& ref, const PullOptions& options, const std::string& what) {
  Client client(ref, options, what);
  std::string wanted = ref.digest.empty() ? ref.tag : ref.digest;
  Response r = client.get("manifests/" + wanted, kAcceptManifests);
  std::string digest = sha256_digest(r.body);
  if (!ref.digest.empty() && digest != ref.digest)
    throw Error(EBADMSG, "{}: digest mismatch: the registry's manifest is {}", what, digest);
  if (r.headers.count("docker-content-digest") && valid_digest(r.headers["docker-content-digest"]) &&
      r.headers["docker-content-digest"] != digest)
    throw Error(EBADMSG, "{}: digest mismatch: the registry says {}, the manifest is {}", what,
                r.headers["docker-content-digest"], digest);
  std::string type = r.headers.count("content-type") ? r.headers["content-type"] : "";
  if (type.find(';') != std::string::npos) type.resize(type.find(';'));
  std::string declared = media_type_of(r.body, what + ": manifest");
  if (!declared.empty()) type = declared;
  if (is_index_type(type)) {
    Descriptor d = pick_platform(parse_index(r.body, what + ": index"), what);
    store.add_blob_data(r.body, digest, what + ": index");
    r = client.get("manifests/" + d.digest, kAcceptManifests);
    digest = sha256_digest(r.body);
    if (digest != d.digest) throw Error(EBADMSG, "{}: digest mismatch: expected manifest {}, got {}", what, d.digest, digest);
  } else if (!is_manifest_type(type)) {
    throw Error(EPROTONOSUPPORT, "{}: unknown media type \"{}\" for a manifest", what, type);
  }
  Manifest m = parse_manifest(r.body, what + ": manifest " + digest);
  store.add_blob_data(r.body, digest, what + ": manifest");
  StoredImage img;
  img.manifest = digest;
  img.config = m.config.digest;
  if (!store.has_blob(m.config.digest)) {
    Response c = client.get("blobs/" + m.config.digest, "");
    store.add_blob_data(c.body, m.config.digest, what + ": config");
  }
  img.defaults = parse_config(store.read_blob(m.config.digest, what), what + ": config " + m.config.digest);
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const auto& l = m.layers[i];
    img.layers.push_back(l.digest);
    if (store.has_blob(l.digest)) continue;
    std::string dir = store.scratch("pull");
    std::string file = dir + "/blob";
    try {
      Fd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      if (!fd) throw_errno("{}: creating {}", what, file);
      client.get("blobs/" + l.digest, "", fd.get());
      store.add_blob_file(file, l.digest, fmt::format("{}: layer {}", what, i + 1));
    } catch (...) {
      ::unlink(file.c_str());
      ::rmdir(dir.c_str());
      throw;
    }
    ::rmdir(dir.c_str());
  }
  return img;
}

}  // namespace netlab::image
