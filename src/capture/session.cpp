#include "capture/session.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "capture/command.hpp"
#include "util/error.hpp"
#include "util/fd.hpp"

namespace netlab::capture {

namespace {

using Clock = std::chrono::steady_clock;

// SIGINT, SIGTERM and SIGHUP arrive on a descriptor the poll loop watches;
// SIGPIPE is ignored so a closed stdout shows up as EPIPE from write().
// Everything is put back (pending signals consumed first) when the session ends.
class Signals {
 public:
  Signals() {
    sigemptyset(&set_);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set_, s);
    pthread_sigmask(SIG_BLOCK, &set_, &old_mask_);
    fd_ = Fd(::signalfd(-1, &set_, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd_) throw_errno("signalfd");
    struct sigaction ign{};
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old_pipe_);
  }
  ~Signals() {
    signalfd_siginfo info;
    while (::read(fd_.get(), &info, sizeof info) == sizeof info) {
    }
    sigaction(SIGPIPE, &old_pipe_, nullptr);
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  int fd() const { return fd_.get(); }
  bool take() {
    signalfd_siginfo info;
    bool got = false;
    while (::read(fd_.get(), &info, sizeof info) == sizeof info) got = true;
    return got;
  }

 private:
  sigset_t set_, old_mask_;
  struct sigaction old_pipe_{};
  Fd fd_;
};

// One descriptor per endpoint: raise the soft limit up to the hard one if a
// large lab needs it, and say so plainly if even that is too low.
void ensure_descriptors(size_t endpoints) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) < 0) return;
  rlim_t need = static_cast<rlim_t>(endpoints) + 64;
  if (lim.rlim_cur >= need) return;
  if (lim.rlim_max < need)
    throw Error(EMFILE, "capturing on {} interfaces needs {} file descriptors; the hard limit is {}", endpoints,
                need, lim.rlim_max);
  lim.rlim_cur = need;
  if (::setrlimit(RLIMIT_NOFILE, &lim) < 0) throw_errno("raising the file descriptor limit to {}", need);
}

struct Loop {
  std::vector<Source>& sources;
  Sink& sink;
  Summary& summary;
  uint64_t limit;            // 0 = none
  std::vector<bool> open;    // false once an interface failed
  std::exception_ptr error;  // thrown by the sink inside libpcap's callback
  size_t current = 0;

  static void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    auto* self = reinterpret_cast<Loop*>(user);
    if (self->error) return;
    try {
      self->sink.packet(self->current, h, bytes);
      ++self->summary.ends[self->current].captured;
      ++self->summary.captured;
    } catch (...) {
      // Never unwind through libpcap's C frames: stop its loop and rethrow outside.
      self->error = std::current_exception();
      pcap_breakloop(self->sources[self->current].handle());
    }
  }

  bool done() const { return limit && summary.captured >= limit; }

  // Reads what source i has ready. Returns false once the interface failed.
  bool read(size_t i) {
    if (!open[i] || done()) return open[i];
    current = i;
    int cnt = limit ? static_cast<int>(std::min<uint64_t>(limit - summary.captured, 1 << 30)) : -1;
    int n = pcap_dispatch(sources[i].handle(), cnt, on_packet, reinterpret_cast<u_char*>(this));
    if (error) std::rethrow_exception(error);
    if (n == PCAP_ERROR) {
      summary.ends[i].error = pcap_geterr(sources[i].handle());
      open[i] = false;
    }
    return open[i];
  }

  bool any_open() const { return std::find(open.begin(), open.end(), true) != open.end(); }

  // After a stop: what the kernel still holds in the rings. A block-mode
  // (TPACKET_V3) ring hands over a partly filled block only when its timer
  // retires it, so wait that long once.
  void drain(const HandleOptions& opt) {
    for (size_t i = 0; i < sources.size(); ++i) read(i);
    if (opt.immediate || done()) return;
    auto until = Clock::now() + std::chrono::milliseconds(opt.timeout_ms + 150);
    std::vector<pollfd> fds;
    for (size_t i = 0; i < sources.size(); ++i) fds.push_back({open[i] ? sources[i].fd() : -1, POLLIN, 0});
    while (!done()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
      if (left <= 0) break;
      int n = ::poll(fds.data(), fds.size(), static_cast<int>(left));
      if (n < 0 && errno != EINTR) break;
      for (size_t i = 0; n > 0 && i < fds.size(); ++i)
        if (fds[i].revents && !read(i)) fds[i].fd = -1;
    }
  }
};

}  // namespace

Summary run(const std::vector<Endpoint>& ends, const Options& o) {
  if (ends.empty()) throw Error(EINVAL, "nothing to capture on");
  ensure_descriptors(ends.size());
  std::vector<Source> sources = open_sources(ends, o.handle, o.filter);
  std::unique_ptr<Sink> sink = make_sink(o.output);
  Summary summary;
  for (const auto& s : sources) {
    sink->add(s);
    summary.ends.push_back({s.label(), 0, 0, 0, ""});
  }
  Signals signals;
  if (o.on_ready) o.on_ready();
  std::optional<Command> command;
  if (!o.command.empty())
    command = Command::start(o.command, o.output.format != Format::kText && o.output.path == "-");

  Loop loop{sources, *sink, summary, o.count, std::vector<bool>(sources.size(), true), nullptr};
  const size_t kFirst = 2;  // pollfd 0: signals, 1: the command's pidfd
  std::vector<pollfd> fds{{signals.fd(), POLLIN, 0}, {command ? command->pidfd() : -1, POLLIN, 0}};
  for (const auto& s : sources) fds.push_back({s.fd(), POLLIN, 0});
  auto deadline = Clock::now() + std::chrono::nanoseconds(o.duration_ns);
  auto next_check = Clock::now() + std::chrono::seconds(1);
  try {
    while (summary.stopped_by.empty()) {
      int timeout = o.still_there ? 1000 : -1;
      if (o.still_there && Clock::now() >= next_check) {
        next_check = Clock::now() + std::chrono::seconds(1);
        if (!o.still_there()) {
          summary.stopped_by = "gone";
          break;
        }
      }
      if (o.duration_ns) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
          summary.stopped_by = "duration";
          break;
        }
        timeout = static_cast<int>(std::min<int64_t>(left + 1, timeout < 0 ? 1 << 30 : timeout));
      }
      int n = ::poll(fds.data(), fds.size(), timeout);
      if (n < 0 && errno != EINTR) throw_errno("poll");
      for (size_t i = kFirst; n > 0 && i < fds.size(); ++i)
        if (fds[i].revents && !loop.read(i - kFirst)) fds[i].fd = -1;
      sink->flush_stream();
      if (loop.done()) summary.stopped_by = "count";
      else if (fds[0].revents && signals.take()) summary.stopped_by = "signal";
      else if (fds[1].revents && command->reap(false)) summary.stopped_by = "command";
      else if (!loop.any_open()) summary.stopped_by = "interfaces gone";
    }
    if (summary.stopped_by != "count" && summary.stopped_by != "gone") loop.drain(o.handle);
  } catch (const Error& e) {
    if (e.errnum() != EPIPE) throw;
    summary.stopped_by = "output closed";  // `| head` or a closed Wireshark: not a failure
  }
  std::vector<Source::Counters> counters;
  for (size_t i = 0; i < sources.size(); ++i) {
    counters.push_back(sources[i].counters());
    summary.ends[i].accepted = counters.back().accepted;
    summary.ends[i].dropped = counters.back().dropped;
  }
  close_sources(sources);  // the capture is over: no ring fills while the command finishes
  if (summary.stopped_by != "output closed") {
    try {
      sink->finish(counters);
    } catch (const Error& e) {
      if (e.errnum() != EPIPE) throw;
    }
  }
  if (command) {
    // The command is the experiment: a count or duration ends the capture, not
    // it. A signal to netlab (Ctrl-C, kill) is passed on.
    if (summary.stopped_by == "signal") command->signal(SIGTERM);
    pollfd wait[2] = {{signals.fd(), POLLIN, 0}, {command->pidfd(), POLLIN, 0}};
    while (!command->reap(false)) {
      if (::poll(wait, 2, -1) < 0 && errno != EINTR) break;
      if (wait[0].revents && signals.take()) command->signal(SIGTERM);
    }
    command->reap(true);
    summary.command_status = command->status();
  }
  return summary;
}

}  // namespace netlab::capture
