#include "cli/multihost.hpp"

#include <fmt/format.h>

#include <iostream>

#include "cluster/part.hpp"
#include "cluster/placement.hpp"
#include "cluster/remote.hpp"
#include "cluster/vni.hpp"
#include "util/strings.hpp"

namespace netlab::cli {

bool select_host_part(topo::Lab& lab, const std::string& host, bool dry_run, std::ostream& out) {
  if (lab.hosts.empty()) {
    if (host.empty()) return true;
    std::cerr << fmt::format("netlab: --host {}: lab {} has no [hosts.NAME] tables; it runs on one machine\n", host,
                             lab.name);
    return false;
  }
  int index = host.empty() ? -1 : lab.find_host(host);
  if (!host.empty() && index < 0) {
    std::vector<std::string> names;
    for (auto& h : lab.hosts) names.push_back(h.name);
    std::string best = closest_match(host, names);
    std::cerr << fmt::format("netlab: --host {}: lab {} has no such host{}\n", host, lab.name,
                             best.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", best));
    return false;
  }
  cluster::Placement p = cluster::place(lab);
  cluster::VniPlan v = cluster::vni_plan(lab, p);
  if (dry_run) out << cluster::render_placement(lab, p, v);
  if (index < 0) {
    if (dry_run) return true;
    std::cerr << fmt::format(
        "netlab: lab {} spans {} hosts and not every host has an ssh target: deploy each part with "
        "`netlab deploy {} --host NAME` on that host\n",
        lab.name, lab.hosts.size(), lab.file);
    return false;
  }
  size_t dropped = 0;
  lab = cluster::host_part(lab, p, v, index, &dropped);
  if (dropped)
    std::cerr << fmt::format(
        "netlab: {} of the lab's checks involve nodes of other hosts: `netlab test {}` runs every check on its "
        "node's host\n",
        dropped, lab.file);
  if (dry_run) out << fmt::format("plan of host {}'s part:\n", host);
  return true;
}

bool deploys_over_ssh(const topo::Lab& lab, const std::string& host, bool dry_run) {
  if (lab.hosts.empty() || !host.empty() || dry_run) return false;
  for (const auto& h : lab.hosts)
    if (h.ssh.empty()) return false;
  return true;
}

int deploy_over_ssh(const topo::Lab& lab, const std::string& file, std::ostream& out, bool reconfigure) {
  std::vector<int> all;
  std::vector<std::vector<std::string>> deploy, destroy;
  for (size_t h = 0; h < lab.hosts.size(); ++h) {
    all.push_back(static_cast<int>(h));
    deploy.push_back({"deploy", file, "--host", lab.hosts[h].name});
    if (reconfigure) deploy.back().push_back("--reconfigure");
    destroy.push_back({"destroy", "--lab", lab.name, "--local"});  // this part only: never the other hosts' again
  }
  auto results = cluster::run_on_hosts(lab, all, deploy);
  bool ok = true;
  for (const auto& r : results) {
    const auto& h = lab.hosts[r.host];
    if (r.exit_code == 0) {
      out << fmt::format("host {}: {}", h.name, r.output);
      continue;
    }
    ok = false;
    std::cerr << fmt::format("netlab: host {} ({}): deploy failed (exit {}):\n{}", h.name, h.ssh, r.exit_code,
                             r.output);
  }
  if (ok) {
    out << fmt::format("lab {} deployed on {} hosts\n", lab.name, lab.hosts.size());
    return 0;
  }
  // Roll back every part that was built: a part that failed has rolled itself
  // back (and may have failed because the lab was already there: not ours to
  // remove); a host whose ssh itself failed (255) is in an unknown state, so it
  // is destroyed too. Destroy of a lab that is not there does nothing.
  std::cerr << fmt::format("netlab: rolling back lab {} on the other hosts\n", lab.name);
  std::vector<int> undo;
  std::vector<std::vector<std::string>> undo_args;
  for (const auto& r : results)
    if (r.exit_code == 0 || r.exit_code == 255) {
      undo.push_back(r.host);
      undo_args.push_back(destroy[r.host]);
    }
  bool clean = true;
  for (const auto& r : cluster::run_on_hosts(lab, undo, undo_args)) {
    if (r.exit_code == 0) continue;
    clean = false;
    std::cerr << fmt::format("netlab: host {}: destroy failed (exit {}):\n{}", lab.hosts[r.host].name, r.exit_code,
                             r.output);
  }
  if (clean) std::cerr << fmt::format("netlab: rolled back; nothing this deploy built remains on any host\n");
  return clean ? 1 : 3;
}

}  // namespace netlab::cli
