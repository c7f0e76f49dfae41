#include "util/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace netlab {

void init_logging(int verbosity) {
  auto logger = spdlog::stderr_color_mt("netlab");
  logger->set_pattern("%^%l%$: %v");
  spdlog::set_default_logger(logger);
  switch (verbosity) {
    case -1: spdlog::set_level(spdlog::level::warn); break;
    case 0: spdlog::set_level(spdlog::level::info); break;
    case 1: spdlog::set_level(spdlog::level::debug); break;
    default: spdlog::set_level(spdlog::level::trace); break;
  }
}

}  // namespace netlab
