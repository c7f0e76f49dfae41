// Loading a topology: toml++ → raw model with source positions → resolved Lab,
// with every diagnostic collected. The only entry points the rest of netlab uses.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "topology/model.hpp"
#include "util/diag.hpp"

namespace netlab::topo {

/// Parses, resolves and validates `source` (named `file` in diagnostics).
/// Returns the Lab when there are no errors (warnings allowed); every problem
/// found is in `diags` either way.
std::optional<Lab> load_string(std::string_view source, const std::string& file, Diagnostics& diags);

/// Reads `path` then load_string(). An unreadable file is a diagnostic, not an exception.
std::optional<Lab> load_file(const std::string& path, Diagnostics& diags);

}  // namespace netlab::topo
