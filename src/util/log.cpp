#include "util/log.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace netlab {

namespace {

std::mutex g_term;         // stderr's status line and log lines
bool g_status_drawn = false;

void clear_locked() {
  if (!g_status_drawn) return;
  std::fputs("\r\033[K", stderr);
  g_status_drawn = false;
}

// "level: message" on stderr; the level coloured when asked.
class StderrSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit StderrSink(bool color) : color_(color) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::lock_guard lock(g_term);
    clear_locked();
    auto name = spdlog::level::to_string_view(msg.level);
    const char* c = "";
    switch (msg.level) {
      case spdlog::level::critical:
      case spdlog::level::err: c = "\033[31m"; break;
      case spdlog::level::warn: c = "\033[33m"; break;
      case spdlog::level::info: c = "\033[32m"; break;
      case spdlog::level::debug: c = "\033[36m"; break;
      default: break;
    }
    if (color_ && *c) std::fprintf(stderr, "%s%.*s\033[0m: ", c, static_cast<int>(name.size()), name.data());
    else std::fprintf(stderr, "%.*s: ", static_cast<int>(name.size()), name.data());
    std::fwrite(msg.payload.data(), 1, msg.payload.size(), stderr);
    std::fputc('\n', stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  bool color_;
};

class CallbackSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit CallbackSink(std::function<void(spdlog::level::level_enum, std::string_view)> fn) : fn_(std::move(fn)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    fn_(msg.level, std::string_view(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override {}

 private:
  std::function<void(spdlog::level::level_enum, std::string_view)> fn_;
};

}  // namespace

namespace log {

spdlog::logger& logger() {
  static auto* l = [] {
    auto* lg = new spdlog::logger("netlab");  // no sink: silent until asked
    lg->set_level(spdlog::level::off);
    return lg;
  }();
  return *l;
}

}  // namespace log

void init_logging(int verbosity) {
  const char* no_color = std::getenv("NO_COLOR");
  bool color = ::isatty(STDERR_FILENO) == 1 && !(no_color && *no_color);
  auto sink = std::make_shared<StderrSink>(color);
  spdlog::level::level_enum level = spdlog::level::info;
  switch (verbosity) {
    case -1: level = spdlog::level::warn; break;
    case 0: level = spdlog::level::info; break;
    case 1: level = spdlog::level::debug; break;
    default: level = spdlog::level::trace; break;
  }
  auto& l = log::logger();
  l.sinks() = {sink};
  l.set_level(level);
  // Code that still logs through spdlog's default logger reads the same.
  auto def = std::make_shared<spdlog::logger>("netlab-cli", sink);
  spdlog::set_default_logger(def);
  spdlog::set_level(level);
}

void set_log_handler(std::function<void(spdlog::level::level_enum, std::string_view)> handler,
                     spdlog::level::level_enum min_level) {
  auto& l = log::logger();
  if (!handler) {
    l.sinks().clear();
    l.set_level(spdlog::level::off);
    return;
  }
  l.sinks() = {std::make_shared<CallbackSink>(std::move(handler))};
  l.set_level(min_level);
}

void draw_status_line(std::string_view line) {
  std::lock_guard lock(g_term);
  std::fprintf(stderr, "\r\033[K%.*s", static_cast<int>(line.size()), line.data());
  std::fflush(stderr);
  g_status_drawn = true;
}

void clear_status_line() {
  std::lock_guard lock(g_term);
  clear_locked();
  std::fflush(stderr);
}

}  // namespace netlab
