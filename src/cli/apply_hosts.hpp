// `netlab apply` of a multi-host lab (docs/multi-host.md, "apply"). The
// orchestrating host keeps every running node on its host (the running lab's
// placement), places only the new nodes (METIS, the old ones pinned), writes
// that as the topology with `host = "NAME"` on every node, and has every host
// apply THAT text to its own part (`apply - --local`, the text on stdin; this
// host's part in-process), in parallel. A part that fails rolls itself back;
// the parts that succeeded are then given the previous topology again.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "cli/common.hpp"
#include "topology/model.hpp"

namespace netlab::cli {

/// Applies `lab` (one host's whole file, or a lab without hosts) here: the plan
/// (dry_run) or the change, with apply's messages on `out` / `err`. `text`: the
/// topology text to save (unset: the file's). Returns the exit code.
int apply_here(const topo::Lab& lab, const std::optional<std::string>& text, const lab::HostFacts& facts,
               bool dry_run, std::ostream& out, std::ostream& err);

/// `apply FILE --local`: this host's part of the whole lab `whole` (the part
/// named by this host's part-host record) applied here.
int apply_part(const topo::Lab& whole, const std::optional<std::string>& text, const lab::HostFacts& facts,
               bool dry_run, std::ostream& out, std::ostream& err);

/// `apply FILE` of a multi-host lab from this host: every part, as above.
/// `text`: FILE's text (unset: read from target.file).
int apply_whole_lab(const topo::Lab& target, const std::optional<std::string>& text, const lab::HostFacts& facts,
                    bool dry_run);

}  // namespace netlab::cli
