#include "cli/progress.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>

namespace netlab::cli {

Progress::Progress(size_t nodes, size_t links)
    : nodes_(nodes), links_(links), tty_(::isatty(STDERR_FILENO) == 1),
      t0_(std::chrono::steady_clock::now()) {}

std::function<void(const char*, size_t, size_t)> Progress::callback() {
  return [this](const char* phase, size_t done, size_t total) { update(phase, done, total); };
}

void Progress::update(const char* phase, size_t done, size_t total) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  std::string line = fmt::format("{} done · {}/{} actions · {} nodes, {} links · {:.1f} s", phase,
                                 done, total, nodes_, links_, elapsed);
  if (tty_ && spdlog::get_level() <= spdlog::level::info) {
    fmt::print(stderr, "\r\033[K{}", line);
    std::fflush(stderr);
    drawn_ = true;
  } else {
    spdlog::debug("{}", line);
  }
}

void Progress::finish() {
  if (drawn_) fmt::print(stderr, "\r\033[K");
}

}  // namespace netlab::cli
