// Logging: the library's own spdlog logger, silent until a program asks for its
// lines — the CLI with init_logging (stderr, colour unless NO_COLOR or not a
// terminal), a program using the C++ API with set_log_handler. Levels: info =
// lab lifecycle, debug = each action, trace = each netlink message. Library code
// logs through netlab::log::info(...) etc., never spdlog's default logger (which
// belongs to the program that links netlab).
#pragma once

#include <spdlog/logger.h>

#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace netlab {

/// verbosity: -1 quiet (warnings and errors only), 0 info, 1 debug (-v), 2 trace (-vv).
/// Lines go to stderr, coloured on a terminal unless $NO_COLOR is set.
void init_logging(int verbosity);

/// Sends the library's lines at `min_level` and above to `handler` (from any thread);
/// an empty handler makes the library silent again (the default).
void set_log_handler(std::function<void(spdlog::level::level_enum, std::string_view)> handler,
                     spdlog::level::level_enum min_level);

/// A terminal's live status line (deploy progress) on stderr: drawn over itself, and
/// cleared before any log line is written so the two never share a line.
void draw_status_line(std::string_view line);
void clear_status_line();

namespace log {

/// The library's logger (not registered with spdlog, never the default logger).
spdlog::logger& logger();

template <typename... Args>
void trace(spdlog::format_string_t<Args...> f, Args&&... args) { logger().trace(f, std::forward<Args>(args)...); }
template <typename... Args>
void debug(spdlog::format_string_t<Args...> f, Args&&... args) { logger().debug(f, std::forward<Args>(args)...); }
template <typename... Args>
void info(spdlog::format_string_t<Args...> f, Args&&... args) { logger().info(f, std::forward<Args>(args)...); }
template <typename... Args>
void warn(spdlog::format_string_t<Args...> f, Args&&... args) { logger().warn(f, std::forward<Args>(args)...); }
template <typename... Args>
void error(spdlog::format_string_t<Args...> f, Args&&... args) { logger().error(f, std::forward<Args>(args)...); }
template <typename... Args>
void critical(spdlog::format_string_t<Args...> f, Args&&... args) { logger().critical(f, std::forward<Args>(args)...); }

}  // namespace log

}  // namespace netlab
