// Image references, registry challenges and credentials: pure parsing, table-driven.
#include <gtest/gtest.h>

#include "image/digest.hpp"
#include "image/image.hpp"
#include "image/manifest.hpp"
#include "image/reference.hpp"
#include "image/registry.hpp"
#include "util/error.hpp"

namespace netlab::image {
namespace {

Reference ok(const std::string& s) {
  std::string why;
  size_t offset = 0;
  auto r = parse_reference(s, why, offset);
  EXPECT_TRUE(r) << s << ": " << why;
  return r.value_or(Reference{});
}

TEST(ImageReference, FileForms) {
  auto r = ok("oci:/srv/layouts/frr:9.1");
  EXPECT_EQ(r.source, Source::kOciLayout);
  EXPECT_EQ(r.path, "/srv/layouts/frr");
  EXPECT_EQ(r.tag, "9.1");
  r = ok("oci:/srv/layout.v2/frr");
  EXPECT_EQ(r.path, "/srv/layout.v2/frr");
  EXPECT_EQ(r.tag, "");
  r = ok("oci-archive:/tmp/a:b.tar");
  EXPECT_EQ(r.source, Source::kOciArchive);
  EXPECT_EQ(r.path, "/tmp/a:b.tar");
  r = ok("docker-archive:/tmp/img.tar");
  EXPECT_EQ(r.source, Source::kDockerArchive);
  EXPECT_EQ(r.str(), "docker-archive:/tmp/img.tar");
}

TEST(ImageReference, RegistryForms) {
  auto r = ok("alpine");
  EXPECT_EQ(r.registry, "registry-1.docker.io");
  EXPECT_EQ(r.repo, "library/alpine");
  EXPECT_EQ(r.tag, "latest");
  EXPECT_EQ(r.str(), "registry-1.docker.io/library/alpine:latest");
  r = ok("quay.io/frrouting/frr:9.1.0");
  EXPECT_EQ(r.registry, "quay.io");
  EXPECT_EQ(r.repo, "frrouting/frr");
  EXPECT_EQ(r.tag, "9.1.0");
  r = ok("localhost:5000/test/img@sha256:" + std::string(64, 'a'));
  EXPECT_EQ(r.registry, "localhost:5000");
  EXPECT_EQ(r.repo, "test/img");
  EXPECT_EQ(r.tag, "");
  EXPECT_EQ(r.digest, "sha256:" + std::string(64, 'a'));
  r = ok("docker.io/alpine:3");
  EXPECT_EQ(r.str(), "registry-1.docker.io/library/alpine:3");
  r = ok("frrouting/frr:v8");
  EXPECT_EQ(r.registry, "registry-1.docker.io");
  EXPECT_EQ(r.repo, "frrouting/frr");
}

TEST(ImageReference, MalformedOnesSayWhyAndWhere) {
  struct Case {
    std::string ref, why_part;
    size_t offset;
  } cases[] = {
      {"oci:relative", "is not an absolute path", 4},
      {"oci:/x:", "the tag after ':' is empty", 6},
      {"docker-archive:", "no path after the prefix", 15},
      {"alpine:a b", "has characters other than", 8},
      {"Alpine", "is not lowercase", 0},
      {"quay.io/a//b", "is not lowercase", 9},
      {"alpine@sha256:12", "is not sha256: and 64 lowercase hex digits", 7},
  };
  for (const auto& c : cases) {
    std::string why;
    size_t offset = 99;
    EXPECT_FALSE(parse_reference(c.ref, why, offset)) << c.ref;
    EXPECT_NE(why.find(c.why_part), std::string::npos) << c.ref << ": " << why;
    EXPECT_EQ(offset, c.offset) << c.ref;
  }
}

TEST(ImageRegistry, ChallengeParameters) {
  auto p = parse_challenge(R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull")");
  EXPECT_EQ(p["scheme"], "bearer");
  EXPECT_EQ(p["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(p["service"], "registry.docker.io");
  EXPECT_EQ(p["scope"], "repository:library/alpine:pull");
  EXPECT_EQ(parse_challenge("Basic realm=\"x\"")["scheme"], "basic");
}

TEST(ImageRegistry, CredentialsFromTheDockerConfig) {
  // "user:secret" in base64, under the keys docker login writes.
  std::string config = R"({"auths": {"https://index.docker.io/v1/": {"auth": "dXNlcjpzZWNyZXQ="},
                                     "quay.io": {"auth": "cTpw"}, "other.io": {}}})";
  EXPECT_EQ(registry_credentials(config, "registry-1.docker.io").value_or(""), "user:secret");
  EXPECT_EQ(registry_credentials(config, "quay.io").value_or(""), "q:p");
  EXPECT_FALSE(registry_credentials(config, "other.io"));
  EXPECT_FALSE(registry_credentials(config, "ghcr.io"));
}

TEST(ImageRegistry, PlainHttpOnlyForLoopbackOrListedRegistries) {
  PullOptions o;
  EXPECT_TRUE(is_insecure("localhost:5000", o));
  EXPECT_TRUE(is_insecure("127.0.0.1:5000", o));
  EXPECT_TRUE(is_insecure("[::1]:5000", o));
  EXPECT_FALSE(is_insecure("quay.io", o));
  EXPECT_FALSE(is_insecure("10.0.0.5:5000", o));
  o.insecure = {"10.0.0.5:5000"};
  EXPECT_TRUE(is_insecure("10.0.0.5:5000", o));
  EXPECT_FALSE(is_insecure("10.0.0.5:5001", o));
}

TEST(ImageManifest, UnknownMediaTypesAreRefused) {
  std::string layer = R"({"mediaType": "application/vnd.example.layer.v1.squashfs", "digest": "sha256:)" +
                      std::string(64, 'b') + R"(", "size": 1})";
  std::string manifest = R"({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:)" +
                         std::string(64, 'a') + R"(", "size": 2}, "layers": [)" + layer + "]}";
  try {
    parse_manifest(manifest, "image X");
    ADD_FAILURE() << "accepted a squashfs layer";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has the unknown media type \"application/vnd.example.layer.v1.squashfs\""),
              std::string::npos)
        << e.what();
  }
  std::string helm = R"({"schemaVersion": 2, "mediaType": "application/vnd.cncf.helm.chart.v1", "config": {}, "layers": []})";
  EXPECT_THROW(parse_manifest(helm, "image Y"), Error);
}

TEST(ImageManifest, AnIndexPicksLinuxOfTheHostArchitecture) {
  std::string index = R"({"schemaVersion": 2, "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:)" + std::string(64, '1') +
                      R"(", "platform": {"os": "linux", "architecture": "arm64"}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:)" + std::string(64, '2') +
                      R"(", "platform": {"os": "linux", "architecture": "amd64"}}]})";
  auto picked = pick_platform(parse_index(index, "i"), "i");
#if defined(__x86_64__)
  EXPECT_EQ(picked.digest, "sha256:" + std::string(64, '2'));
#endif
  std::string only_arm = R"({"schemaVersion": 2, "manifests": [{"digest": "sha256:)" + std::string(64, '1') +
                         R"(", "platform": {"os": "linux", "architecture": "riscv64"}}]})";
  try {
    pick_platform(parse_index(only_arm, "image Z"), "image Z");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("(it has linux/riscv64)"), std::string::npos) << e.what();
  }
}

TEST(ImageDigest, Sha256AndNames) {
  EXPECT_EQ(sha256_digest("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(valid_digest(sha256_digest("")));
  EXPECT_FALSE(valid_digest("sha256:../../etc/passwd"));
  EXPECT_FALSE(valid_digest("sha256:" + std::string(64, 'A')));
  EXPECT_FALSE(valid_digest("sha512:" + std::string(64, 'a')));
}

}  // namespace
}  // namespace netlab::image
