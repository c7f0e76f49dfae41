#include "support/netlab_cli.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "support/fresh_ns.hpp"

extern char** environ;

namespace netlab::testing {

CliResult run_netlab(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  CliResult r;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) return r;
  std::vector<std::string> argv_s{NETLAB_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) env_s.emplace_back(*e);
  env_s.insert(env_s.end(), env.begin(), env.end());
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    std::vector<char*> argv, envp;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : env_s) envp.push_back(s.data());
    envp.push_back(nullptr);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

nlohmann::json ip_json(const std::string& netns, const std::string& args) {
  std::string cmd = "ip -j ";
  if (!netns.empty()) cmd += "-n " + netns + " ";
  cmd += args + " 2>/dev/null";
  std::string out = run_shell(cmd);
  auto j = nlohmann::json::parse(out, nullptr, false);
  return j.is_discarded() ? nlohmann::json::array() : j;
}

nlohmann::json tc_json(const std::string& netns, const std::string& args) {
  auto j = nlohmann::json::parse(run_shell("tc -j -n " + netns + " " + args + " 2>/dev/null"), nullptr, false);
  return j.is_discarded() ? nlohmann::json::array() : j;
}

bool ping(const std::string& netns, const std::string& address, int count, int wait_s) {
  int rc = -1;
  run_shell("ip netns exec " + netns + " busybox ping -q -c " + std::to_string(count) + " -W " +
                std::to_string(wait_s) + " " + address + " >/dev/null 2>&1",
            &rc);
  return rc == 0;
}

std::string write_topology(const std::string& dir, const std::string& name, const std::string& text) {
  std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string shipped_topology(const std::string& file, const std::string& new_name) {
  std::ifstream in(std::string(NETLAB_SOURCE_DIR) + "/topologies/" + file);
  std::stringstream ss;
  ss << in.rdbuf();
  static const std::regex name_line(R"(^name\s*=\s*"[^"]*")", std::regex::multiline);
  return std::regex_replace(ss.str(), name_line, "name = \"" + new_name + "\"",
                            std::regex_constants::format_first_only);
}

bool eventually(const std::function<bool()>& done, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

int spawn_netlab(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  int devnull = ::open("/dev/null", O_RDWR);
  ::dup2(devnull, 1);
  ::dup2(devnull, 2);
  for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
  std::vector<char*> argv{const_cast<char*>(NETLAB_BINARY)};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(NETLAB_BINARY, argv.data());
  ::_exit(127);
}

}  // namespace netlab::testing
