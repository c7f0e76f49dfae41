#include "cli/interrupt.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <thread>

namespace netlab::cli {

namespace {

std::atomic<int> g_signal{0};
int g_pipe[2] = {-1, -1};
std::mutex g_mutex;
std::mutex g_running;  // held while a callback runs: replacing it waits for the callback
std::function<void(int)> g_callback;
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
struct sigaction g_old[3];
const char* g_notice = "";

void handler(int sig) {
  int expected = 0;
  if (g_signal.compare_exchange_strong(expected, sig)) {
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, "\n", 1);
    n = ::write(STDERR_FILENO, g_notice, std::strlen(g_notice));
    n = ::write(STDERR_FILENO, "\n", 1);
  }
  if (g_pipe[1] >= 0) {
    char c = 1;
    [[maybe_unused]] ssize_t n = ::write(g_pipe[1], &c, 1);
  }
}

void watcher() {
  char c;
  while (::read(g_pipe[0], &c, 1) > 0) {
    std::lock_guard running(g_running);
    std::function<void(int)> fn;
    {
      std::lock_guard lock(g_mutex);
      fn = g_callback;
    }
    if (fn && g_signal.load()) fn(g_signal.load());
  }
}

}  // namespace

// The watcher thread starts only when a callback is registered: while netlab is
// single-threaded, glibc's set*id wrappers in a raw clone child (a userns node
// before its exec) need no broadcast to other threads, which the child lacks.
static void start_watcher() {
  static bool started = false;
  if (started || g_pipe[0] < 0) return;
  std::thread(watcher).detach();
  started = true;
}

InterruptGuard::InterruptGuard(const char* notice) {
  g_notice = notice;
  if (g_pipe[0] < 0 && ::pipe2(g_pipe, O_CLOEXEC) < 0) g_pipe[0] = g_pipe[1] = -1;
  struct sigaction sa{};
  sa.sa_handler = handler;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &sa, &g_old[i]);
}

InterruptGuard::~InterruptGuard() {
  on_interrupt(nullptr);
  for (size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &g_old[i], nullptr);
}

const std::atomic<int>* InterruptGuard::flag() const { return &g_signal; }

std::string InterruptGuard::name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

void InterruptGuard::on_interrupt(std::function<void(int)> fn) {
  if (fn) start_watcher();
  std::lock_guard running(g_running);
  std::lock_guard lock(g_mutex);
  g_callback = std::move(fn);
  if (g_callback && g_signal.load() && g_pipe[1] >= 0) {
    char c = 1;
    [[maybe_unused]] ssize_t n = ::write(g_pipe[1], &c, 1);
  }
}

}  // namespace netlab::cli
