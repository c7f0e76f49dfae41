#include "cluster/remote.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <pwd.h>
#include <sys/stat.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
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

std::vector<std::string> ssh_command() {
  std::vector<std::string> words;
  if (const char* ssh = std::getenv("NETLAB_SSH")) {
    std::string w;
    for (const char* c = ssh;; ++c) {
      if (*c == ' ' || *c == '\t' || *c == '\0') {
        if (!w.empty()) words.push_back(std::move(w));
        w.clear();
        if (!*c) break;
      } else {
        w.push_back(*c);
      }
    }
  }
  if (words.empty()) words.push_back("ssh");
  return words;
}

std::vector<std::string> ssh_argv(const topo::Host& h, const std::vector<std::string>& args, bool multiplex) {
  std::string command = "netlab";
  for (const auto& a : args) command += " " + shell_quote(a);
  std::vector<std::string> argv = ssh_command();
  // The target was validated (topology): it cannot be read as an option.
  argv.insert(argv.end(), {"-o", "BatchMode=yes"});
  if (multiplex)
    argv.insert(argv.end(), {"-o", "ControlMaster=auto", "-o", "ControlPath=~/.ssh/netlab-%C", "-o", "ControlPersist=60"});
  argv.push_back(h.ssh);
  argv.push_back(command);
  return argv;
}

namespace {

// Reads two pipes (a command's stdout and stderr) until both are closed, then
// closes them; `both`, if given, gets everything in the order it came.
void drain_pipes(int out_fd, int err_fd, std::string& out, std::string& err, std::string* both) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* into[2] = {&out, &err};
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        continue;
      }
      into[i]->append(buf, static_cast<size_t>(n));
      if (both) both->append(buf, static_cast<size_t>(n));
    }
  }
  for (const auto& f : fds)
    if (f.fd >= 0) close(f.fd);
}

// ssh exits at once (255) when the ControlPath's directory is missing, as
// ~/.ssh is on a fresh account: then each command gets a connection of its
// own (nothing is created in the user's home for netlab's sake).
bool control_dir_exists() {
  const passwd* pw = ::getpwuid(::getuid());
  if (!pw || !pw->pw_dir) return false;
  struct stat st{};
  return ::stat((std::string(pw->pw_dir) + "/.ssh").c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<char*> c_argv(std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (auto& a : argv) out.push_back(a.data());
  out.push_back(nullptr);
  return out;
}

// Starts `cargv` (ssh) with stdin from `in_fd` (/dev/null when -1) and
// stdout/stderr into `out_fd`/`err_fd`; posix_spawnp's result.
int spawn_with(const std::vector<char*>& cargv, pid_t& pid, int in_fd, int out_fd, int err_fd) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (in_fd >= 0) posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
  else posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  int rc = posix_spawnp(&pid, cargv[0], &fa, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc;
}

int wait_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

RemoteResult run_one(const topo::Host& h, int index, const std::vector<std::string>& args,
                     const std::string* input) {
  RemoteResult r;
  r.host = index;
  std::vector<std::string> argv = ssh_argv(h, args, control_dir_exists());
  std::vector<char*> cargv = c_argv(argv);
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) < 0) throw Error(errno, "creating a pipe for ssh to host {}", h.name);
  if (pipe2(err, O_CLOEXEC) < 0) {
    close(out[0]), close(out[1]);
    throw Error(errno, "creating a pipe for ssh to host {}", h.name);
  }
  int in[2] = {-1, -1};
  if (input && pipe2(in, O_CLOEXEC) < 0) {
    int e = errno;
    close(out[0]), close(out[1]), close(err[0]), close(err[1]);
    throw Error(e, "creating a pipe for ssh to host {}", h.name);
  }
  pid_t pid = -1;
  int rc = spawn_with(cargv, pid, in[0], out[1], err[1]);
  close(out[1]);
  close(err[1]);
  if (input) close(in[0]);
  // The input goes in from a thread of its own (the remote command may answer
  // before it has read all of it); a closed pipe is EPIPE there, not SIGPIPE.
  std::thread feeder;
  if (input && rc == 0) {
    feeder = std::thread([fd = in[1], input] {
      sigset_t pipe_set;
      sigemptyset(&pipe_set);
      sigaddset(&pipe_set, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
      size_t done = 0;
      while (done < input->size()) {
        ssize_t n = write(fd, input->data() + done, input->size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<size_t>(n);
      }
      close(fd);
      // A SIGPIPE left pending on this thread dies with it (blocked, never delivered).
    });
  } else if (input) {
    close(in[1]);
  }
  if (rc != 0) {
    close(out[0]), close(err[0]);
    r.exit_code = 255;
    r.output = r.err = fmt::format("starting {}: {}\n", argv[0], describe_errno(rc));
    return r;
  }
  // Both pipes until both are closed: a remote command that fills one while
  // we wait on the other would block.
  drain_pipes(out[0], err[0], r.out, r.err, &r.output);
  if (feeder.joinable()) feeder.join();
  r.exit_code = wait_exit(pid);
  return r;
}

}  // namespace

RemoteProcess::RemoteProcess(const topo::Host& h, int index, const std::vector<std::string>& args) : host_(index) {
  std::vector<std::string> argv = ssh_argv(h, args, control_dir_exists());
  std::vector<char*> cargv = c_argv(argv);
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) < 0) throw Error(errno, "creating a pipe for ssh to host {}", h.name);
  if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
    int e = errno;
    close(in[0]), close(in[1]);
    throw Error(e, "creating a pipe for ssh to host {}", h.name);
  }
  int rc = spawn_with(cargv, pid_, in[0], out[1], err[1]);
  close(in[0]), close(out[1]), close(err[1]);
  in_ = in[1], out_ = out[0], err_ = err[0];
  if (rc != 0) {
    pid_ = -1;
    close_stdin();
    close(out_), close(err_);
    out_ = err_ = -1;
    throw Error(rc, "starting {} for host {}", argv[0], h.name);
  }
}

RemoteProcess::~RemoteProcess() {
  if (pid_ > 0) finish();
}

void RemoteProcess::close_stdin() {
  if (in_ >= 0) close(in_);
  in_ = -1;
}

std::optional<std::string> RemoteProcess::read_line(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    if (size_t nl = pending_.find('\n'); nl != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return line;
    }
    if (out_ < 0) return std::nullopt;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{out_, POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    char buf[4096];
    ssize_t got = read(out_, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      close(out_);
      out_ = -1;
      continue;
    }
    pending_.append(buf, static_cast<size_t>(got));
    all_out_.append(buf, static_cast<size_t>(got));
  }
}

RemoteResult RemoteProcess::finish() {
  RemoteResult r;
  r.host = host_;
  close_stdin();
  // Both pipes to their end (a full stderr pipe would block the remote side).
  drain_pipes(out_, err_, all_out_, r.err, nullptr);
  out_ = err_ = -1;
  r.out = all_out_;
  r.output = all_out_ + r.err;
  r.exit_code = pid_ > 0 ? wait_exit(pid_) : 255;
  pid_ = -1;
  return r;
}

int run_attached(const topo::Host& h, const std::vector<std::string>& args, bool tty) {
  std::vector<std::string> argv = ssh_argv(h, args, control_dir_exists());
  argv.insert(argv.end() - 2, tty ? "-t" : "-T");
  std::vector<char*> cargv = c_argv(argv);
  pid_t pid = -1;
  if (int rc = posix_spawnp(&pid, cargv[0], nullptr, nullptr, cargv.data(), environ); rc != 0)
    throw Error(rc, "starting {} for host {}", argv[0], h.name);
  return wait_exit(pid);
}

std::vector<RemoteResult> run_on_hosts(const topo::Lab& lab, const std::vector<int>& hosts,
                                       const std::vector<std::vector<std::string>>& args_per_host,
                                       const std::string* input) {
  std::vector<RemoteResult> results(hosts.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < hosts.size(); ++i)
    threads.emplace_back([&, i] {
      try {
        results[i] = run_one(lab.hosts[hosts[i]], hosts[i], args_per_host[i], input);
      } catch (const Error& e) {
        results[i] = {hosts[i], 255, std::string(e.what()) + "\n", "", std::string(e.what()) + "\n"};
      }
    });
  for (auto& t : threads) t.join();
  return results;
}

}  // namespace netlab::cluster
