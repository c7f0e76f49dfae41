#include "cli/multihost.hpp"

#include <fmt/format.h>

#include <iostream>

#include "cluster/part.hpp"
#include "cluster/placement.hpp"
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
        "netlab: lab {} spans {} hosts: deploy each part with `netlab deploy {} --host NAME` on that host\n",
        lab.name, lab.hosts.size(), lab.file);
    return false;
  }
  size_t dropped = 0;
  lab = cluster::host_part(lab, p, v, index, &dropped);
  if (dropped)
    std::cerr << fmt::format("netlab: {} checks involve nodes of other hosts; they are left out of host {}'s part\n",
                             dropped, host);
  if (dry_run) out << fmt::format("plan of host {}'s part:\n", host);
  return true;
}

}  // namespace netlab::cli
