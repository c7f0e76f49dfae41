// netlab logs [LAB] NODE [-f] [-n LINES]
#include <unistd.h>

#include <iostream>

#include "cli/common.hpp"
#include "cli/exit_codes.hpp"
#include "lab/node_status.hpp"

namespace netlab::cli {

int run_logs(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab logs [LAB] NODE [-f] [-n LINES] [--state-dir DIR]";
  spec.summary =
      "Print what NODE's `exec` commands and `cmd` wrote (stdout and stderr). With -f, keep\n"
      "printing what is appended until the lab is destroyed or Ctrl-C. LAB may be omitted when\n"
      "one lab is deployed.";
  spec.options.add_options()
      ("target", po::value<std::vector<std::string>>(), "[LAB] NODE")
      ("follow,f", po::bool_switch(), "follow the log as it grows")
      ("lines,n", po::value<size_t>()->default_value(0), "only the last LINES lines (0: all)");
  spec.positional.add("target", -1);
  add_state_dir_option(spec);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;
  std::vector<std::string> target;
  if (vm.count("target")) target = vm["target"].as<std::vector<std::string>>();
  if (target.empty() || target.size() > 2) {
    std::cerr << "usage: " << spec.usage << "\n";
    return kExitUserError;
  }
  lab::HostFacts facts = host_facts_from(vm);
  auto name = resolve_lab_name(facts, target.size() == 2 ? target[0] : "");
  if (!name) return kExitUserError;
  try {
    lab::show_log(facts, *name, target.back(), vm["lines"].as<size_t>(), vm["follow"].as<bool>(),
                  [](const std::string& chunk) {
                    // Unbuffered: a follower sees each line as the node writes it.
                    for (size_t done = 0; done < chunk.size();) {
                      ssize_t n = ::write(1, chunk.data() + done, chunk.size() - done);
                      if (n < 0 && errno == EINTR) continue;
                      if (n <= 0) return false;  // stdout closed (a pager quit)
                      done += static_cast<size_t>(n);
                    }
                    return true;
                  });
    return kExitOk;
  } catch (const Error& e) {
    std::cerr << "netlab: logs: " << e.what() << "\n";
    return exit_code_for(e);
  }
}

}  // namespace netlab::cli
