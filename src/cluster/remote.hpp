// Whole-lab orchestration over OpenSSH (docs/multi-host.md): `netlab ARGS...`
// run on several hosts at once through each host's `ssh` target, one
// multiplexed connection per host (ControlMaster=auto, ControlPersist). The
// ssh program is "ssh" unless NETLAB_SSH names another (tests use a stand-in
// that enters a simulated host's namespaces). netlab must be on each host's PATH.
#pragma once

#include <string>
#include <vector>

#include "topology/model.hpp"

namespace netlab::cluster {

struct RemoteResult {
  int host = -1;
  int exit_code = -1;   // the remote netlab's, or 255 when ssh itself failed
  std::string output;   // stdout and stderr, interleaved
};

/// "'a b'" — one argument quoted for the remote shell ssh hands the command to.
std::string shell_quote(const std::string& arg);

/// The ssh command line for host `h` running netlab with `args`.
std::vector<std::string> ssh_argv(const topo::Host& h, const std::vector<std::string>& args);

/// Runs netlab with args_for(host) on every host in `hosts`, in parallel; waits for all.
std::vector<RemoteResult> run_on_hosts(const topo::Lab& lab, const std::vector<int>& hosts,
                                       const std::vector<std::vector<std::string>>& args_per_host);

}  // namespace netlab::cluster
