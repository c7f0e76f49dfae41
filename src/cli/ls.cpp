// netlab ls — not implemented yet.
#include <iostream>

#include "cli/exit_codes.hpp"
#include "cli/verbs.hpp"

namespace netlab::cli {

int run_ls(const Args&) {
  std::cerr << "netlab ls: not implemented yet\n";
  return kExitUserError;
}

}  // namespace netlab::cli
