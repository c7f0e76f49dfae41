#include "cluster/remote.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdlib>
#include <thread>

#include "util/error.hpp"

extern char** environ;

namespace netlab::cluster {

std::string shell_quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') out.append("'\\''");
    else out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::vector<std::string> ssh_argv(const topo::Host& h, const std::vector<std::string>& args) {
  const char* ssh = std::getenv("NETLAB_SSH");
  std::string command = "netlab";
  for (const auto& a : args) command += " " + shell_quote(a);
  // The target was validated (topology): it cannot be read as an option.
  return {ssh && *ssh ? ssh : "ssh", "-o", "BatchMode=yes", "-o", "ControlMaster=auto",
          "-o", "ControlPath=~/.ssh/netlab-%C", "-o", "ControlPersist=60", h.ssh, command};
}

namespace {

RemoteResult run_one(const topo::Host& h, int index, const std::vector<std::string>& args) {
  RemoteResult r;
  r.host = index;
  std::vector<std::string> argv = ssh_argv(h, args);
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) throw Error(errno, "creating a pipe for ssh to host {}", h.name);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, cargv[0], &fa, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    r.exit_code = 255;
    r.output = fmt::format("starting {}: {}\n", argv[0], describe_errno(rc));
    return r;
  }
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    r.output.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
  return r;
}

}  // namespace

std::vector<RemoteResult> run_on_hosts(const topo::Lab& lab, const std::vector<int>& hosts,
                                       const std::vector<std::vector<std::string>>& args_per_host) {
  std::vector<RemoteResult> results(hosts.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < hosts.size(); ++i)
    threads.emplace_back([&, i] {
      try {
        results[i] = run_one(lab.hosts[hosts[i]], hosts[i], args_per_host[i]);
      } catch (const Error& e) {
        results[i] = {hosts[i], 255, std::string(e.what()) + "\n"};
      }
    });
  for (auto& t : threads) t.join();
  return results;
}

}  // namespace netlab::cluster
