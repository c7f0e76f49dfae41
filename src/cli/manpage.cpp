// netlab man: the netlab(1) man page in roff, made from the verb table and each
// verb's declared options, like --help and completion. The build installs its
// output as share/man/man1/netlab.1.
#include <iostream>
#include <sstream>

#include "cli/exit_codes.hpp"
#include "cli/options.hpp"

#ifndef NETLAB_VERSION
#define NETLAB_VERSION "unknown"
#endif

namespace netlab::cli {

namespace {

// Text for a roff body line: backslashes and leading dots/quotes escaped, '-' as \-.
std::string roff(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    line_start = c == '\n';
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  return out;
}

std::string man_page() {
  std::ostringstream s;
  s << ".TH NETLAB 1 \"\" \"netlab " NETLAB_VERSION "\" \"User Commands\"\n"
       ".SH NAME\nnetlab \\- network labs of Linux namespaces, from a TOML file\n"
       ".SH SYNOPSIS\n.B netlab\n.I VERB\n[\\fIoptions\\fR] [\\fIargs\\fR]\n"
       ".SH DESCRIPTION\n"
       "netlab builds network labs of isolated nodes (their own network, mount, PID, UTS, IPC and\n"
       "cgroup namespaces) wired with bridges and veth pairs, addressed, routed and NATed as a\n"
       "topology file describes, by talking netlink. Labs outlive the command; \\fBnetlab destroy\\fR\n"
       "removes exactly what a lab created. Changing labs needs root.\n"
       ".SH VERBS\n";
  for (const auto& v : verb_table()) {
    VerbInfo info = describe_verb(v);
    s << ".SS " << v.name << "\n.nf\n" << roff(info.usage) << "\n.fi\n.PP\n" << roff(info.description) << "\n";
    for (const auto& o : info.options) {
      if (o.long_name == "verbose" || o.long_name == "quiet" || o.long_name == "help") continue;  // COMMON OPTIONS
      s << ".TP\n";
      if (o.positional) {
        s << ".I \"" << roff(o.value_name + (o.repeats && o.value_name.find(' ') == std::string::npos ? "..." : "")) << "\"\n";
      } else {
        s << "\\fB";
        if (o.short_name) s << "\\-" << o.short_name << "\\fR, \\fB";
        s << "\\-\\-" << roff(o.long_name) << "\\fR";
        if (!o.value_name.empty()) s << " \\fI" << roff(o.value_name) << "\\fR";
        s << "\n";
      }
      s << roff(o.help) << (o.default_value.empty() ? "" : " (default " + roff(o.default_value) + ")")
        << "\n";
    }
  }
  s << ".SH COMMON OPTIONS\nEvery verb takes these.\n"
       ".TP\n\\fB\\-v\\fR, \\fB\\-\\-verbose\\fR\nmore output: \\fB\\-v\\fR each step, \\fB\\-vv\\fR each netlink message\n"
       ".TP\n\\fB\\-q\\fR, \\fB\\-\\-quiet\\fR\nwarnings and errors only\n"
       ".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nthe verb's help (also \\fBnetlab help\\fR \\fIVERB\\fR)\n"
       ".SH ENVIRONMENT\n"
       ".TP\n.B NETLAB_STATE_DIR\nstate directory of deployed labs (default /run/netlab)\n"
       ".TP\n.B NETLAB_CGROUP_PARENT\ncgroup under which labs' cgroups are made (default netlab)\n"
       ".TP\n.B NETLAB_INIT\npath of the node init program (default: beside netlab, or ../libexec/netlab)\n"
       ".TP\n.B NO_COLOR\nwhen set, no colour in messages\n"
       ".SH EXIT STATUS\n";
  for (const char* line : {"0 ok", "1 user error: bad file, bad option, unknown lab or node, a conflict",
                           "2 system error: the kernel or the system refused (the lab is rolled back)",
                           "3 destroy could not remove everything (listed; running destroy again is safe)",
                           "4 netlab test: at least one check failed",
                           "130, 143 interrupted by SIGINT or SIGTERM (what was built is rolled back)"})
    s << ".TP\n" << roff(std::string(line).substr(0, std::string(line).find(' '))) << "\n"
      << roff(std::string(line).substr(std::string(line).find(' ') + 1)) << "\n";
  s << ".SH FILES\n.TP\n.I /run/netlab/LAB/\na deployed lab's journal, lock and the topology it was deployed from\n"
       ".TP\n.I /run/netns/LAB\\-NODE\neach node's network namespace, for ip netns exec\n"
       ".SH EXAMPLES\n.nf\n"
       "sudo netlab deploy topologies/nat\\-gateway.toml\n"
       "sudo netlab exec natgw h1 \\-\\- ping \\-c1 203.0.113.254\n"
       "sudo netlab test topologies/nat\\-gateway.toml \\-\\-junit results.xml\n"
       "sudo netlab destroy \\-\\-lab natgw\n"
       ".fi\n"
       ".SH SEE ALSO\n\\fBip\\-netns\\fR(8), \\fBnft\\fR(8), \\fBtc\\-netem\\fR(8);\n"
       "docs/topology.md (the topology file), docs/inspect.md (inspect's JSON)\n";
  return s.str();
}

}  // namespace

int run_man(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab man";
  spec.summary = "Print the netlab(1) man page (roff); read it with `netlab man | man -l -`.";
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;
  std::cout << man_page();
  return kExitOk;
}

}  // namespace netlab::cli
