// Logging setup: spdlog to stderr. Levels: info = lab lifecycle, debug = each
// action, trace = each netlink message.
#pragma once

namespace netlab {

/// verbosity: -1 quiet (warnings and errors only), 0 info, 1 debug (-v), 2 trace (-vv).
void init_logging(int verbosity);

}  // namespace netlab
