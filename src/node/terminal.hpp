// Terminals for programs run in a node (`netlab exec`, `netlab shell`). The
// program never gets the caller's terminal: a program that holds your terminal
// (as its controlling tty, or as any fd) can push keystrokes into your shell
// with TIOCSTI, and they run as you once netlab returns. Instead the program
// gets a pseudo-terminal of the node's own devpts instance, which netlab
// relays to the caller's terminal, as `docker exec -it` and `machinectl shell`
// do. See docs/security.md (Terminals).
#pragma once

#include <sys/types.h>

#include "util/fd.hpp"

namespace netlab::node {

/// How the caller's stdin, stdout and stderr reach a program started in a node.
struct StdioPlan {
  bool pty = false;          // the program gets a pty of the node's own
  bool on_pty[3] = {};       // which of fds 0..2 become the pty (the others pass through)
  bool relay_input = false;  // caller's fd 0 -> the pty
  int out_fd = -1;           // the pty -> this caller fd
  int term_fd = -1;          // the caller's terminal (termios, window size), -1 if none
  bool raw = false;          // put term_fd in raw mode while relaying
};

/// `netlab shell` (interactive): always a pty; all three fds are the pty.
/// `netlab exec`: a pty only for the fds that are terminals (fd 0 a terminal:
/// input relayed in raw mode, unless netlab is a background job of that
/// terminal); pipes and files pass through untouched; no terminal at all: no pty.
StdioPlan plan_stdio(bool interactive);

/// A pseudo-terminal pair from the devpts instance at /dev/pts/ptmx of the
/// calling process's mount namespace (call it after joining the node's mount
/// and user namespaces). The path is opened without following symlinks and
/// the result checked to be a ptmx of a devpts, whatever the node mounted
/// there; the slave comes from the master (TIOCGPTPEER), never from a path.
struct Pty {
  Fd master;  // non-blocking
  Fd slave;
};
Pty open_node_pty();

/// Copies the caller's terminal settings and window size to the pty (before
/// the program starts, so it sees them from its first instruction).
void prepare_pty(const StdioPlan& plan, const Pty& pty);

/// In the forked child, before exec: a new session; with a pty, the pty as
/// controlling terminal and on the fds the plan names; every fd above 2 closed.
/// Returns 0, or -errno (the child reports it and exits).
int attach_child_stdio(const StdioPlan& plan, int slave);

/// Signals the relay handles (blocked from before the fork until the program is
/// reaped, so none is lost; the child unblocks them with `unblock_relay_signals`).
void block_relay_signals();
void unblock_relay_signals();

/// In the parent: relays between the caller's fds and the pty (raw mode while
/// relaying; the window size on SIGWINCH), forwards SIGINT/SIGQUIT/SIGTERM/SIGHUP
/// and returns the program's wait status. The caller's terminal is restored
/// before this returns or throws, and before any wait that could block.
int relay_and_wait(pid_t child, const StdioPlan& plan, Fd master);

}  // namespace netlab::node
