#include "cli/options.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "cli/exit_codes.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace netlab::cli {

namespace {

// Set while describe_verb runs a verb: parse_verb_options fills it and returns 0.
thread_local VerbInfo* g_describe = nullptr;

std::string upper_name(const std::string& long_name) {
  std::string s = long_name;
  for (auto& c : s) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::vector<OptionInfo> collect(const VerbSpec& spec) {
  std::vector<std::string> positional;
  unsigned max = spec.positional.max_total_count();
  for (unsigned i = 0; i < max; ++i) {
    const std::string& n = spec.positional.name_for_position(i);
    if (!positional.empty() && positional.back() == n) break;  // a repeating last positional
    positional.push_back(n);
  }
  std::vector<OptionInfo> pos_infos, opt_infos;
  for (const auto& o : spec.options.options()) {
    OptionInfo info;
    info.long_name = o->long_name();
    std::string shorty = o->canonical_display_name(po::command_line_style::allow_dash_for_short);
    if (shorty.size() == 2 && shorty[0] == '-') info.short_name = shorty[1];
    info.help = o->description();
    if (o->semantic()->max_tokens() > 0) {
      std::string name = o->semantic()->name();
      if (auto p = name.find(" (="); p != std::string::npos) {
        info.default_value = name.substr(p + 3, name.size() - p - 4);
        name = name.substr(0, p);
      }
      info.value_name = name == "arg" ? upper_name(info.long_name) : name;
    }
    auto it = std::find(positional.begin(), positional.end(), info.long_name);
    if (it != positional.end()) {
      info.positional = true;
      info.repeats = o->semantic()->max_tokens() > 1 ||
                     (max == UINT_MAX && it + 1 == positional.end());
      info.default_value.clear();
      pos_infos.push_back(info);
    } else {
      opt_infos.push_back(info);
    }
  }
  std::sort(pos_infos.begin(), pos_infos.end(), [&](const OptionInfo& a, const OptionInfo& b) {
    return std::find(positional.begin(), positional.end(), a.long_name) <
           std::find(positional.begin(), positional.end(), b.long_name);
  });
  pos_infos.insert(pos_infos.end(), opt_infos.begin(), opt_infos.end());
  return pos_infos;
}

VerbInfo info_of(const VerbSpec& spec) {
  VerbInfo info;
  info.usage = spec.usage;
  info.description = spec.summary;
  info.options = collect(spec);
  std::istringstream words(spec.usage);
  std::string w;
  words >> w >> info.name;
  return info;
}

// -v, -vv, --verbose: counted here; Program_options refuses a repeated switch.
int take_verbosity(Args& args) {
  int verbosity = 0;
  Args kept;
  bool after_dashes = false;
  for (const auto& a : args) {
    if (a == "--") after_dashes = true;
    if (!after_dashes && a == "--verbose") {
      ++verbosity;
    } else if (!after_dashes && a.size() > 1 && a[0] == '-' && a[1] == 'v' &&
               a.find_first_not_of('v', 1) == std::string::npos) {
      verbosity += static_cast<int>(a.size() - 1);
    } else {
      kept.push_back(a);
    }
  }
  args = std::move(kept);
  return verbosity;
}

bool wants_help(const Args& args) {
  for (const auto& a : args) {
    if (a == "--") return false;
    if (a == "-h" || a == "--help") return true;
  }
  return false;
}

}  // namespace

VerbInfo describe_verb(const Verb& verb) {
  VerbInfo info;
  g_describe = &info;
  verb.run({});
  g_describe = nullptr;
  info.name = verb.name;
  info.summary = verb.summary;
  return info;
}

void print_verb_help(const VerbInfo& info, std::ostream& out) {
  out << "usage: " << info.usage << "\n\n" << info.description << "\n";
  auto row = [&](const std::string& left, const OptionInfo& o) {
    std::string help = o.help;
    if (!o.default_value.empty()) help += " (default " + o.default_value + ")";
    out << "  " << left;
    if (left.size() < 23) out << std::string(24 - left.size(), ' ');
    else out << "\n" << std::string(26, ' ');
    out << help << "\n";
  };
  bool any = false;
  for (const auto& o : info.options) {
    if (!o.positional) continue;
    if (!any) out << "\narguments:\n";
    any = true;
    row(o.value_name + (o.repeats && o.value_name.find(' ') == std::string::npos ? "..." : ""), o);
  }
  out << "\noptions:\n";
  for (const auto& o : info.options) {
    if (o.positional) continue;
    std::string left = o.short_name ? std::string("-") + o.short_name + ", " : "    ";
    left += "--" + o.long_name;
    if (!o.value_name.empty()) left += " " + o.value_name;
    row(left, o);
  }
}

int usage_error(const VerbSpec& spec, const std::string& why) {
  VerbInfo info = info_of(spec);
  std::cerr << "netlab " << info.name << ": " << why << "\nusage: " << spec.usage
            << "\n(netlab " << info.name << " --help for details)\n";
  return kExitUserError;
}

int parse_verb_options(VerbSpec& spec, const Args& args_in, po::variables_map& vm) {
  spec.options.add_options()
      ("verbose,v", po::bool_switch(), "more output (-v debug, -vv trace)")
      ("quiet,q", po::bool_switch(), "warnings and errors only")
      ("help,h", "show this help");
  if (g_describe) {
    *g_describe = info_of(spec);
    return kExitOk;
  }
  if (wants_help(args_in)) {
    print_verb_help(info_of(spec), std::cout);
    return kExitOk;
  }
  Args args = args_in;
  int verbosity = take_verbosity(args);
  try {
    po::store(po::command_line_parser(args).options(spec.options).positional(spec.positional).run(),
              vm);
    po::notify(vm);
  } catch (const po::required_option& e) {
    // Program_options names the internal option ("--file"); the user typed a positional.
    std::string missing;
    for (const auto& o : collect(spec))
      if ("--" + o.long_name == e.get_option_name() || o.long_name == e.get_option_name())
        missing = o.positional ? o.value_name : "--" + o.long_name;
    return usage_error(spec, (missing.empty() ? e.get_option_name() : missing) + " is missing");
  } catch (const po::too_many_positional_options_error&) {
    return usage_error(spec, "too many arguments");
  } catch (const po::error& e) {
    return usage_error(spec, e.what());
  }
  if (vm["quiet"].as<bool>()) verbosity = -1;
  init_logging(verbosity);
  return -1;
}

std::string state_dir_from(const po::variables_map& vm) {
  std::string dir = "/run/netlab";
  const char* from = "the default";
  if (vm.count("state-dir")) {
    dir = vm["state-dir"].as<std::string>();
    from = "--state-dir";
  } else if (const char* env = std::getenv("NETLAB_STATE_DIR"); env && *env) {
    dir = env;
    from = "NETLAB_STATE_DIR";
  }
  // Paths under it go into overlayfs mount options, where these separate
  // layers and options.
  if (auto bad = dir.find_first_of(":,\\"); bad != std::string::npos)
    throw Error(EINVAL, "state directory {} (from {}): it may not contain '{}' (overlayfs options use it as a separator)",
                dir, from, dir[bad]);
  return dir;
}

}  // namespace netlab::cli
