#include "cli/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include "util/log.hpp"

namespace netlab::cli {

Progress::Progress(size_t nodes, size_t links)
    : nodes_(nodes), links_(links), tty_(::isatty(STDERR_FILENO) == 1),
      t0_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { finish(); }

std::function<void(const char*, size_t, size_t)> Progress::callback() {
  return [this](const char* phase, size_t done, size_t total) { update(phase, done, total); };
}

void Progress::update(const char* phase, size_t done, size_t total) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  std::string line = fmt::format("{} done · {}/{} actions · {} nodes, {} links · {:.1f} s", phase,
                                 done, total, nodes_, links_, elapsed);
  if (tty_ && log::logger().should_log(spdlog::level::info)) {
    draw_status_line(line);  // log lines clear it first (util/log)
    drawn_ = true;
  } else {
    log::debug("{}", line);
  }
}

void Progress::finish() {
  if (drawn_) clear_status_line();
  drawn_ = false;
}

}  // namespace netlab::cli
