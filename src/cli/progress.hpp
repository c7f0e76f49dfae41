// Deploy progress: a live line on a terminal ("nodes · 4120/41425 actions ·
// 930/s · about 40 s left · 4.4 s"), plain debug log lines otherwise. Phases
// report at their end, the nodes phase also every 64 actions.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace netlab::cli {

/// The progress line: phase, actions done of all, the rate so far and the
/// time left at that rate (from 2 s on, when the rate means something).
std::string progress_line(const char* phase, size_t done, size_t total, size_t nodes, size_t links, double elapsed_s);

class Progress {
 public:
  Progress(size_t nodes, size_t links);
  std::function<void(const char*, size_t, size_t)> callback();
  ~Progress();
  void finish();

 private:
  void update(const char* phase, size_t done, size_t total);
  size_t nodes_, links_;
  bool tty_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace netlab::cli
