// netlab link — not implemented yet.
#include <iostream>

#include "cli/exit_codes.hpp"
#include "cli/verbs.hpp"

namespace netlab::cli {

int run_link(const Args&) {
  std::cerr << "netlab link: not implemented yet\n";
  return kExitUserError;
}

}  // namespace netlab::cli
