// Becoming a node's program: the last steps of the init's children and of
// `netlab exec`. Header only, standard headers only: the static init uses it
// without linking netlab's libraries.
#pragma once

#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace netlab::node {

/// Switches to `user` (uid, gid) when given, then execs argv with a PATH
/// search. Never returns: exits 126 when the switch or the exec fails, 127 when
/// the program does not exist (the shell's convention). `who` starts the message.
[[noreturn]] inline void exec_as(const std::optional<std::pair<uint32_t, uint32_t>>& user,
                                 const std::vector<std::string>& argv, const char* who) {
  if (user) {
    gid_t gid = user->second;
    if (::setgroups(1, &gid) < 0 || ::setgid(gid) < 0 || ::setuid(user->first) < 0) {
      std::fprintf(stderr, "%s: switching user: %s\n", who, std::strerror(errno));
      ::_exit(126);
    }
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  int err = errno;
  std::fprintf(stderr, "%s: %s: %s\n", who, args[0], std::strerror(err));
  ::_exit(err == ENOENT ? 127 : 126);
}

}  // namespace netlab::node
