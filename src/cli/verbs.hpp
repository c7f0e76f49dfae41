// The verb table's entry points: one function per verb, one file per verb.
// Each parses its own options, calls one library entry point and maps the
// result to an exit code (exit_codes.hpp). A verb calls parse_verb_options
// before it acts: help, completion and the man page run it in describe mode
// (run({}) returns 0 right there), so a new verb needs only its row in the
// table (main.cpp).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace netlab::cli {

using Args = std::vector<std::string>;  // the arguments after the verb

int run_validate(const Args& args);
int run_graph(const Args& args);
int run_generate(const Args& args);
int run_deploy(const Args& args);
int run_apply(const Args& args);
int run_destroy(const Args& args);
int run_inspect(const Args& args);
int run_ls(const Args& args);
int run_exec(const Args& args);
int run_shell(const Args& args);
int run_test(const Args& args);
int run_link(const Args& args);
int run_capture(const Args& args);
int run_logs(const Args& args);
int run_images(const Args& args);
int run_help(const Args& args);        // help.cpp
int run_version(const Args& args);     // help.cpp
int run_completion(const Args& args);  // completion.cpp
int run_man(const Args& args);         // manpage.cpp

/// The top-level usage: every verb of the table, exit codes (main.cpp).
void print_usage(std::ostream& out);
/// The verb nearest to `word` ("deploy" for "deplyo"), or "".
std::string suggest_verb(const std::string& word);

}  // namespace netlab::cli
