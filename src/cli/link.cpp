// netlab link up|down|set [LAB] NODE:IFACE — plug or pull a cable (both veth
// ends), or change a link's impairments while the lab runs.
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/common.hpp"
#include "cli/exit_codes.hpp"
#include "cli/verbs.hpp"
#include "cli/whole_lab.hpp"
#include "cluster/remote.hpp"
#include "lab/link_control.hpp"
#include "topology/values.hpp"
#include "util/strings.hpp"

namespace netlab::cli {

namespace {

// Parses one flag with the topology file's own value parser, so a flag and a
// key accept and reject exactly the same text.
template <typename T, typename Parse>
bool flag(const po::variables_map& vm, const char* name, Parse parse, std::optional<T>& out) {
  if (!vm.count(name)) return true;
  std::string why;
  auto v = parse(vm[name].as<std::string>(), &why);
  if (!v) {
    std::cerr << fmt::format("netlab: link set: --{} \"{}\": {}\n", name, vm[name].as<std::string>(), why);
    return false;
  }
  out = *v;
  return true;
}

bool change_from(const po::variables_map& vm, lab::ImpairmentChange& c) {
  std::optional<topo::Duration> delay, jitter;
  std::optional<topo::Percent> loss, duplicate, corrupt, reorder;
  std::optional<topo::Rate> rate;
  if (!flag(vm, "delay", topo::parse_duration, delay) || !flag(vm, "jitter", topo::parse_duration, jitter) ||
      !flag(vm, "loss", topo::parse_percent, loss) || !flag(vm, "duplicate", topo::parse_percent, duplicate) ||
      !flag(vm, "corrupt", topo::parse_percent, corrupt) || !flag(vm, "reorder", topo::parse_percent, reorder) ||
      !flag(vm, "rate", topo::parse_rate, rate))
    return false;
  for (const auto& [name, d] : {std::pair{"delay", delay}, std::pair{"jitter", jitter}}) {
    if (d && d->ns >= 60'000'000'000ull) {
      std::cerr << fmt::format("netlab: link set: --{}: must be less than 60s\n", name);
      return false;
    }
  }
  if (delay) c.delay_ns = delay->ns;
  if (jitter) c.jitter_ns = jitter->ns;
  if (rate) c.rate_bps = rate->bits_per_sec;
  if (loss) c.loss = loss->value;
  if (duplicate) c.duplicate = duplicate->value;
  if (corrupt) c.corrupt = corrupt->value;
  if (reorder) c.reorder = reorder->value;
  c.clear = vm.count("clear") > 0;
  c.one_way = vm.count("one-way") > 0;
  if (!c.clear && !delay && !jitter && !rate && !loss && !duplicate && !corrupt && !reorder) {
    std::cerr << "netlab: link set: nothing to change (give --delay, --jitter, --loss, --rate, ... or --clear)\n";
    return false;
  }
  return true;
}

int report(const std::vector<lab::EndImpairment>& ends, bool as_json) {
  if (as_json) {
    auto j = nlohmann::json::array();
    for (const auto& e : ends) j.push_back({{"end", e.end}, {"before", e.before.str()}, {"after", e.after.str()}});
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << fmt::format("{:<28} {:<32} {}\n", "EGRESS OF", "BEFORE", "NOW");
  for (const auto& e : ends) std::cout << fmt::format("{:<28} {:<32} {}\n", e.end, e.before.str(), e.after.str());
  return kExitOk;
}

// The same verb, for the end `endpoint` only, as run on another host.
std::vector<std::string> remote_args(const po::variables_map& vm, const std::string& action, const std::string& lab,
                                     const std::string& endpoint, bool one_way) {
  std::vector<std::string> args = {"link", action, lab, endpoint, "--local"};
  for (const char* f : {"delay", "jitter", "loss", "rate", "duplicate", "corrupt", "reorder"})
    if (vm.count(f)) args.insert(args.end(), {std::string("--") + f, vm[f].as<std::string>()});
  if (vm.count("clear")) args.push_back("--clear");
  if (one_way) args.push_back("--one-way");
  return args;
}

// A multi-host lab: the end asked for is changed where its node runs (here or
// over ssh), and a link to another host has its far end changed there too
// (unless --one-way), each end being a VXLAN device of its own host.
int link_whole_lab(const WholeLab& w, const po::variables_map& vm, const std::string& action,
                   const std::string& endpoint) {
  std::string node = endpoint.substr(0, endpoint.find(':')), iface = endpoint.substr(endpoint.find(':') + 1);
  int near = w.host_of(node);
  if (near < 0) {
    std::cerr << fmt::format("netlab: link {}: lab {} has no node \"{}\"\n", action, w.name(), node);
    return kExitUserError;
  }
  // The far end of a link between hosts, if this is one.
  std::string far_end;
  int far = -1;
  int n = w.lab.find_node(node);
  for (const auto& l : w.lab.links) {
    const auto& a = l.ends[0];
    const auto& b = l.ends[1];
    for (const auto* e : {&a, &b}) {
      const auto* o = e == &a ? &b : &a;
      if (e->kind != topo::Endpoint::Kind::kInterface || e->node_index != n ||
          w.lab.nodes[n].interfaces[e->iface_index].name != iface || o->kind != topo::Endpoint::Kind::kInterface)
        continue;
      if (w.placement.node_host[o->node_index] != near) {
        far = w.placement.node_host[o->node_index];
        far_end = o->str();
      }
    }
  }
  bool one_way = vm.count("one-way") > 0;
  std::vector<std::pair<int, std::vector<std::string>>> runs = {{near, remote_args(vm, action, w.name(), endpoint, one_way)}};
  if (far >= 0 && !one_way) runs.push_back({far, remote_args(vm, action, w.name(), far_end, false)});
  int rc = kExitOk;
  for (const auto& [h, args] : runs) {
    const topo::Host& host = w.lab.hosts[h];
    if (h == w.self) {
      // This host: the same verb, in this process's own part.
      std::vector<std::string> local(args.begin() + 1, args.end());
      rc = std::max(rc, run_link(local));
      continue;
    }
    if (host.ssh.empty()) {
      std::cerr << fmt::format("netlab: link {}: {} runs on host {}, which has no ssh target: run `netlab link {} {} {} --local` there\n",
                               action, args[3], host.name, action, w.name(), args[3]);
      rc = std::max(rc, kExitUserError);
      continue;
    }
    try {
      rc = std::max(rc, cluster::run_attached(host, args, false));
    } catch (const Error& e) {
      std::cerr << "netlab: " << e.what() << "\n";
      rc = std::max(rc, kExitSystemError);
    }
  }
  return rc;
}

}  // namespace

int run_link(const Args& args) {
  VerbSpec spec;
  spec.usage =
      "netlab link up|down [LAB] NODE:IFACE\n"
      "       netlab link set [LAB] NODE:IFACE [--delay D] [--jitter J] [--loss P] [--rate R]\n"
      "                       [--duplicate P] [--corrupt P] [--reorder P] [--clear] [--one-way] [--json]";
  spec.summary =
      "Take both ends of a deployed link down (like pulling the cable) or bring them up again,\n"
      "or change its impairments live: given values replace the ones in force, on the egress of\n"
      "both ends (--one-way: of NODE:IFACE only); --clear starts from none. In a multi-host lab each\n"
      "end is changed on its own host (over ssh) unless --local.";
  spec.options.add_options()("words", po::value<std::vector<std::string>>()->value_name("ACTION [LAB] NODE:IFACE"), "up, down or set, then the link end")(
      "delay", po::value<std::string>()->value_name("TIME"), "added one-way delay (10ms, 1.5s, 200us)")(
      "jitter", po::value<std::string>()->value_name("TIME"), "delay variation (needs a delay)")(
      "loss", po::value<std::string>()->value_name("PERCENT"), "packets dropped (1%, 0.5%)")(
      "rate", po::value<std::string>()->value_name("RATE"), "bandwidth limit (10mbit, 1gbit, 500kbit)")(
      "duplicate", po::value<std::string>()->value_name("PERCENT"), "packets duplicated")(
      "corrupt", po::value<std::string>()->value_name("PERCENT"), "packets with a flipped bit")(
      "reorder", po::value<std::string>()->value_name("PERCENT"), "packets sent at once, ahead of delayed ones (needs a delay)")(
      "clear", "remove the impairments in force first")("one-way", "only the egress of NODE:IFACE")(
      "json", "print what changed as JSON")(
      "local", "multi-host lab: only this host's end of the link (the far end is another host's)");
  spec.positional.add("words", -1);
  add_state_dir_option(spec);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;
  std::vector<std::string> w;
  if (vm.count("words")) w = vm["words"].as<std::vector<std::string>>();
  if (w.empty()) return usage_error(spec, "what to do? give up, down or set");
  if (w[0] != "up" && w[0] != "down" && w[0] != "set") {
    std::string best = closest_match(w[0], {"up", "down", "set"});
    return usage_error(spec, "unknown action \"" + w[0] + "\" (up, down or set" +
                                 (best.empty() ? "" : "; did you mean \"" + best + "\"?") + ")");
  }
  if (w.size() < 2) return usage_error(spec, "which link? give NODE:IFACE after " + w[0]);
  if (w.size() > 3) return usage_error(spec, "too many arguments: give " + w[0] + " [LAB] NODE:IFACE");
  if (w.back().find(':') == std::string::npos)
    return usage_error(spec, "\"" + w.back() + "\" is not NODE:IFACE (a link is named by one of its ends, e.g. h1:eth0)");
  lab::ImpairmentChange change;
  if (w[0] == "set" && !change_from(vm, change)) return kExitUserError;
  lab::HostFacts facts = host_facts_from(vm);
  auto name = resolve_lab_name(facts, w.size() == 3 ? w[1] : "");
  if (!name) return kExitUserError;
  if (!require_root("link")) return kExitUserError;
  if (!vm.count("local"))
    if (auto whole = deployed_whole_lab(facts, *name)) return link_whole_lab(*whole, vm, w[0], w.back());
  try {
    if (w[0] == "set") return report(lab::set_link_impairment(facts, *name, w.back(), change), vm.count("json") > 0);
    lab::set_link_state(facts, *name, w.back(), w[0] == "up");
    std::cout << "link " << w.back() << " of lab " << *name << " is " << w[0] << "\n";
    return kExitOk;
  } catch (const Error& e) {
    std::cerr << "netlab: link " << w[0] << ": " << message_for(e) << "\n";
    return exit_code_for(e);
  }
}

}  // namespace netlab::cli
