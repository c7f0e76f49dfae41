// Multi-host apply (docs/multi-host.md): the topology text with an explicit
// `host = "NAME"` on every node, so that every host computes the same
// placement (and the same parts) from it without a partitioner. Text in, text
// out: the TOML document is re-written by toml++ (comments are not kept).
#pragma once

#include <map>
#include <string>

namespace netlab::topo {

/// `text` (the file `file`) with `host = hosts[NODE]` set in each `[nodes.NODE]`
/// table. Throws Error(EINVAL) when the text does not parse or a node of
/// `hosts` has no table of its own under [nodes].
std::string pin_hosts(const std::string& text, const std::string& file,
                      const std::map<std::string, std::string>& hosts);

}  // namespace netlab::topo
