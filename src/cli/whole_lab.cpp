#include "cli/whole_lab.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include "cli/exit_codes.hpp"
#include "cli/multihost.hpp"
#include "cluster/remote.hpp"
#include "lab/inspect.hpp"
#include "lab/state.hpp"
#include "lab/stats.hpp"
#include "util/strings.hpp"

namespace netlab::cli {

using nlohmann::json;

int WholeLab::host_of(const std::string& node) const {
  int i = lab.find_node(node);
  return i < 0 ? -1 : placement.node_host[i];
}

std::vector<int> WholeLab::reachable(std::vector<std::string>* unreachable) const {
  std::vector<int> out;
  for (size_t h = 0; h < lab.hosts.size(); ++h) {
    if (static_cast<int>(h) == self) continue;
    if (!lab.hosts[h].ssh.empty()) out.push_back(static_cast<int>(h));
    else if (unreachable) unreachable->push_back(lab.hosts[h].name);
  }
  return out;
}

std::optional<WholeLab> deployed_whole_lab(const lab::HostFacts& facts, const std::string& name) {
  // Only a host's part of a multi-host lab has a part-host file: the others
  // are answered without reading the journal (which the verb reads anyway; at
  // 10 000 nodes that read is a third of a second).
  if (lab::read_part_host(facts, name).empty()) return std::nullopt;
  lab::LabState state;
  try {
    state = lab::read_lab_state(facts, name);
  } catch (const Error&) {
    return std::nullopt;
  }
  if (!state.whole) return std::nullopt;
  WholeLab w{std::move(*state.whole), {}, -1};
  w.self = w.lab.find_host(state.part_host);
  w.placement = cluster::place(w.lab);
  return w;
}

WholeLab whole_lab_of(const topo::Lab& lab, const lab::HostFacts& facts) {
  WholeLab w{lab, cluster::place(lab), -1};
  auto labs = lab::list_labs(facts);
  if (std::find(labs.begin(), labs.end(), lab.name) != labs.end()) w.self = lab.find_host(lab::read_part_host(facts, lab.name));
  return w;
}

namespace {

void warn_unreachable(const WholeLab& w, const std::vector<std::string>& unreachable, const std::string& verb) {
  if (unreachable.empty()) return;
  std::cerr << fmt::format(
      "netlab: lab {}: host{} {} {} no ssh target; run `netlab {} --local` on {} for {} part{}\n", w.name(),
      unreachable.size() > 1 ? "s" : "", join(unreachable, ", "), unreachable.size() > 1 ? "have" : "has", verb,
      unreachable.size() > 1 ? "each" : "it", unreachable.size() > 1 ? "their" : "its",
      unreachable.size() > 1 ? "s" : "");
}

std::string indent(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += "  " + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

// Runs the same netlab arguments on each host of `hosts`.
std::vector<cluster::RemoteResult> on_hosts(const WholeLab& w, const std::vector<int>& hosts,
                                            const std::vector<std::string>& args) {
  return cluster::run_on_hosts(w.lab, hosts, std::vector<std::vector<std::string>>(hosts.size(), args));
}

}  // namespace

int destroy_whole_lab(const WholeLab& w, const lab::HostFacts& facts) {
  std::vector<std::string> unreachable;
  std::vector<int> hosts = w.reachable(&unreachable);
  std::vector<cluster::RemoteResult> remote;
  std::thread far([&] { remote = on_hosts(w, hosts, {"destroy", "--lab", w.name(), "--local"}); });
  int rc = kExitOk;
  if (w.self >= 0) {
    try {
      auto r = lab::destroy_lab(w.name(), facts, real_backend_factory(facts));
      if (!r.report.ok()) {
        std::cerr << fmt::format("netlab: host {}: lab {}: {} objects could not be removed:\n", w.lab.hosts[w.self].name,
                                 w.name(), r.report.failures.size());
        for (const auto& f : r.report.failures) std::cerr << "  " << f << "\n";
        rc = kExitPartial;
      } else {
        std::cout << fmt::format("host {}: lab {} destroyed: {} objects in {:.2f} s\n", w.lab.hosts[w.self].name,
                                 w.name(), r.report.removed, r.seconds);
      }
    } catch (const Error& e) {
      std::cerr << fmt::format("netlab: host {}: destroy {}: {}\n", w.lab.hosts[w.self].name, w.name(), message_for(e));
      rc = std::max(rc, exit_code_for(e));
    }
  }
  far.join();
  for (const auto& r : remote) {
    const auto& h = w.lab.hosts[r.host];
    if (r.exit_code == 0) {
      std::cout << fmt::format("host {}: {}", h.name, r.output);
      continue;
    }
    std::cerr << fmt::format("netlab: host {} ({}): destroy failed (exit {}):\n{}", h.name, h.ssh, r.exit_code,
                             indent(r.output));
    // ssh itself failing leaves that host's part in an unknown state: not done.
    rc = std::max(rc, r.exit_code == 255 ? kExitPartial : r.exit_code);
  }
  warn_unreachable(w, unreachable, "destroy --lab " + w.name());
  return rc;
}

json inspect_whole_lab(const WholeLab& w, const lab::HostFacts& facts, const std::vector<std::string>& extra,
                       bool* ok) {
  *ok = true;
  std::vector<std::string> unreachable;
  std::vector<int> hosts = w.reachable(&unreachable);
  std::vector<std::string> args = {"inspect", w.name(), "--local", "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<cluster::RemoteResult> remote;
  std::thread far([&] { remote = on_hosts(w, hosts, args); });
  std::vector<std::pair<int, json>> parts;
  json host_list = json::array();
  std::vector<std::string> errors(w.lab.hosts.size());
  if (w.self >= 0) {
    try {
      bool stats = std::find(extra.begin(), extra.end(), "--stats") != extra.end();
      bool raw = std::find(extra.begin(), extra.end(), "--raw") != extra.end();
      parts.push_back({w.self, stats ? lab::interface_stats(facts, w.name()) : lab::inspect_lab(facts, w.name(), raw)});
    } catch (const Error& e) {
      errors[w.self] = message_for(e);
    }
  }
  far.join();
  for (const auto& r : remote) {
    json j = r.exit_code == 0 ? json::parse(r.out, nullptr, false) : json();
    if (r.exit_code == 0 && !j.is_discarded() && j.is_object()) {
      parts.push_back({r.host, std::move(j)});
      continue;
    }
    std::string why = r.exit_code == 0 ? "its answer is not JSON" : r.err.empty() ? r.output : r.err;
    while (!why.empty() && why.back() == '\n') why.pop_back();
    errors[r.host] = fmt::format("exit {}: {}", r.exit_code, why);
  }
  for (const auto& name : unreachable) errors[w.lab.find_host(name)] = "no ssh target (run netlab inspect --local there)";

  std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  json merged = json::object();
  merged["name"] = w.name();
  for (auto& [h, part] : parts) {
    const std::string& host = w.lab.hosts[h].name;
    for (auto& [key, value] : part.items()) {
      if (value.is_array()) {
        if (!merged.contains(key)) merged[key] = json::array();
        for (auto& item : value) {
          if (item.is_object()) item["host"] = host;
          merged[key].push_back(std::move(item));
        }
      } else if (!merged.contains(key) && key != "state_dir") {
        merged[key] = value;
      }
    }
  }
  for (size_t h = 0; h < w.lab.hosts.size(); ++h) {
    const auto& host = w.lab.hosts[h];
    json entry = {{"name", host.name}, {"address", host.address.str()}, {"ssh", host.ssh},
                  {"here", static_cast<int>(h) == w.self}, {"ok", errors[h].empty()}};
    if (!errors[h].empty()) {
      entry["error"] = errors[h];
      *ok = false;
      std::cerr << fmt::format("netlab: inspect: host {}: {}\n", host.name, errors[h]);
    }
    host_list.push_back(std::move(entry));
  }
  merged["hosts"] = std::move(host_list);
  bool stats = std::find(extra.begin(), extra.end(), "--stats") != extra.end();
  for (const char* key : {stats ? "interfaces" : "nodes", "bridges"})
    if (!merged.contains(key)) merged[key] = json::array();
  return merged;
}

namespace {

std::vector<std::string> group_order(const topo::Lab& lab) {
  std::vector<std::string> order;
  for (const auto& c : lab.checks)
    if (std::find(order.begin(), order.end(), c.group) == order.end()) order.push_back(c.group);
  return order;
}

}  // namespace

int test_whole_lab(const topo::Lab& lab, const std::string& file, bool keep, int jobs,
                   std::vector<lab::CheckResult>& results) {
  WholeLab w{lab, cluster::place(lab), -1};
  std::vector<std::string> missing;
  for (const auto& h : lab.hosts)
    if (h.ssh.empty()) missing.push_back(h.name);
  if (!missing.empty()) {
    std::cerr << fmt::format(
        "netlab test: lab {} spans {} hosts and {} {} no ssh target: the checks run on each node's host over ssh; "
        "run `netlab test {} --host NAME` on each host instead\n",
        lab.name, lab.hosts.size(), join(missing, ", "), missing.size() > 1 ? "have" : "has", file);
    return kExitUserError;
  }
  std::vector<int> all;
  for (size_t h = 0; h < lab.hosts.size(); ++h) all.push_back(static_cast<int>(h));

  // Deployed on every host, on none (then deployed here, over ssh), or refused.
  std::vector<std::string> have, lack;
  for (const auto& r : on_hosts(w, all, {"ls", "--json"})) {
    json j = json::parse(r.out, nullptr, false);
    if (r.exit_code != 0 || !j.is_array()) {
      std::cerr << fmt::format("netlab test: host {} ({}): cannot list its labs (exit {}):\n{}",
                               lab.hosts[r.host].name, lab.hosts[r.host].ssh, r.exit_code, indent(r.output));
      return kExitSystemError;
    }
    bool found = std::any_of(j.begin(), j.end(), [&](const json& e) { return e.value("name", "") == lab.name; });
    (found ? have : lack).push_back(lab.hosts[r.host].name);
  }
  bool deployed_here = false;
  if (have.empty()) {
    if (int rc = deploy_over_ssh(lab, file, std::cerr); rc != kExitOk) return rc;
    deployed_here = true;
  } else if (!lack.empty()) {
    std::cerr << fmt::format(
        "netlab test: lab {} is deployed on {} but not on {}: destroy it (netlab destroy {}) or deploy the "
        "missing part{} (netlab deploy {} --host NAME), then test again\n",
        lab.name, join(have, ", "), join(lack, ", "), file, lack.size() > 1 ? "s" : "", file);
    return kExitUserError;
  }

  // Group after group: each host runs its checks of the group; a failure skips later groups.
  int rc = kExitOk;
  auto order = group_order(lab);
  bool failed = false;
  std::string failed_group;
  for (size_t g = 0; g < order.size(); ++g) {
    std::vector<int> hosts;
    std::vector<std::vector<lab::HostCheck>> subsets(lab.hosts.size());
    for (int h : all) {
      subsets[h] = lab::checks_of_host(lab, h, static_cast<int>(g), nullptr);
      if (!subsets[h].empty()) hosts.push_back(h);
    }
    if (failed) {
      for (const auto& c : lab.checks)
        if (c.group == order[g])
          results.push_back({c.name, "", c.from, "", failed_group.empty() ? "skipped: an earlier check failed"
                                                                           : "skipped: group " + failed_group + " failed",
                             false, 0, 0, c.group, true, lab.hosts[w.host_of(c.from)].name});
      continue;
    }
    // A connect check whose listener's node runs on another host: that host
    // listens first (test --listen-for), its node's host only connects.
    std::map<size_t, std::unique_ptr<cluster::RemoteProcess>> listeners;
    std::map<size_t, std::string> heard;  // check index -> the listener's line
    for (int h : hosts)
      for (const auto& hc : subsets[h]) {
        if (hc.listener_host < 0) continue;
        const auto& t = lab.hosts[hc.listener_host];
        try {
          auto p = std::make_unique<cluster::RemoteProcess>(
              t, hc.listener_host,
              std::vector<std::string>{"test", file, "--host", t.name, "--listen-for", std::to_string(hc.index)});
          auto ready = p->read_line(15'000);
          if (ready == std::optional<std::string>("ready")) {
            listeners[hc.index] = std::move(p);
            continue;
          }
          auto r = p->finish();
          std::string why = ready && !ready->empty() ? *ready : r.err;
          while (!why.empty() && why.back() == '\n') why.pop_back();
          heard[hc.index] = fmt::format("error could not start on host {}: {}", t.name, why.empty() ? "no answer" : why);
        } catch (const Error& e) {
          heard[hc.index] = fmt::format("error could not start on host {}: {}", t.name, e.what());
        }
      }
    std::vector<std::vector<std::string>> args;
    for (int h : hosts)
      args.push_back({"test", file, "--host", lab.hosts[h].name, "--group-index", std::to_string(g), "--json",
                      "--jobs", std::to_string(jobs), "--remote-listeners"});
    auto runs = cluster::run_on_hosts(lab, hosts, args);
    for (auto& [index, p] : listeners) {
      p->close_stdin();  // the connection came, or never will: say what you saw
      heard[index] = p->read_line(15'000).value_or("none");
      p->finish();
    }
    for (const auto& r : runs) {
      json j = json::parse(r.out, nullptr, false);
      if ((r.exit_code != kExitOk && r.exit_code != kExitChecksFailed) || !j.is_array() ||
          j.size() != subsets[r.host].size()) {
        std::cerr << fmt::format("netlab test: host {} ({}): running its checks failed (exit {}):\n{}",
                                 lab.hosts[r.host].name, lab.hosts[r.host].ssh, r.exit_code, indent(r.output));
        rc = kExitSystemError;
        failed = true;
        continue;
      }
      for (size_t k = 0; k < j.size(); ++k) {
        lab::CheckResult c = lab::check_result_from_json(j[k]);
        const auto& hc = subsets[r.host][k];
        if (hc.listener_host >= 0) c = lab::complete_with_listener(lab.checks[hc.index], c, heard[hc.index]);
        c.host = lab.hosts[r.host].name;
        if (!c.passed && !failed) {
          failed = true;
          failed_group = order[g];
        }
        results.push_back(std::move(c));
      }
    }
  }
  if (deployed_here && !keep) {
    for (const auto& r : on_hosts(w, all, {"destroy", "--lab", lab.name, "--local"})) {
      if (r.exit_code == 0) continue;
      std::cerr << fmt::format("netlab test: host {}: destroy failed (exit {}):\n{}", lab.hosts[r.host].name,
                               r.exit_code, indent(r.output));
      rc = std::max(rc, kExitPartial);
    }
  }
  return rc;
}

}  // namespace netlab::cli
