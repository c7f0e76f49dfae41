// Deploy progress: a live line on a terminal ("nodes 412/1000 · links wired ·
// 1.2 s"), plain log lines otherwise (spdlog at info).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>

namespace netlab::cli {

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
