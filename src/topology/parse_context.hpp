// Internal to the topology module: the raw parse (toml++ → model with source
// positions) and the validation pass share this context. Not a public header.
#pragma once

#include <string>
#include <vector>

#include "topology/model.hpp"
#include "util/diag.hpp"

namespace netlab::topo::detail {

struct Context {
  std::string file;
  Diagnostics& diags;
  void error(const SourcePos& pos, std::string msg, std::string hint = {}) {
    diags.error(pos, std::move(msg), std::move(hint));
  }
};

/// Raw parse: fills `lab` from `source`; every problem is a diagnostic. Returns
/// false when the TOML itself is unreadable (nothing else can be checked).
bool parse_raw(std::string_view source, Context& ctx, Lab& lab);

/// Resolve names to indices, apply implicit interfaces, and run every semantic check.
void resolve_and_validate(Context& ctx, Lab& lab);

}  // namespace netlab::topo::detail
