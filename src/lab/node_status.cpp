#include "lab/node_status.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fmt/format.h>

#include "lab/lifecycle.hpp"
#include "lab/state.hpp"
#include "util/error.hpp"
#include "util/fd.hpp"
#include "util/strings.hpp"

namespace netlab::lab {

namespace {

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : fmt::format("signal {}", sig);
}

// At most 64 KiB from the end of the file: a status line, or a log's tail.
std::string read_end(const std::string& path, size_t max = 64 * 1024) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return {};
  struct stat st{};
  if (::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode)) return {};
  off_t from = st.st_size > static_cast<off_t>(max) ? st.st_size - static_cast<off_t>(max) : 0;
  std::string out(static_cast<size_t>(st.st_size - from), '\0');
  ssize_t n = ::pread(fd.get(), out.data(), out.size(), from);
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

}  // namespace

std::string CmdStatus::str() const {
  switch (state) {
    case State::kNone: return "none";
    case State::kRunning: return "running";
    case State::kExited: return fmt::format("exited {}", code);
    case State::kKilled: return "killed by " + signal_name(code);
    case State::kStopped: return "stopped";
  }
  return "?";
}

nlohmann::json CmdStatus::to_json() const {
  if (state == State::kNone) return nullptr;
  static const char* names[] = {"none", "running", "exited", "killed", "stopped"};
  nlohmann::json j = {{"state", names[static_cast<int>(state)]}, {"exit_code", nullptr}, {"signal", nullptr}};
  if (state == State::kExited) j["exit_code"] = code;
  if (state == State::kKilled) {
    j["signal"] = code;
    j["signal_name"] = signal_name(code);
  }
  return j;
}

CmdStatus parse_cmd_status(const std::string& text, bool has_cmd, bool node_running) {
  CmdStatus s;
  if (!has_cmd) return s;
  s.state = node_running ? CmdStatus::State::kRunning : CmdStatus::State::kStopped;
  // The node's init wrote it, and root in the node is not trusted: accept only
  // the two exact forms, with a number in range.
  auto words = split(std::string(trim(text)), ' ');
  if (words.size() != 2 || (words[0] != "exited" && words[0] != "killed")) return s;
  int value = -1;
  auto [ptr, ec] = std::from_chars(words[1].data(), words[1].data() + words[1].size(), value);
  if (ec != std::errc() || ptr != words[1].data() + words[1].size() || value < 0 || value > 255) return s;
  s.state = words[0] == "exited" ? CmdStatus::State::kExited : CmdStatus::State::kKilled;
  s.code = value;
  return s;
}

CmdStatus read_cmd_status(const HostFacts& facts, const std::string& lab, const std::string& node, bool has_cmd,
                          bool node_running) {
  std::string text = has_cmd ? read_end(node_dir(facts, lab, node) + "/status", 64) : "";
  return parse_cmd_status(text, has_cmd, node_running);
}

nlohmann::json cmd_summary(const HostFacts& facts, const std::string& lab) {
  nlohmann::json out = {{"running", 0}, {"ended", nlohmann::json::array()}};
  LabState state = read_lab_state(facts, lab);
  if (!state.topology) return out;
  for (const auto& n : state.nodes) {
    int i = state.topology->find_node(n.name);
    if (i < 0 || !state.topology->nodes[i].cmd) continue;
    CmdStatus s = read_cmd_status(facts, lab, n.name, true, n.running);
    if (s.state == CmdStatus::State::kRunning) {
      out["running"] = out["running"].get<int>() + 1;
    } else {
      nlohmann::json e = s.to_json();
      e["node"] = n.name;
      e["text"] = s.str();
      out["ended"].push_back(e);
    }
  }
  return out;
}

std::string node_log_path(const HostFacts& facts, const std::string& lab, const std::string& node) {
  return node_dir(facts, lab, node) + "/log";
}

std::string last_lines(const std::string& text, size_t lines) {
  if (lines == 0) return {};
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '\n') --end;
  size_t start = end, found = 0;
  while (start > 0) {
    size_t nl = text.rfind('\n', start - 1);
    if (nl == std::string::npos) {
      start = 0;
      break;
    }
    if (++found == lines) {
      start = nl + 1;
      break;
    }
    start = nl;
  }
  return end > start ? text.substr(start, end - start) + "\n" : "";
}

std::vector<std::string> ended_command_warnings(const HostFacts& facts, const std::string& lab, size_t lines) {
  std::vector<std::string> out;
  LabState state = read_lab_state(facts, lab);
  if (!state.topology) return out;
  for (const auto& n : state.nodes) {
    int i = state.topology->find_node(n.name);
    if (i < 0 || !state.topology->nodes[i].cmd) continue;
    CmdStatus s = read_cmd_status(facts, lab, n.name, true, n.running);
    // Exit 0 is how a start script (`frrinit.sh start`) ends: inspect shows it, no warning.
    if (!s.ended() || (s.state == CmdStatus::State::kExited && s.code == 0)) continue;
    std::string tail = last_lines(read_end(node_log_path(facts, lab, n.name)), lines);
    std::string text = fmt::format("node {}: its cmd ({}) {} during deploy", n.name,
                                   state.topology->nodes[i].cmd->text, s.str());
    text += tail.empty() ? "; its log is empty" : fmt::format("; last lines of its log:\n{}", tail);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    out.push_back(text);
  }
  return out;
}

void show_log(const HostFacts& facts, const std::string& lab, const std::string& node, size_t tail, bool follow,
              const std::function<bool(const std::string&)>& out, const std::atomic<bool>* stop) {
  LabState state = read_lab_state(facts, lab);
  bool known = false;
  for (const auto& n : state.nodes) known |= n.name == node;
  if (!known) throw LabConflict(ENOENT, "lab {} has no node {}", lab, node);
  std::string path = node_log_path(facts, lab, node);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    if (errno == ENOENT && !follow) return;  // the node never started: nothing written
    throw_errno("opening the log of node {} ({})", node, path);
  }
  // Watch before the first read so nothing appended in between is missed.
  Fd watch;
  if (follow) {
    watch.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!watch) throw_errno("inotify for the log of node {}", node);
    if (::inotify_add_watch(watch.get(), path.c_str(), IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF) < 0)
      throw_errno("watching {}", path);
  }
  off_t offset = 0;
  if (tail > 0) {
    struct stat st{};
    if (::fstat(fd.get(), &st) < 0) throw_errno("reading the size of {}", path);
    off_t from = std::max<off_t>(0, st.st_size - 256 * 1024);
    std::string end(static_cast<size_t>(st.st_size - from), '\0');
    ssize_t n = ::pread(fd.get(), end.data(), end.size(), from);
    end.resize(n > 0 ? static_cast<size_t>(n) : 0);
    offset = from + static_cast<off_t>(end.size());
    if (!out(last_lines(end, tail))) return;
  }
  auto drain = [&]() -> bool {
    char buf[16384];
    while (true) {
      ssize_t n = ::pread(fd.get(), buf, sizeof buf, offset);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return true;
      offset += n;
      if (!out(std::string(buf, static_cast<size_t>(n)))) return false;
    }
  };
  if (!drain() || !follow) return;
  std::string dir = node_dir(facts, lab, node);
  while (!(stop && stop->load())) {
    pollfd p{watch.get(), POLLIN, 0};
    // Wake up now and then: a destroy removes the node's directory while this
    // process still holds the log open (no IN_DELETE_SELF until it is closed).
    int rc = ::poll(&p, 1, 250);
    if (rc < 0 && errno != EINTR) throw_errno("waiting on the log of node {}", node);
    if (rc > 0) {
      char events[4096];
      while (::read(watch.get(), events, sizeof events) > 0) {
      }
    }
    if (!drain()) return;
    struct stat st{};
    if (::stat(path.c_str(), &st) < 0 || ::access(dir.c_str(), F_OK) < 0) return;  // destroyed
  }
}

}  // namespace netlab::lab
