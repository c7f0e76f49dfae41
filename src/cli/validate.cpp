// netlab validate FILE: exit 0 and nothing on stdout when valid (warnings on
// stderr); exit 1 with every diagnostic on stderr otherwise.
#include "cli/common.hpp"
#include "cli/exit_codes.hpp"

namespace netlab::cli {

int run_validate(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab validate FILE";
  spec.summary = "Check a topology file and print every problem as file:line:col: message.";
  spec.options.add_options()("file", po::value<std::string>()->required()->value_name("FILE"), "topology file");
  spec.positional.add("file", 1);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;
  return load_topology(vm["file"].as<std::string>()) ? kExitOk : kExitUserError;
}

}  // namespace netlab::cli
