#include "topology/pin_hosts.hpp"

#include <sstream>
#include <toml++/toml.h>

#include "util/error.hpp"

namespace netlab::topo {

std::string pin_hosts(const std::string& text, const std::string& file,
                      const std::map<std::string, std::string>& hosts) {
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    throw Error(EINVAL, "{}: {}", file, std::string(e.description()));
  }
  toml::table* nodes = root["nodes"].as_table();
  if (!nodes && !hosts.empty()) throw Error(EINVAL, "{}: no [nodes] table to pin hosts in", file);
  for (const auto& [node, host] : hosts) {
    toml::table* t = (*nodes)[node].as_table();
    if (!t) throw Error(EINVAL, "{}: node {} has no [nodes.{}] table to pin its host in", file, node, node);
    t->insert_or_assign("host", host);
  }
  std::ostringstream out;
  out << root << "\n";
  return out.str();
}

}  // namespace netlab::topo
