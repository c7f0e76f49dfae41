#include "cli/options.hpp"

#include <cstdlib>
#include <iostream>

#include "cli/exit_codes.hpp"
#include "util/log.hpp"

namespace netlab::cli {

int parse_verb_options(VerbSpec& spec, const Args& args, po::variables_map& vm) {
  int verbosity = 0;
  spec.options.add_options()
      ("verbose,v", po::bool_switch(), "more output (-v debug, -vv trace)")
      ("quiet,q", po::bool_switch(), "warnings and errors only")
      ("help,h", "show this help");
  try {
    po::store(po::command_line_parser(args).options(spec.options).positional(spec.positional).run(),
              vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "netlab: " << e.what() << "\nusage: " << spec.usage << "\n";
    return kExitUserError;
  }
  if (vm.count("help")) {
    std::cout << "usage: " << spec.usage << "\n" << spec.summary << "\n\n" << spec.options;
    return kExitOk;
  }
  // Program_options keeps no count of a repeated switch: count -v, -vv, --verbose here.
  for (const auto& a : args) {
    if (a == "--verbose") ++verbosity;
    else if (a.size() > 1 && a[0] == '-' && a[1] == 'v' && a.find_first_not_of('v', 1) == std::string::npos)
      verbosity += static_cast<int>(a.size() - 1);
  }
  if (vm["quiet"].as<bool>()) verbosity = -1;
  init_logging(verbosity);
  return -1;
}

std::string state_dir_from(const po::variables_map& vm) {
  if (vm.count("state-dir")) return vm["state-dir"].as<std::string>();
  if (const char* env = std::getenv("NETLAB_STATE_DIR"); env && *env) return env;
  return "/run/netlab";
}

}  // namespace netlab::cli
