// netlab — the verb table (ninja's kTools[] style). Every verb lives in its own file.
#include <cstring>
#include <iostream>
#include <string_view>

#include "cli/exit_codes.hpp"
#include "cli/verbs.hpp"

namespace {

using netlab::cli::Args;

struct Verb {
  const char* name;
  const char* summary;
  int (*run)(const Args&);
};

constexpr Verb kVerbs[] = {
    {"validate", "check a topology file; print every error", netlab::cli::run_validate},
    {"graph", "print a topology as a dot or mermaid graph", netlab::cli::run_graph},
    {"generate", "write a generated topology (line, ring, star, tree, clos)", netlab::cli::run_generate},
    {"deploy", "build a lab from a topology file", netlab::cli::run_deploy},
    {"destroy", "remove a lab and everything it created", netlab::cli::run_destroy},
    {"inspect", "show a deployed lab's nodes, interfaces and bridges", netlab::cli::run_inspect},
    {"ls", "list deployed labs", netlab::cli::run_ls},
    {"exec", "run a command inside a node", netlab::cli::run_exec},
    {"shell", "open an interactive shell in a node", netlab::cli::run_shell},
    {"test", "deploy a lab if needed and run its checks", netlab::cli::run_test},
    {"link", "change a deployed link (impairments, up/down)", netlab::cli::run_link},
    {"images", "list, pull and remove container images (OCI, docker-archive, registries)", netlab::cli::run_images},
};

void usage(std::ostream& out) {
  out << "usage: netlab VERB [options] [args]   (netlab VERB --help for details)\n\nverbs:\n";
  for (const auto& v : kVerbs) out << "  " << v.name << std::string(10 - std::strlen(v.name), ' ') << v.summary << "\n";
  out << "\nexit codes: 0 ok, 1 user error (bad file, bad option, unknown lab),\n"
         "            2 system error (the kernel refused), 3 destroy left objects behind\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(std::cerr);
    return netlab::cli::kExitUserError;
  }
  std::string_view verb = argv[1];
  if (verb == "-h" || verb == "--help" || verb == "help") {
    usage(std::cout);
    return netlab::cli::kExitOk;
  }
  if (verb == "--version") {
    std::cout << "netlab 0.1.0\n";
    return netlab::cli::kExitOk;
  }
  for (const auto& v : kVerbs) {
    if (verb == v.name) return v.run(Args(argv + 2, argv + argc));
  }
  std::cerr << "netlab: unknown verb \"" << verb << "\"\n";
  usage(std::cerr);
  return netlab::cli::kExitUserError;
}
