// netlab generate KIND ARGS... [--name NAME] [--pool CIDR] [--lan-pool CIDR] [-o DIR]
#include <sys/stat.h>

#include <filesystem>
#include <iostream>

#include "cli/exit_codes.hpp"
#include "cli/options.hpp"
#include "topology/generate.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

namespace netlab::cli {

int run_generate(const Args& args) {
  VerbSpec spec;
  spec.usage =
      "netlab generate line N | ring N | star N | tree DEPTH FANOUT | clos SPINES LEAVES HOSTS_PER_LEAF\n"
      "                [--name NAME] [--pool CIDR] [--lan-pool CIDR]\n"
      "netlab generate frr-ring N | frr-grid ROWS COLS -o DIR [--name NAME] [--pool CIDR]";
  spec.summary =
      "Write a generated, valid topology to stdout (addresses and static routes included), or, for\n"
      "frr-ring and frr-grid, a routing lab directory: topology.toml and an FRR OSPF configuration\n"
      "per router (docs/routing.md).";
  spec.options.add_options()
      ("kind", po::value<std::string>()->required(), "line, ring, star, tree or clos")
      ("numbers", po::value<std::vector<int>>()->multitoken(), "sizes")
      ("name", po::value<std::string>()->default_value(""), "lab name (default: kind and size)")
      ("pool", po::value<std::string>()->default_value("10.0.0.0/8"), "pool for point-to-point /31s")
      ("lan-pool", po::value<std::string>()->default_value("172.16.0.0/12"), "pool for bridge subnets")
      ("output,o", po::value<std::string>(), "directory to write a routing lab into (frr-ring, frr-grid)");
  spec.positional.add("kind", 1).add("numbers", -1);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;

  topo::GenerateSpec g;
  if (!topo::parse_generate_kind(vm["kind"].as<std::string>(), g.kind)) {
    std::cerr << "netlab generate: unknown kind \"" << vm["kind"].as<std::string>()
              << "\" (line, ring, star, tree, clos, frr-ring, frr-grid)\n";
    return kExitUserError;
  }
  std::vector<int> nums;
  if (vm.count("numbers")) nums = vm["numbers"].as<std::vector<int>>();
  size_t want = g.kind == topo::GenerateKind::kTree || g.kind == topo::GenerateKind::kFrrGrid ? 2
                : g.kind == topo::GenerateKind::kClos                                          ? 3
                                                                                               : 1;
  if (nums.size() != want) {
    std::cerr << "netlab generate " << vm["kind"].as<std::string>() << ": expects " << want
              << " number(s)\nusage: " << spec.usage << "\n";
    return kExitUserError;
  }
  switch (g.kind) {
    case topo::GenerateKind::kTree: g.depth = nums[0]; g.fanout = nums[1]; break;
    case topo::GenerateKind::kClos: g.spines = nums[0]; g.leaves = nums[1]; g.hosts_per_leaf = nums[2]; break;
    case topo::GenerateKind::kFrrGrid: g.rows = nums[0]; g.cols = nums[1]; break;
    default: g.n = nums[0]; break;
  }
  g.name = vm["name"].as<std::string>();
  g.pool = vm["pool"].as<std::string>();
  g.lan_pool = vm["lan-pool"].as<std::string>();
  try {
    if (!topo::generates_directory(g.kind)) {
      std::cout << topo::generate(g);
      return kExitOk;
    }
    if (!vm.count("output")) {
      std::cerr << "netlab generate " << vm["kind"].as<std::string>()
                << ": writes a directory (topology and per-router configs): give -o DIR\n";
      return kExitUserError;
    }
    auto files = topo::generate_frr(g);
    // Never overwrite: a directory that exists must be empty.
    namespace fs = std::filesystem;
    fs::path dir = vm["output"].as<std::string>();
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
      std::cerr << "netlab generate: " << dir.string() << " exists and is not empty; not overwriting it\n";
      return kExitUserError;
    }
    for (const auto& f : files) {
      fs::create_directories((dir / f.path).parent_path(), ec);
      if (ec) throw Error(ec.value(), "creating {}", (dir / f.path).parent_path().string());
      write_file((dir / f.path).string(), f.text, 0644);
    }
    std::cerr << "netlab generate: wrote " << (dir / "topology.toml").string() << " and the configs of "
              << (files.size() - 1) / 3 << " routers\n";
  } catch (const Error& e) {
    std::cerr << "netlab " << e.what() << "\n";
    return kExitUserError;
  }
  return kExitOk;
}

}  // namespace netlab::cli
