// Image references as a topology writes them: "oci:PATH[:TAG]",
// "oci-archive:FILE", "docker-archive:FILE", or a registry reference
// "[REGISTRY/]REPO[:TAG|@sha256:HEX]". Pure parsing, no I/O.
#pragma once

#include <optional>
#include <string>

namespace netlab::image {

enum class Source { kOciLayout, kOciArchive, kDockerArchive, kRegistry };

struct Reference {
  Source source = Source::kRegistry;
  std::string path;      // layouts and archives: the file or directory
  std::string tag;       // oci: the ref.name annotation wanted ("" = the only manifest); registry: tag
  std::string registry;  // registry: host[:port] ("registry-1.docker.io" when none is written)
  std::string repo;      // registry: "library/alpine"
  std::string digest;    // registry: "sha256:…" when pinned
  /// The canonical string: what the store records and `images ls` prints.
  std::string str() const;
};

/// Whether `s` names an image of this module (as opposed to busybox, host or a path).
bool is_image_reference(const std::string& s);

/// Parses `s`; on a malformed reference returns nullopt and sets `why`
/// ("the tag \"a b\" has characters other than [A-Za-z0-9_.-]"), and `offset`
/// to the offending character's position in `s`.
std::optional<Reference> parse_reference(const std::string& s, std::string& why, size_t& offset);

}  // namespace netlab::image
