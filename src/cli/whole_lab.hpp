// A multi-host lab as a whole, from any of its hosts (docs/multi-host.md):
// each host's state directory holds the whole topology file (saved at deploy)
// and the name of its own part (part-host), so this host knows every other
// host and its ssh target, and where each node runs, from that alone. The
// verbs reach the other hosts' parts by running `netlab VERB ... --local`
// there over ssh (cluster/remote), as deploy does; --local keeps a verb to
// this host's part, and is what every remote invocation passes, so a verb
// never fans out twice.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/common.hpp"
#include "cluster/placement.hpp"
#include "lab/checks.hpp"

namespace netlab::cli {

struct WholeLab {
  topo::Lab lab;                // the whole topology (every host, node and check)
  cluster::Placement placement;
  int self = -1;                // this host's index in lab.hosts; -1: no part here

  const std::string& name() const { return lab.name; }
  /// The host `node` runs on, -1 for no such node.
  int host_of(const std::string& node) const;
  /// The hosts other than this one, split into those with an ssh target and
  /// those without.
  std::vector<int> reachable(std::vector<std::string>* unreachable = nullptr) const;
};

/// The whole lab behind a lab deployed here, when it is one host's part of a
/// multi-host lab; nullopt for an ordinary lab (or no saved topology).
std::optional<WholeLab> deployed_whole_lab(const lab::HostFacts& facts, const std::string& name);

/// The whole lab of a topology file with [hosts]; `self` is this host's part
/// when the lab is deployed here.
WholeLab whole_lab_of(const topo::Lab& lab, const lab::HostFacts& facts);

/// destroy: this host's part here, every other host's over ssh (`destroy --lab
/// NAME --local`), in parallel. Hosts without an ssh target are named on
/// stderr (their parts are theirs to destroy). Returns the exit code.
int destroy_whole_lab(const WholeLab& w, const lab::HostFacts& facts);

/// inspect: every host's part (`inspect NAME --local --json ...` over ssh, this
/// host's here) merged into one document: the parts' nodes, bridges and
/// interfaces each with a "host" key, and "hosts" listing every host and
/// whether its part answered. `extra` are the flags passed on (--stats, --raw).
/// `ok` is false when a host's part could not be read.
nlohmann::json inspect_whole_lab(const WholeLab& w, const lab::HostFacts& facts, const std::vector<std::string>& extra,
                                 bool* ok);

/// test: each check runs on the host of its `from` node (`test FILE --host
/// NAME --group-index G --json` over ssh), group after group as on one host;
/// the results are merged in file order, each naming its host.
/// `keep` as for test; the lab is deployed over ssh first if no host has it.
int test_whole_lab(const topo::Lab& lab, const std::string& file, bool keep, int jobs,
                   std::vector<lab::CheckResult>& results);

}  // namespace netlab::cli
