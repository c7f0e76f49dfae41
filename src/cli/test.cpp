// netlab test — not implemented yet.
#include <iostream>

#include "cli/exit_codes.hpp"
#include "cli/verbs.hpp"

namespace netlab::cli {

int run_test(const Args&) {
  std::cerr << "netlab test: not implemented yet\n";
  return kExitUserError;
}

}  // namespace netlab::cli
