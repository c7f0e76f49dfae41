// Options every verb shares (-v, -q, -h) on top of Boost.Program_options, and
// the one place that turns a parse failure into exit code 1.
#pragma once

#include <boost/program_options.hpp>

#include <string>

#include "cli/verbs.hpp"

namespace netlab::cli {

namespace po = boost::program_options;

struct VerbSpec {
  std::string usage;        // "netlab validate FILE"
  std::string summary;      // one line
  po::options_description options{"Options"};
  po::positional_options_description positional;
};

/// Adds -v/--verbose (repeatable), -q/--quiet and -h/--help to spec.options, parses
/// args into vm and sets up logging. Returns -1 to continue, or an exit code
/// (0 after --help, 1 after a usage error, printed to stderr).
int parse_verb_options(VerbSpec& spec, const Args& args, po::variables_map& vm);

/// State directory: --state-dir, else $NETLAB_STATE_DIR, else /run/netlab.
std::string state_dir_from(const po::variables_map& vm);

}  // namespace netlab::cli
