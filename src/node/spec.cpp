#include "node/spec.hpp"

#include <nlohmann/json.hpp>

namespace netlab::node {

using nlohmann::json;

std::string encode_spec(const NodeSpec& spec) {
  json binds = json::array();
  for (const auto& b : spec.binds) binds.push_back({b.host_path, b.node_path, b.read_only});
  json j = {
      {"name", spec.name},
      {"hostname", spec.hostname},
      {"rootfs", static_cast<int>(spec.rootfs)},
      {"lower", spec.lower},
      {"node_dir", spec.node_dir},
      {"binds", binds},
      {"env", spec.env},
      {"sysctls", spec.sysctls},
      {"forwarding", spec.forwarding},
      {"sysfs", spec.sysfs},
      {"exec", spec.exec},
      {"cmd", spec.cmd},
      {"sys_admin", spec.sys_admin},
  };
  if (spec.userns) j["userns"] = {spec.userns->host_uid, spec.userns->host_gid, spec.userns->count};
  if (!spec.var_lower.empty()) j["var_lower"] = spec.var_lower;
  if (!spec.hosts_layer.empty()) j["hosts_layer"] = spec.hosts_layer;
  if (spec.user) j["user"] = {spec.user->first, spec.user->second};
  if (!spec.workdir.empty()) j["workdir"] = spec.workdir;
  return j.dump();
}

NodeSpec decode_spec(std::string_view message) {
  json j = json::parse(message);
  NodeSpec s;
  j.at("name").get_to(s.name);
  j.at("hostname").get_to(s.hostname);
  s.rootfs = static_cast<RootfsKind>(j.at("rootfs").get<int>());
  j.at("lower").get_to(s.lower);
  j.at("node_dir").get_to(s.node_dir);
  for (const auto& b : j.at("binds")) s.binds.push_back({b.at(0).get<std::string>(), b.at(1).get<std::string>(), b.at(2).get<bool>()});
  j.at("env").get_to(s.env);
  j.at("sysctls").get_to(s.sysctls);
  j.at("forwarding").get_to(s.forwarding);
  if (j.contains("sysfs")) j["sysfs"].get_to(s.sysfs);
  j.at("exec").get_to(s.exec);
  j.at("cmd").get_to(s.cmd);
  j.at("sys_admin").get_to(s.sys_admin);
  if (j.contains("userns")) {
    const auto& u = j["userns"];
    s.userns = IdRange{u.at(0).get<uint32_t>(), u.at(1).get<uint32_t>(), u.at(2).get<uint32_t>()};
  }
  if (j.contains("var_lower")) j["var_lower"].get_to(s.var_lower);
  if (j.contains("hosts_layer")) j["hosts_layer"].get_to(s.hosts_layer);
  if (j.contains("user")) s.user = std::pair{j["user"].at(0).get<uint32_t>(), j["user"].at(1).get<uint32_t>()};
  if (j.contains("workdir")) j["workdir"].get_to(s.workdir);
  return s;
}

}  // namespace netlab::node
