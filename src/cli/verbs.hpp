// The verb table's entry points: one function per verb, one file per verb.
// Each parses its own options, calls one library entry point and maps the
// result to an exit code (exit_codes.hpp).
#pragma once

#include <string>
#include <vector>

namespace netlab::cli {

using Args = std::vector<std::string>;  // the arguments after the verb

int run_validate(const Args& args);
int run_graph(const Args& args);
int run_generate(const Args& args);
int run_deploy(const Args& args);
int run_destroy(const Args& args);
int run_inspect(const Args& args);
int run_ls(const Args& args);
int run_exec(const Args& args);
int run_shell(const Args& args);
int run_test(const Args& args);
int run_link(const Args& args);
int run_images(const Args& args);

}  // namespace netlab::cli
