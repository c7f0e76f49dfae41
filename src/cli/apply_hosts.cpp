#include "cli/apply_hosts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "cli/exit_codes.hpp"
#include "cli/whole_lab.hpp"
#include "cluster/part.hpp"
#include "cluster/placement.hpp"
#include "cluster/remote.hpp"
#include "lab/apply_lab.hpp"
#include "lab/state.hpp"
#include "topology/parse.hpp"
#include "topology/pin_hosts.hpp"
#include "util/strings.hpp"

namespace netlab::cli {

int apply_here(const topo::Lab& lab, const std::optional<std::string>& text, const lab::HostFacts& facts,
               bool dry_run, std::ostream& out, std::ostream& err) {
  const std::string& name = lab.name;
  try {
    if (dry_run) {
      out << lab::render_change_plan(lab::plan_apply(lab, facts));
      return kExitOk;
    }
    lab::ApplyOptions options;
    lab::apply_options_from_env(options);
    options.topology_text = text;
    auto r = lab::apply_lab(lab, facts, real_backend_factory(facts), options);
    if (r.recovered) out << "lab " << name << ": an interrupted apply was rolled back first\n";
    if (r.plan.steps.empty()) {
      out << "lab " << name << " already matches " << lab.file << ": nothing to change\n";
      return kExitOk;
    }
    out << "lab " << name << " applied: " << r.plan.steps.size() << " steps (" << r.plan.added.size()
        << " nodes added, " << r.plan.removed.size() << " removed, " << r.plan.recreated.size() << " recreated, "
        << r.plan.restarted.size() << " restarted, " << r.plan.programs.size() << " programs restarted), "
        << r.kernel_requests << " netlink requests in "
        << fmt::format("{:.3f}", r.seconds) << " s\n";
    return kExitOk;
  } catch (const lab::DeployError& e) {
    err << "netlab: " << e.what() << "\n";
    if (e.rollback().ok()) {
      err << "netlab: rolled back; lab " << name << " is as it was before this apply\n";
    } else {
      err << "netlab: rollback could not restore:\n";
      for (const auto& f : e.rollback().failures) err << "  " << f << "\n";
      err << "netlab: the next `netlab apply` retries it; `netlab destroy --lab " << name << "` removes the lab\n";
    }
    return exit_code_for(e);
  } catch (const Error& e) {
    err << "netlab: apply: " << e.what() << "\n";
    return exit_code_for(e);
  }
}

int apply_part(const topo::Lab& whole, const std::optional<std::string>& text, const lab::HostFacts& facts,
               bool dry_run, std::ostream& out, std::ostream& err) {
  if (whole.hosts.empty()) return apply_here(whole, text, facts, dry_run, out, err);
  std::string part = lab::read_part_host(facts, whole.name);
  if (part.empty()) {
    err << fmt::format("netlab: apply --local: no part of lab {} is deployed on this host (netlab deploy {} --host "
                       "NAME builds one)\n",
                       whole.name, whole.file);
    return kExitUserError;
  }
  int h = whole.find_host(part);
  if (h < 0) {
    err << fmt::format("netlab: apply --local: this host runs host {}'s part of lab {}, and {} has no host {}\n", part,
                       whole.name, whole.file, part);
    return kExitUserError;
  }
  std::optional<std::string> saved = text;
  if (!saved) {
    try {
      saved = read_file(whole.file);
    } catch (const Error& e) {
      err << "netlab: apply: " << e.what() << "\n";
      return exit_code_for(e);
    }
  }
  return apply_here(cluster::host_part(whole, h), saved, facts, dry_run, out, err);
}

namespace {

std::string prefixed(const std::string& text, const std::string& prefix) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += prefix + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

struct PartRun {
  int host = -1;
  int exit_code = 0;
  std::string out, err;
};

// Every part of `hosts` (`self` among them: in-process) applies `text`.
std::vector<PartRun> apply_parts(const topo::Lab& lab, int self, const std::vector<int>& hosts,
                                 const std::string& text, const std::string& file, const lab::HostFacts& facts,
                                 bool dry_run) {
  std::vector<int> far;
  for (int h : hosts)
    if (h != self) far.push_back(h);
  std::vector<std::string> args = {"apply", "-", "--local", "--source-name", file};
  if (dry_run) args.push_back("--dry-run");
  std::vector<cluster::RemoteResult> remote;
  std::thread t([&] {
    remote = cluster::run_on_hosts(lab, far, std::vector<std::vector<std::string>>(far.size(), args), &text);
  });
  std::vector<PartRun> runs;
  if (std::find(hosts.begin(), hosts.end(), self) != hosts.end()) {
    std::ostringstream out, err;
    Diagnostics diags;
    auto parsed = topo::load_string(text, file, diags);
    int rc = kExitUserError;
    if (parsed) rc = apply_part(*parsed, text, facts, dry_run, out, err);
    else err << diags.render(text);
    runs.push_back({self, rc, out.str(), err.str()});
  }
  t.join();
  for (auto& r : remote) runs.push_back({r.host, r.exit_code, r.out, r.err});
  std::sort(runs.begin(), runs.end(), [](const PartRun& a, const PartRun& b) { return a.host < b.host; });
  return runs;
}

std::string host_list(const topo::Lab& lab) {
  std::vector<std::string> out;
  for (const auto& h : lab.hosts) out.push_back(fmt::format("{} {}", h.name, h.address.str()));
  return join(out, ", ");
}

// The target with every node pinned: the running ones where they run, the new
// ones placed around them. Prints and returns false on what apply refuses.
bool sticky_placement(const WholeLab& running, const topo::Lab& target, std::map<std::string, std::string>& hosts) {
  topo::Lab pinned = target;
  for (auto& n : pinned.nodes) {
    int o = running.lab.find_node(n.name);
    if (o < 0) continue;
    const std::string& where = running.lab.hosts[running.placement.node_host[o]].name;
    if (!n.host.empty() && n.host != where) {
      std::cerr << fmt::format(
          "netlab: apply: node {} runs on host {}, and {} pins it to host {}: apply does not move a running node "
          "(remove it in one apply and add it back in the next, or destroy and deploy)\n",
          n.name, where, target.file, n.host);
      return false;
    }
    n.host = where;
    n.host_index = pinned.find_host(where);
  }
  cluster::Placement p = cluster::place(pinned);
  for (size_t i = 0; i < pinned.nodes.size(); ++i) hosts[pinned.nodes[i].name] = pinned.hosts[p.node_host[i]].name;
  // A bridge spanning hosts keeps the hosts it spans (its VXLAN port and flooding entries).
  for (size_t b = 0; b < pinned.bridges.size(); ++b) {
    const auto& name = pinned.bridges[b].name;
    int o = running.lab.find_bridge(name);
    std::vector<int> before = o < 0 ? std::vector<int>{} : running.placement.bridge_hosts[o];
    const std::vector<int>& after = p.bridge_hosts[b];
    if (before.size() <= 1 && after.size() <= 1) continue;
    std::vector<std::string> b_names, a_names;
    for (int h : before) b_names.push_back(running.lab.hosts[h].name);
    for (int h : after) a_names.push_back(pinned.hosts[h].name);
    if (b_names == a_names) continue;
    std::cerr << fmt::format(
        "netlab: apply: bridge {} would span hosts {} instead of {}: apply does not change which hosts a bridge "
        "spans (its VXLAN port and flooding entries on each); destroy and deploy the lab to change that{}\n",
        name, a_names.empty() ? "none" : join(a_names, ", "), b_names.empty() ? "none" : join(b_names, ", "),
        a_names.size() > b_names.size() && !b_names.empty()
            ? fmt::format(" (or pin its new nodes with host = to one of {})", join(b_names, ", "))
            : "");
    return false;
  }
  for (size_t o = 0; o < running.lab.bridges.size(); ++o)
    if (pinned.find_bridge(running.lab.bridges[o].name) < 0 && running.placement.bridge_hosts[o].size() > 1) {
      std::cerr << fmt::format(
          "netlab: apply: bridge {} spans hosts, and apply does not remove a bridge that spans hosts; destroy and "
          "deploy the lab to remove it\n",
          running.lab.bridges[o].name);
      return false;
    }
  return true;
}

}  // namespace

int apply_whole_lab(const topo::Lab& target, const std::optional<std::string>& text, const lab::HostFacts& facts,
                    bool dry_run) {
  auto running = deployed_whole_lab(facts, target.name);
  if (!running || running->self < 0) {
    std::cerr << fmt::format(
        "netlab: apply: no part of lab {} is deployed on this host: run `netlab apply {}` on one of its hosts "
        "(the running placement is read from there), or `netlab deploy {}` to build it\n",
        target.name, target.file, target.file);
    return kExitUserError;
  }
  if (target.hosts.empty() || host_list(target) != host_list(running->lab)) {
    std::cerr << fmt::format(
        "netlab: apply: lab {} runs on hosts {}, and {} names {}: apply does not change a lab's [hosts]; destroy "
        "and deploy the lab to change them\n",
        target.name, host_list(running->lab), target.file, target.hosts.empty() ? "none" : host_list(target));
    return kExitUserError;
  }
  std::vector<std::string> unreachable;
  running->reachable(&unreachable);
  if (!unreachable.empty()) {
    std::cerr << fmt::format(
        "netlab: apply: lab {}: host{} {} {} no ssh target; apply every part together from a host that reaches "
        "the others, or run `netlab apply FILE --local` on each host (with the same FILE)\n",
        target.name, unreachable.size() > 1 ? "s" : "", join(unreachable, ", "),
        unreachable.size() > 1 ? "have" : "has");
    return kExitUserError;
  }
  std::map<std::string, std::string> hosts;
  if (!sticky_placement(*running, target, hosts)) return kExitUserError;
  std::string pinned, previous, previous_name = lab::saved_topology_path(facts, target.name);
  try {
    pinned = topo::pin_hosts(text ? *text : read_file(target.file), target.file, hosts);
    previous = read_file(previous_name);
    try {  // named as deploy's file was, so relative paths resolve as they did
      previous_name = read_file(lab::lab_dir(facts, target.name) + "/source");
    } catch (const Error&) {
    }
  } catch (const Error& e) {
    std::cerr << "netlab: apply: " << e.what() << "\n";
    return exit_code_for(e);
  }
  std::vector<int> all;
  for (size_t h = 0; h < target.hosts.size(); ++h) all.push_back(static_cast<int>(h));
  auto runs = apply_parts(target, running->self, all, pinned, target.file, facts, dry_run);

  if (dry_run) {
    int rc = kExitOk;
    for (const auto& r : runs) {
      std::string name = target.hosts[r.host].name;
      std::cout << prefixed(r.out, name + ": ");
      std::cerr << prefixed(r.err, name + ": ");
      rc = std::max(rc, r.exit_code);
    }
    return rc;
  }
  std::vector<int> restore;
  int rc = kExitOk;
  for (const auto& r : runs) {
    const auto& h = target.hosts[r.host];
    if (r.exit_code == 0) {
      std::cout << prefixed(r.out, "host " + h.name + ": ");
      std::cerr << prefixed(r.err, "host " + h.name + ": ");
      restore.push_back(r.host);
      continue;
    }
    rc = std::max(rc, r.exit_code == 255 ? kExitSystemError : r.exit_code);
    std::cerr << fmt::format("netlab: apply: host {}{}: its part failed (exit {}):\n{}", h.name,
                             r.host == running->self ? "" : " (" + h.ssh + ")", r.exit_code,
                             prefixed(r.out + r.err, "  "));
    // ssh itself failing leaves that part in an unknown state: given the previous topology too.
    if (r.exit_code == 255) restore.push_back(r.host);
  }
  if (rc == kExitOk) {
    std::cout << fmt::format("lab {} applied on {} hosts\n", target.name, target.hosts.size());
    return kExitOk;
  }
  if (restore.empty()) {
    std::cerr << fmt::format("netlab: apply: every part rolled itself back; lab {} is as it was before this apply\n",
                             target.name);
    return rc;
  }
  std::vector<std::string> names;
  for (int h : restore) names.push_back(target.hosts[h].name);
  std::cerr << fmt::format("netlab: apply: restoring the previous topology of lab {} on {}\n", target.name,
                           join(names, ", "));
  bool clean = true;
  for (const auto& r : apply_parts(running->lab, running->self, restore, previous, previous_name, facts, false)) {
    if (r.exit_code == 0) continue;
    clean = false;
    std::cerr << fmt::format("netlab: apply: host {}: restoring its part failed (exit {}):\n{}",
                             target.hosts[r.host].name, r.exit_code, prefixed(r.out + r.err, "  "));
  }
  if (!clean) {
    std::cerr << fmt::format("netlab: apply: lab {} is not as it was on every host; `netlab destroy --lab {}` "
                             "removes it\n",
                             target.name, target.name);
    return kExitPartial;
  }
  std::cerr << fmt::format("netlab: apply: rolled back; every part of lab {} is as it was before this apply\n",
                           target.name);
  return rc;
}

}  // namespace netlab::cli
