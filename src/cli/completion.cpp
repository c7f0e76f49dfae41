// netlab completion bash|zsh: a completion script made from the verb table and
// each verb's declared options (describe_verb), so it never drifts from --help.
// Values complete by their name: FILE a file, DIR a directory, LAB a deployed lab.
#include <iostream>
#include <sstream>

#include "cli/exit_codes.hpp"
#include "cli/options.hpp"

namespace netlab::cli {

namespace {

// The words a value named `value_name` completes to, as a bash compgen action.
std::string bash_action(const std::string& value_name) {
  if (value_name == "FILE" || value_name == "OUT.xml") return "file";
  if (value_name == "DIR") return "dir";
  if (value_name == "LAB" || value_name == "[LAB] NODE" || value_name == "[LAB] NODE:IFACE") return "lab";
  if (value_name == "VERB") return "verb";
  if (value_name == "SHELL") return "shell";
  return "";
}

std::string bash_script() {
  std::ostringstream s;
  s << "# bash completion for netlab (made by `netlab completion bash`)\n"
       "_netlab_labs() {\n"
       "  local d=\"${NETLAB_STATE_DIR:-/run/netlab}\" l\n"
       "  for l in \"$d\"/*/; do l=${l%/}; l=${l##*/}; [[ $l != images && $l != '*' ]] && echo \"$l\"; done 2>/dev/null\n"
       "}\n"
       "_netlab() {\n"
       "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
       "  local verbs=\"";
  bool first = true;
  for (const auto& v : verb_table()) s << (first ? "" : " ") << v.name, first = false;
  s << "\"\n"
       "  if (( COMP_CWORD == 1 )); then\n"
       "    COMPREPLY=($(compgen -W \"$verbs --help --version\" -- \"$cur\")); return\n"
       "  fi\n"
       "  local opts=\"\" valued=\"\" arg=\"\" i\n"
       "  case ${COMP_WORDS[1]} in\n";
  for (const auto& v : verb_table()) {
    VerbInfo info = describe_verb(v);
    std::string opts, arg;
    std::ostringstream valued;
    for (const auto& o : info.options) {
      if (o.positional) {
        if (arg.empty()) arg = bash_action(o.value_name);
        continue;
      }
      opts += " --" + o.long_name;
      if (o.short_name) opts += std::string(" -") + o.short_name;
      if (!o.value_name.empty()) {
        valued << " --" << o.long_name << "=" << bash_action(o.value_name);
        if (o.short_name) valued << " -" << o.short_name << "=" << bash_action(o.value_name);
      }
    }
    s << "    " << v.name << ") opts=\"" << opts.substr(1) << "\"; valued=\"" << valued.str().substr(valued.str().empty() ? 0 : 1)
      << "\"; arg=\"" << arg << "\" ;;\n";
  }
  s << "    *) return ;;\n"
       "  esac\n"
       "  local action=$arg\n"
       "  for i in $valued; do\n"
       "    if [[ ${i%%=*} == \"$prev\" ]]; then action=${i#*=}; [[ -z $action ]] && action=none; break; fi\n"
       "  done\n"
       "  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\")); return; fi\n"
       "  case $action in\n"
       "    file) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
       "    dir) COMPREPLY=($(compgen -d -- \"$cur\")) ;;\n"
       "    lab) COMPREPLY=($(compgen -W \"$(_netlab_labs)\" -- \"$cur\")) ;;\n"
       "    verb) COMPREPLY=($(compgen -W \"$verbs\" -- \"$cur\")) ;;\n"
       "    shell) COMPREPLY=($(compgen -W \"bash zsh\" -- \"$cur\")) ;;\n"
       "    *) COMPREPLY=() ;;\n"
       "  esac\n"
       "}\n"
       "complete -o filenames -F _netlab netlab\n";
  return s.str();
}

// zsh _arguments wants ':' '[' ']' '\'' escaped in descriptions.
std::string zsh_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') c = ' ';
    if (c == '\'') out += "'\\''";
    else if (c == '[' || c == ']' || c == ':' || c == '\\') out += std::string("\\") + c;
    else out += c;
  }
  return out;
}

std::string zsh_action(const std::string& value_name) {
  std::string a = bash_action(value_name);
  if (a == "file") return "_files";
  if (a == "dir") return "_files -/";
  if (a == "lab") return "_netlab_labs";
  if (a == "verb") return "_netlab_verbs";
  if (a == "shell") return "(bash zsh)";
  return " ";
}

std::string zsh_script() {
  std::ostringstream s;
  s << "#compdef netlab\n"
       "# zsh completion for netlab (made by `netlab completion zsh`)\n"
       "_netlab_labs() {\n"
       "  local -a labs\n"
       "  labs=(${NETLAB_STATE_DIR:-/run/netlab}/*(N/:t))\n"
       "  labs=(${labs:#images})\n"
       "  compadd -a labs\n"
       "}\n"
       "_netlab_verbs() {\n"
       "  local -a verbs\n"
       "  verbs=(\n";
  for (const auto& v : verb_table()) s << "    '" << v.name << ":" << zsh_escape(v.summary) << "'\n";
  s << "  )\n"
       "  _describe verb verbs\n"
       "}\n"
       "_netlab() {\n"
       "  if (( CURRENT == 2 )); then _netlab_verbs; return; fi\n"
       "  local verb=$words[2]\n"
       "  shift words; (( CURRENT-- ))\n"
       "  case $verb in\n";
  for (const auto& v : verb_table()) {
    VerbInfo info = describe_verb(v);
    s << "    " << v.name << ")\n      _arguments -s";
    int position = 0;
    for (const auto& o : info.options) {
      if (o.positional) {
        s << " \\\n        '" << (o.repeats ? std::string("*") : std::to_string(++position)) << ":"
          << zsh_escape(o.value_name) << ":" << zsh_action(o.value_name) << "'";
        continue;
      }
      std::string tail = "[" + zsh_escape(o.help) + "]";
      if (!o.value_name.empty()) tail += ":" + zsh_escape(o.value_name) + ":" + zsh_action(o.value_name);
      s << " \\\n        '--" << o.long_name << (o.value_name.empty() ? "" : "=") << tail << "'";
      if (o.short_name) s << " \\\n        '-" << o.short_name << tail << "'";
    }
    s << " ;;\n";
  }
  s << "  esac\n"
       "}\n"
       "_netlab \"$@\"\n";
  return s.str();
}

}  // namespace

int run_completion(const Args& args) {
  VerbSpec spec;
  spec.usage = "netlab completion SHELL";
  spec.summary =
      "Print a completion script for SHELL (bash or zsh), made from the same tables as --help.\n"
      "bash: source <(netlab completion bash), or install it as\n"
      "/usr/share/bash-completion/completions/netlab; zsh: install it as _netlab in a\n"
      "directory of $fpath (e.g. /usr/local/share/zsh/site-functions).";
  spec.options.add_options()("shell", po::value<std::string>()->required()->value_name("SHELL"),
                             "bash or zsh");
  spec.positional.add("shell", 1);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;
  std::string shell = vm["shell"].as<std::string>();
  if (shell == "bash") std::cout << bash_script();
  else if (shell == "zsh") std::cout << zsh_script();
  else return usage_error(spec, "unknown shell \"" + shell + "\" (bash or zsh)");
  return kExitOk;
}

}  // namespace netlab::cli
