// netlab — the verb table (ninja's kTools[] style). Every verb lives in its own
// file; help, completion and the man page are made from this table and from
// each verb's own option declarations (options.hpp), so a new verb registers here only.
#include <iostream>
#include <string_view>

#include "cli/common.hpp"
#include "cli/exit_codes.hpp"
#include "cli/options.hpp"
#include "cli/verbs.hpp"
#include "util/strings.hpp"

namespace netlab::cli {

const std::vector<Verb>& verb_table() {
  static const std::vector<Verb> verbs = {
      {"validate", "check a topology file; print every error", run_validate},
      {"graph", "print a topology as a dot or mermaid graph", run_graph},
      {"generate", "write a generated topology (line, ring, star, tree, clos)", run_generate},
      {"deploy", "build a lab from a topology file", run_deploy},
      {"apply", "change a running lab to match an edited topology file", run_apply},
      {"destroy", "remove a lab and everything it created", run_destroy},
      {"inspect", "show a deployed lab's nodes, interfaces, bridges, NAT and firewall", run_inspect},
      {"ls", "list deployed labs", run_ls},
      {"exec", "run a command inside a node", run_exec},
      {"shell", "open an interactive shell in a node", run_shell},
      {"test", "deploy a lab if needed and run its checks", run_test},
      {"link", "change a deployed link (impairments, up/down)", run_link},
      {"logs", "print (or follow) what a node's exec and cmd wrote", run_logs},
      {"capture", "capture packets on a node, bridge or every link (pcap, pcapng, text)", run_capture},
      {"images", "list, pull and remove container images (OCI, docker-archive, registries)", run_images},
      {"help", "show the help of netlab or of one verb", run_help},
      {"version", "print netlab's version", run_version},
      {"completion", "print a bash or zsh completion script", run_completion},
      {"man", "print the netlab(1) man page (roff)", run_man},
  };
  return verbs;
}

void print_usage(std::ostream& out) {
  out << "usage: netlab VERB [options] [args]   (netlab help VERB, or netlab VERB --help, for details)\n\n"
         "verbs:\n";
  for (const auto& v : verb_table()) {
    std::string name = v.name;
    out << "  " << name << std::string(name.size() < 12 ? 12 - name.size() : 1, ' ') << v.summary << "\n";
  }
  out << "\noptions: --version, -h/--help\n"
         "\nexit codes: " << exit_codes_text() << "\n";
}

const Verb* find_verb(std::string_view name) {
  for (const auto& v : verb_table())
    if (name == v.name) return &v;
  return nullptr;
}

std::string suggest_verb(const std::string& word) {
  std::vector<std::string> names;
  for (const auto& v : verb_table()) names.push_back(v.name);
  return closest_match(word, names);
}

}  // namespace netlab::cli

int main(int argc, char** argv) {
  using namespace netlab::cli;
  if (argc < 2) {
    print_usage(std::cerr);
    return kExitUserError;
  }
  std::string verb = argv[1];
  if (verb == "-h" || verb == "--help") {
    print_usage(std::cout);
    return kExitOk;
  }
  if (verb == "--version" || verb == "-V") verb = "version";
  if (const Verb* v = find_verb(verb)) {
    // Verbs report their own errors; one they did not catch (e.g. a bad
    // --state-dir read before their try) still gets a clean message.
    try {
      return v->run(Args(argv + 2, argv + argc));
    } catch (const netlab::Error& e) {
      std::cerr << "netlab " << verb << ": " << message_for(e) << "\n";
      return exit_code_for(e);
    }
  }
  std::string best = suggest_verb(verb);
  std::cerr << "netlab: unknown verb \"" << verb << "\""
            << (best.empty() ? "" : " (did you mean \"" + best + "\"?)") << "\n"
            << "run `netlab help` for the list of verbs\n";
  return kExitUserError;
}
