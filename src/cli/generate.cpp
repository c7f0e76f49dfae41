// netlab generate KIND ARGS... [--name NAME] [--pool CIDR] [--lan-pool CIDR]
#include <iostream>

#include "cli/common.hpp"
#include "cli/exit_codes.hpp"
#include "cli/options.hpp"
#include "topology/generate.hpp"
#include "topology/parse.hpp"
#include "util/error.hpp"

namespace netlab::cli {

int run_generate(const Args& args) {
  VerbSpec spec;
  spec.usage =
      "netlab generate line N | ring N | star N | tree DEPTH FANOUT | clos SPINES LEAVES HOSTS_PER_LEAF\n"
      "                [--name NAME] [--pool CIDR] [--lan-pool CIDR]";
  spec.summary =
      "Write a generated, valid topology to stdout: addresses, static routes, and reachability\n"
      "[[checks]] for netlab test. line, ring and tree use --pool (a /31 per link); star uses\n"
      "--lan-pool (one bridge subnet); clos uses both.";
  spec.options.add_options()
      ("kind", po::value<std::string>()->required()->value_name("KIND"), "line, ring, star, tree or clos")
      ("numbers", po::value<std::vector<int>>()->multitoken()->value_name("N"), "sizes")
      ("name", po::value<std::string>()->default_value("")->value_name("NAME"),
       "lab name: [a-z0-9][a-z0-9-]*, at most 12 bytes (default: kind and size)")
      ("pool", po::value<std::string>()->default_value("10.0.0.0/8")->value_name("CIDR"), "pool for point-to-point /31s")
      ("lan-pool", po::value<std::string>()->default_value("172.16.0.0/12")->value_name("CIDR"), "pool for bridge subnets");
  spec.positional.add("kind", 1).add("numbers", -1);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;

  topo::GenerateSpec g;
  std::string kind = vm["kind"].as<std::string>();
  if (!topo::parse_generate_kind(kind, g.kind))
    return usage_error(spec, "unknown kind \"" + kind + "\" (line, ring, star, tree, clos)");
  std::vector<int> nums;
  if (vm.count("numbers")) nums = vm["numbers"].as<std::vector<int>>();
  size_t want = g.kind == topo::GenerateKind::kTree ? 2 : g.kind == topo::GenerateKind::kClos ? 3 : 1;
  if (nums.size() != want)
    return usage_error(spec, kind + " expects " + std::to_string(want) + " number(s), got " + std::to_string(nums.size()));
  // A pool the kind does not use would be silently ignored: refuse it.
  bool uses_pool = g.kind != topo::GenerateKind::kStar;
  bool uses_lan = g.kind == topo::GenerateKind::kStar || g.kind == topo::GenerateKind::kClos;
  if (!vm["pool"].defaulted() && !uses_pool)
    return usage_error(spec, kind + " has no point-to-point links; --pool does not apply (use --lan-pool)");
  if (!vm["lan-pool"].defaulted() && !uses_lan)
    return usage_error(spec, kind + " has no bridges; --lan-pool does not apply (use --pool)");
  switch (g.kind) {
    case topo::GenerateKind::kTree: g.depth = nums[0]; g.fanout = nums[1]; break;
    case topo::GenerateKind::kClos: g.spines = nums[0]; g.leaves = nums[1]; g.hosts_per_leaf = nums[2]; break;
    default: g.n = nums[0]; break;
  }
  g.name = vm["name"].as<std::string>();
  g.pool = vm["pool"].as<std::string>();
  g.lan_pool = vm["lan-pool"].as<std::string>();
  std::string text;
  try {
    text = topo::generate(g);
  } catch (const Error& e) {
    // Sizes and pools are the user's: say what is wrong, not an errno.
    std::string why;
    for (const auto& step : e.context()) why += (why.empty() ? "" : ": ") + step;
    std::cerr << "netlab " << why << "\n";
    return kExitUserError;
  }
  // What is written must validate; a generator bug is caught here, not at deploy.
  Diagnostics diags;
  if (!topo::load_string(text, "<generated>", diags)) {
    std::cerr << "netlab generate: internal error: the generated topology does not validate:\n"
              << diags.render(text);
    return kExitSystemError;
  }
  std::cout << text;
  return kExitOk;
}

}  // namespace netlab::cli
