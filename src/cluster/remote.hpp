// Whole-lab orchestration over OpenSSH (docs/multi-host.md): `netlab ARGS...`
// run on several hosts at once through each host's `ssh` target, one
// multiplexed connection per host (ControlMaster=auto, ControlPersist). The
// ssh command is "ssh" unless NETLAB_SSH gives another: a program and its
// first arguments, separated by spaces (e.g. "ssh -F /etc/netlab/ssh_config";
// an option given there wins over netlab's own, as ssh takes the first value
// of each). netlab must be on each host's PATH.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "topology/model.hpp"

namespace netlab::cluster {

struct RemoteResult {
  int host = -1;
  int exit_code = -1;   // the remote netlab's, or 255 when ssh itself failed
  std::string output;   // stdout and stderr, interleaved
  std::string out;      // stdout alone (a --json answer)
  std::string err;      // stderr alone
};

/// "'a b'" — one argument quoted for the remote shell ssh hands the command to.
std::string shell_quote(const std::string& arg);

/// The ssh command line for host `h` running netlab with `args`; `multiplex`:
/// one master connection per host (ControlMaster=auto, a ControlPath in
/// ~/.ssh, ControlPersist=60), used when ~/.ssh exists.
std::vector<std::string> ssh_argv(const topo::Host& h, const std::vector<std::string>& args, bool multiplex = true);

/// NETLAB_SSH split into words, or {"ssh"}.
std::vector<std::string> ssh_command();

/// Runs netlab with `args` on host `h` with this process's stdin, stdout and
/// stderr (exec, shell, link: the user talks to the remote command); `tty`
/// asks ssh for a terminal (-t). Returns the remote exit code, 255 when ssh
/// itself failed.
int run_attached(const topo::Host& h, const std::vector<std::string>& args, bool tty);

/// netlab running on one host over ssh, talked to line by line while it
/// runs: its stdin is a pipe (closing it is EOF there), its stdout is read
/// line by line, its stderr collected. The destructor closes stdin and waits.
class RemoteProcess {
 public:
  RemoteProcess(const topo::Host& h, int index, const std::vector<std::string>& args);
  ~RemoteProcess();
  RemoteProcess(const RemoteProcess&) = delete;
  RemoteProcess& operator=(const RemoteProcess&) = delete;
  /// The next line of its stdout (without the newline); nullopt at EOF or
  /// when `timeout_ms` passes first.
  std::optional<std::string> read_line(int timeout_ms);
  void close_stdin();
  /// Closes stdin, reads stdout and stderr to their end, waits for ssh.
  RemoteResult finish();

 private:
  int host_;
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  std::string pending_, all_out_;
};

/// Runs netlab with args_for(host) on every host in `hosts`, in parallel; waits for all.
/// `input`: written to each remote command's stdin (then closed); null: /dev/null.
std::vector<RemoteResult> run_on_hosts(const topo::Lab& lab, const std::vector<int>& hosts,
                                       const std::vector<std::vector<std::string>>& args_per_host,
                                       const std::string* input = nullptr);

}  // namespace netlab::cluster
