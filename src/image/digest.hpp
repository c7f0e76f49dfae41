// SHA-256 of blobs and layers, streamed (OpenSSL's libcrypto EVP interface:
// the hash every Debian machine already has, constant-time and maintained;
// libarchive only hashes inside its own writers).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace netlab::image {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t size);
  /// "sha256:<64 hex>"; the hasher cannot be used afterwards.
  std::string finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string sha256_digest(std::string_view data);
/// Digest of a file's contents; throws Error naming the file.
std::string sha256_file(const std::string& path);

/// "sha256:<64 lowercase hex>"? (A digest names a file in the store: nothing else may.)
bool valid_digest(const std::string& digest);
/// The hex part of a valid digest; throws Error(EINVAL) naming `what` otherwise.
std::string digest_hex(const std::string& digest, const std::string& what);

}  // namespace netlab::image
