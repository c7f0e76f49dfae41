// Resolving "[LAB] NODE" for exec and shell, and running a command in a node.
#pragma once

#include <string>
#include <vector>

#include "cli/common.hpp"

namespace netlab::cli {

/// Runs `argv` in NODE of LAB (LAB may be empty when one lab is deployed) and
/// returns the command's exit code, or a netlab exit code after printing why.
/// `interactive` (shell): the command always gets a pty of the node's own.
/// A node of a multi-host lab that runs on another host is reached over ssh
/// (`netlab exec|shell LAB NODE --local` there), unless `local`.
int run_in_node(const lab::HostFacts& facts, const std::string& lab, const std::string& node,
                const std::vector<std::string>& argv, bool interactive = false, bool local = false);

}  // namespace netlab::cli
