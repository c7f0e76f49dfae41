// netlab exec — not implemented yet.
#include <iostream>

#include "cli/exit_codes.hpp"
#include "cli/verbs.hpp"

namespace netlab::cli {

int run_exec(const Args&) {
  std::cerr << "netlab exec: not implemented yet\n";
  return kExitUserError;
}

}  // namespace netlab::cli
