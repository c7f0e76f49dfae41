// Options every verb shares (-v, -q, -h) on top of Boost.Program_options, the
// one place that turns a parse failure into exit code 1, and the verb table's
// description of itself: help, shell completion and the man page are all made
// from what each verb declares in its VerbSpec, so a new verb only registers.
#pragma once

#include <boost/program_options.hpp>

#include <optional>
#include <string>
#include <vector>

#include "cli/verbs.hpp"

namespace netlab::cli {

namespace po = boost::program_options;

struct VerbSpec {
  std::string usage;        // "netlab validate FILE"
  std::string summary;      // one line
  po::options_description options{"Options"};
  po::positional_options_description positional;
};

/// One option or positional argument as help, completion and the man page show it.
struct OptionInfo {
  std::string long_name;   // "dry-run"; for a positional argument its internal name
  char short_name = 0;     // 'n', or 0
  std::string value_name;  // "FILE", "N", ... ; "" for a flag
  std::string help;
  std::string default_value;  // as shown: "10.0.0.0/8", or ""
  bool positional = false;
  bool repeats = false;       // a positional that takes every remaining word
};

/// What a verb declares about itself.
struct VerbInfo {
  std::string name;
  std::string summary;  // the verb table's one line
  std::string usage;
  std::string description;  // the spec's summary (may span lines)
  std::vector<OptionInfo> options;  // positionals first, in order, then options
};

/// One entry of the verb table.
struct Verb {
  const char* name;
  const char* summary;
  int (*run)(const Args&);
};

/// The verb table (main.cpp).
const std::vector<Verb>& verb_table();

/// Runs `verb` in describe mode: it declares its options and returns before acting.
VerbInfo describe_verb(const Verb& verb);

/// Adds -v/--verbose (repeatable), -q/--quiet and -h/--help to spec.options, parses
/// args into vm and sets up logging. Returns -1 to continue, or an exit code
/// (0 after --help, 1 after a usage error, printed to stderr). -h/--help anywhere
/// wins over every other check (a required argument missing, a bad value).
int parse_verb_options(VerbSpec& spec, const Args& args, po::variables_map& vm);

/// Prints "usage: ..., what it does, arguments, options" with user-facing value names.
void print_verb_help(const VerbInfo& info, std::ostream& out);

/// State directory: --state-dir, else $NETLAB_STATE_DIR, else /run/netlab.
std::string state_dir_from(const po::variables_map& vm);

/// A usage error of a verb: "netlab VERB: why" and the usage line on stderr; returns 1.
int usage_error(const VerbSpec& spec, const std::string& why);

}  // namespace netlab::cli
