// Small string helpers shared by every module.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace netlab {

std::vector<std::string> split(std::string_view s, char sep);
std::string_view trim(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
/// Levenshtein distance, for "did you mean" hints.
size_t edit_distance(std::string_view a, std::string_view b);
/// The candidate closest to `word` within a small distance, or "" if none is close.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

/// "/proc/sys/net/ipv4/ip_forward" for "net.ipv4.ip_forward". Inline: the
/// static node init uses it without linking util.
inline std::string sysctl_path(const std::string& key) {
  std::string path = "/proc/sys/" + key;
  for (size_t i = std::string_view("/proc/sys/").size(); i < path.size(); ++i)
    if (path[i] == '.') path[i] = '/';
  return path;
}

/// Reads a whole (small) file; throws netlab::Error with the path on failure.
std::string read_file(const std::string& path);
/// Writes `data` to `path` (O_WRONLY|O_CREAT|O_TRUNC); throws Error on failure.
void write_file(const std::string& path, std::string_view data, int mode = 0644);

}  // namespace netlab
