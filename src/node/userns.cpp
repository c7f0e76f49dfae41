#include "node/userns.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "util/error.hpp"
#include "util/strings.hpp"

namespace netlab::node {

std::optional<std::pair<uint32_t, uint32_t>> find_subordinate_range(const std::string& text,
                                                                     std::initializer_list<const char*> names) {
  for (const char* wanted : names) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      auto parts = split(trim(line), ':');
      if (parts.size() != 3 || parts[0] != wanted) continue;
      try {
        unsigned long start = std::stoul(parts[1]), count = std::stoul(parts[2]);
        // Root inside needs uid 0 and the usual system ids; a tiny range is no use.
        if (count >= 65536 && start + count <= 0xffffffffUL) return std::pair{static_cast<uint32_t>(start), 65536u};
      } catch (const std::exception&) {
      }
    }
  }
  return std::nullopt;
}

IdRange userns_id_range(const std::string& subuid_path, const std::string& subgid_path) {
  auto read = [](const std::string& path) -> std::string {
    try {
      return read_file(path);
    } catch (const Error&) {
      return "";
    }
  };
  auto uid = find_subordinate_range(read(subuid_path), {"netlab", "root"});
  auto gid = find_subordinate_range(read(subgid_path), {"netlab", "root"});
  if (!uid || !gid) return kDefaultIdRange;
  return IdRange{uid->first, gid->first, std::min(uid->second, gid->second)};
}

void write_id_maps(pid_t pid, const IdRange& range) {
  std::string dir = fmt::format("/proc/{}/", pid);
  with_context(fmt::format("writing the uid map of pid {}", pid),
               [&] { write_file(dir + "uid_map", fmt::format("0 {} {}\n", range.host_uid, range.count)); });
  with_context(fmt::format("writing the gid map of pid {}", pid),
               [&] { write_file(dir + "gid_map", fmt::format("0 {} {}\n", range.host_gid, range.count)); });
}

}  // namespace netlab::node
