// Issue 14, attack 4: a program run with `netlab exec` or `netlab shell` must
// never hold the caller's terminal, through which it could push keystrokes
// (TIOCSTI) into the caller's shell. The test plays the user: it makes a pty,
// starts netlab in a new session whose controlling terminal is that pty (as a
// login shell would), and runs a probe in the node that reports, for its fds
// 0, 1, 2 and /dev/tty, which terminal each one is and whether TIOCSTI on it
// went through. Nothing may reach the test's terminal; `netlab shell` relays a
// pty of the node's own, with the window size (at start and on SIGWINCH), the
// exit code, and the caller's terminal settings restored at the end.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <sstream>
#include <utility>

#include "support/lab_fixture.hpp"
#include "util/strings.hpp"

extern char** environ;

namespace netlab::testing {
namespace {

// For each of fds 0, 1, 2 and /dev/tty: "NAME DEV RDEV injected=N", N the
// characters TIOCSTI accepted out of 11 ("echo pwned\n"). Written to
// /tmp/report in the node, read back with a plain `netlab exec`.
constexpr const char* kProbe = R"PERL(
my @r;
sub probe {
  my ($name, $fh) = @_;
  my @s = stat($fh);
  my $n = 0;
  for my $c (split //, "echo pwned\n") { my $b = $c; $n++ if ioctl($fh, 0x5412, $b); }
  push @r, "$name $s[0] $s[6] injected=$n";
}
for my $fd (0, 1, 2) {
  if (open(my $fh, ($fd ? ">&=" : "<&=") . $fd)) { probe($fd, $fh) } else { push @r, "$fd closed 0 injected=0" }
}
if (open(my $t, "+<", "/dev/tty")) { probe("tty", $t) } else { push @r, "tty none 0 injected=0" }
open(my $o, ">", "/tmp/report") or die "report: $!";
print $o join("\n", @r), "\n";
)PERL";

struct Probed {
  dev_t dev = 0;
  dev_t rdev = 0;
  int injected = -1;
};

/// netlab running in a session of its own whose controlling terminal is a pty
/// of the test's: `master` is the user's side of it, `slave` the terminal the
/// user's shell would read its next command from.
struct UnderPty {
  pid_t pid = -1;
  int master = -1;
  int slave = -1;
  ~UnderPty() {
    if (pid > 0 && ::waitpid(pid, nullptr, WNOHANG) == 0) {  // a test that bailed out
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (master >= 0) ::close(master);
    if (slave >= 0) ::close(slave);
  }
};

// The parameter: extra node keys (a default, contained node; a privileged one).
class TerminalTest : public LabTest, public ::testing::WithParamInterface<const char*> {
 protected:
  void SetUp() override {
    LabTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    lab_ = lab_prefix_ + "t";
    deploy_ok(
        topology(lab_, "name = \"" + lab_ + "\"\n[nodes.h]\nimage = \"host\"\n" + GetParam()));
    auto w = netlab({"exec", lab_, "h", "--", "perl", "-e",
                     "open(my $f, '>', '/tmp/probe.pl') or die; print $f $ARGV[0];", kProbe});
    ASSERT_EQ(w.exit_code, 0) << w.err;
  }
  void TearDown() override {
    if (!lab_.empty() && !deployed_.empty()) destroy_ok(lab_);
    LabTest::TearDown();
  }

  /// Starts netlab ARGS with the test's pty as controlling terminal, window
  /// rows x cols; the fds in `on_pty` are the pty, the others /dev/null (in)
  /// or a file (out). `background`: netlab runs as a background job of that
  /// session (its process group is not the terminal's foreground one).
  void start(UnderPty& p, const std::vector<std::string>& args, std::vector<bool> on_pty,
             unsigned short rows = 24, unsigned short cols = 80, bool background = false) {
    winsize ws{rows, cols, 0, 0};
    ASSERT_EQ(::openpty(&p.master, &p.slave, nullptr, nullptr, &ws), 0);
    ASSERT_EQ(::tcgetattr(p.slave, &before_), 0);
    std::vector<std::string> argv_s{NETLAB_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e) env_s.emplace_back(*e);
    for (auto& e : env()) env_s.push_back(e);
    std::string out_file = files_dir_ + "/" + lab_ + ".out";
    p.pid = ::fork();
    ASSERT_GE(p.pid, 0);
    if (p.pid == 0) {
      ::setsid();
      if (::ioctl(p.slave, TIOCSCTTY, 0) < 0) ::_exit(120);
      int devnull = ::open("/dev/null", O_RDONLY);
      int out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      for (int fd = 0; fd < 3; ++fd) ::dup2(on_pty[fd] ? p.slave : fd == 0 ? devnull : out, fd);
      if (background) {  // a job of the session that is not in the foreground (`cmd &`)
        pid_t job = ::fork();
        if (job > 0) {
          int status = 0;
          ::waitpid(job, &status, 0);
          ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        }
        ::setpgid(0, 0);
      }
      std::vector<char*> argv, envp;
      for (auto& s : argv_s) argv.push_back(s.data());
      argv.push_back(nullptr);
      for (auto& s : env_s) envp.push_back(s.data());
      envp.push_back(nullptr);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
  }

  /// Reads the user's side until `needle` shows up (or 20 s pass: a hung
  /// relay fails the test rather than hanging it). Returns all that was read.
  std::string read_until(int master, const std::string& needle) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (screen_.find(needle) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd pfd{master, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[4096];
      ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0) break;
      screen_.append(buf, static_cast<size_t>(n));
    }
    return screen_;
  }

  /// netlab's exit code (-1 if it did not end within 20 s: then it is killed).
  int wait_exit(UnderPty& p) {
    pid_t pid = std::exchange(p.pid, -1);
    for (int i = 0; i < 2000; ++i) {
      int status = 0;
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      // Reading the user's side keeps a relay that writes from blocking.
      pollfd pfd{p.master, POLLIN, 0};
      if (::poll(&pfd, 1, 10) > 0) {
        char buf[4096];
        ssize_t n = ::read(p.master, buf, sizeof buf);
        if (n > 0) screen_.append(buf, static_cast<size_t>(n));
      }
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return -1;
  }

  /// What the user's shell would read from its terminal next: anything a
  /// node's program pushed there. (Leaves the terminal non-canonical.)
  static std::string pending_input(int slave) {
    termios t{};
    ::tcgetattr(slave, &t);
    t.c_lflag &= ~ICANON;
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    ::tcsetattr(slave, TCSANOW, &t);
    std::string got;
    char buf[256];
    ssize_t n;
    while ((n = ::read(slave, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
    return got;
  }

  std::map<std::string, Probed> report() {
    auto r = netlab({"exec", lab_, "h", "--", "cat", "/tmp/report"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, Probed> out;
    std::istringstream in(r.out);
    std::string name, dev, rdev, injected;
    while (in >> name >> dev >> rdev >> injected) {
      Probed p;
      p.dev = dev == "none" || dev == "closed" ? 0 : std::stoull(dev);
      p.rdev = std::stoull(rdev);
      p.injected = std::stoi(injected.substr(injected.find('=') + 1));
      out[name] = p;
    }
    EXPECT_EQ(out.size(), 4u) << r.out;
    return out;
  }

  /// No fd of the probe, nor its /dev/tty, is the test's terminal.
  static void expect_not_the_callers(const std::map<std::string, Probed>& probed, int slave) {
    struct stat st {};
    ASSERT_EQ(::fstat(slave, &st), 0);
    for (const auto& [name, p] : probed)
      EXPECT_FALSE(p.dev == st.st_dev && p.rdev == st.st_rdev)
          << "the node's program holds the caller's terminal as " << name;
  }

  void expect_terminal_restored(int slave) {
    termios now{};
    ASSERT_EQ(::tcgetattr(slave, &now), 0);
    EXPECT_EQ(now.c_lflag, before_.c_lflag) << "the caller's terminal was left in raw mode";
    EXPECT_EQ(now.c_iflag, before_.c_iflag);
    EXPECT_EQ(now.c_oflag, before_.c_oflag);
  }

  std::string lab_;
  std::string screen_;  // everything the user's side showed
  termios before_{};
};

// deploy run from a terminal: a node's programs (here its exec command) are in
// no session of that terminal: /dev/tty opens nothing and TIOCSTI reaches no
// terminal (the zygote and each init start sessions of their own).
TEST_P(TerminalTest, ADeployRunFromATerminalGivesNoNodeProgramThatTerminal) {
  destroy_ok(lab_);
  std::string probe = files_dir_ + "/probe.pl";
  write_file(probe, kProbe, 0644);
  std::string path = topology(lab_, "name = \"" + lab_ + "\"\n[nodes.h]\nimage = \"host\"\n" + GetParam() +
                                        "binds = [\"" + probe + ":/probe.pl:ro\"]\nexec = [\"perl /probe.pl\"]\n");
  UnderPty p;
  start(p, {"deploy", path}, {false, false, false});
  deployed_.push_back(lab_);
  EXPECT_EQ(wait_exit(p), 0) << read_file(files_dir_ + "/" + lab_ + ".out");
  auto probed = report();
  for (const auto& [name, pr] : probed) EXPECT_EQ(pr.injected, 0) << "TIOCSTI went through on " << name;
  EXPECT_EQ(probed["tty"].dev, 0u) << "a node's program has a controlling terminal";
  expect_not_the_callers(probed, p.slave);
  EXPECT_EQ(pending_input(p.slave), "") << "keystrokes were pushed into the caller's terminal";
}

TEST_P(TerminalTest, ExecUnderATerminalGivesTheProgramAPtyOfTheNodesOwn) {
  UnderPty p;
  start(p, {"exec", lab_, "h", "--", "perl", "/tmp/probe.pl"}, {true, true, true});
  EXPECT_EQ(wait_exit(p), 0) << screen_;
  auto probed = report();
  expect_not_the_callers(probed, p.slave);
  // The probe's own pty is its controlling terminal: /dev/tty works.
  EXPECT_NE(probed["tty"].dev, 0u) << "no controlling terminal in the node";
  expect_terminal_restored(p.slave);
  EXPECT_EQ(pending_input(p.slave), "") << "keystrokes were pushed into the caller's terminal";
}

TEST_P(TerminalTest, ExecWithoutATerminalOnItsFdsStartsANewSessionWithoutOne) {
  // The caller's session has a controlling terminal, but stdin is /dev/null
  // and stdout/stderr a file: the program must not reach that terminal
  // through /dev/tty, and TIOCSTI fails everywhere.
  UnderPty p;
  start(p, {"exec", lab_, "h", "--", "perl", "/tmp/probe.pl"}, {false, false, false});
  EXPECT_EQ(wait_exit(p), 0) << read_file(files_dir_ + "/" + lab_ + ".out");
  auto probed = report();
  for (const auto& [name, pr] : probed)
    EXPECT_EQ(pr.injected, 0) << "TIOCSTI went through on " << name;
  EXPECT_EQ(probed["tty"].dev, 0u) << "the program has a controlling terminal";
  expect_not_the_callers(probed, p.slave);
  EXPECT_EQ(pending_input(p.slave), "") << "keystrokes were pushed into the caller's terminal";
}

TEST_P(TerminalTest, ExecWithOnlyOutputOnATerminalRelaysTheOutput) {
  // stdin /dev/null, stdout and stderr the terminal: those two become the
  // node's pty, relayed; line ends are processed once (by the caller's
  // terminal), as if the program had written to it.
  UnderPty p;
  start(p,
        {"exec", lab_, "h", "--", "sh", "-c",
         "perl /tmp/probe.pl; printf 'a\\nb\\n'; readlink /proc/self/fd/1"},
        {false, true, true});
  EXPECT_EQ(wait_exit(p), 0) << screen_;
  EXPECT_NE(screen_.find("a\r\nb\r\n/dev/pts/"), std::string::npos) << screen_;
  EXPECT_EQ(screen_.find("\r\r\n"), std::string::npos) << screen_;
  auto probed = report();
  expect_not_the_callers(probed, p.slave);
  EXPECT_EQ(probed["0"].injected, 0);
  expect_terminal_restored(p.slave);
  EXPECT_EQ(pending_input(p.slave), "") << "keystrokes were pushed into the caller's terminal";
}

TEST_P(TerminalTest, ExecAsABackgroundJobRunsWithoutTakingTheTerminal) {
  // `netlab exec ... &` from an interactive shell: netlab may neither read the
  // terminal nor make it raw (the kernel would stop it); the output still
  // arrives, and the terminal's settings are untouched.
  UnderPty p;
  start(p, {"exec", lab_, "h", "--", "sh", "-c", "echo M$((90+1))A"}, {true, true, true}, 24, 80,
        true);
  EXPECT_EQ(wait_exit(p), 0) << screen_;
  EXPECT_NE(read_until(p.master, "M91A").find("M91A"), std::string::npos) << screen_;
  expect_terminal_restored(p.slave);
}

TEST_P(TerminalTest, ExecPassesPipedStdinAndExitCodes) {
  int status = -1;
  std::string prefix =
      "NETLAB_CGROUP_PARENT=" + cgroup_parent_ + " " + NETLAB_BINARY + " exec " + lab_ + " h -- ";
  EXPECT_EQ(run_shell("printf 'one\\ntwo\\n' | " + prefix + "cat", &status), "one\ntwo\n");
  EXPECT_EQ(status, 0);
  run_shell(prefix + "sh -c 'exit 5' </dev/null", &status);
  EXPECT_EQ(status, 5);
  run_shell(prefix + "sh -c 'kill -TERM $$' </dev/null", &status);
  EXPECT_EQ(status, 128 + SIGTERM);
}

TEST_P(TerminalTest, ShellRelaysAPtyWithWindowSizeAndExitCode) {
  UnderPty p;
  start(p, {"shell", lab_, "h"}, {true, true, true}, 33, 97);
  // The markers are computed by the shell, so the echo of what was typed
  // cannot match them.
  std::string cmd = "perl /tmp/probe.pl; tty; stty size; echo M$((40+2))A\n";
  ASSERT_EQ(::write(p.master, cmd.data(), cmd.size()), static_cast<ssize_t>(cmd.size()));
  std::string screen = read_until(p.master, "M42A");
  ASSERT_NE(screen.find("M42A"), std::string::npos) << screen;
  EXPECT_NE(screen.find("33 97"), std::string::npos) << "window size not passed at start:\n"
                                                     << screen;
  EXPECT_NE(screen.find("/dev/pts/"), std::string::npos)
      << "the shell's tty has no name in the node:\n"
      << screen;
  // The user resizes the window: netlab gets SIGWINCH and passes the size on.
  winsize ws{41, 123, 0, 0};
  ASSERT_EQ(::ioctl(p.master, TIOCSWINSZ, &ws), 0);
  cmd = "stty size; echo M$((50+3))A\n";
  ASSERT_EQ(::write(p.master, cmd.data(), cmd.size()), static_cast<ssize_t>(cmd.size()));
  screen = read_until(p.master, "M53A");
  EXPECT_NE(screen.find("41 123"), std::string::npos) << "window size not passed on SIGWINCH:\n"
                                                      << screen;
  cmd = "exit 7\n";
  ASSERT_EQ(::write(p.master, cmd.data(), cmd.size()), static_cast<ssize_t>(cmd.size()));
  EXPECT_EQ(wait_exit(p), 7) << screen_;
  expect_not_the_callers(report(), p.slave);
  expect_terminal_restored(p.slave);
  EXPECT_EQ(pending_input(p.slave), "") << "keystrokes were pushed into the caller's terminal";
}

TEST_P(TerminalTest, ShellRestoresTheTerminalWhenNetlabIsSignalled) {
  UnderPty p;
  start(p, {"shell", lab_, "h"}, {true, true, true});
  std::string cmd = "echo M$((60+4))A\n";
  ASSERT_EQ(::write(p.master, cmd.data(), cmd.size()), static_cast<ssize_t>(cmd.size()));
  ASSERT_NE(read_until(p.master, "M64A").find("M64A"), std::string::npos) << screen_;
  // The relay runs (raw mode is on); SIGTERM: netlab hangs the node's pty up,
  // the shell ends on SIGHUP, and the terminal is as it was.
  ASSERT_EQ(::kill(p.pid, SIGTERM), 0);
  EXPECT_EQ(wait_exit(p), 128 + SIGHUP) << screen_;
  expect_terminal_restored(p.slave);
}

TEST_P(TerminalTest, ShellReadsPipedInput) {
  int status = -1;
  std::string out =
      run_shell("printf 'echo M$((70+5))A\\nexit 3\\n' | NETLAB_CGROUP_PARENT=" + cgroup_parent_ +
                    " " + NETLAB_BINARY + " shell " + lab_ + " h",
                &status);
  EXPECT_NE(out.find("M75A"), std::string::npos) << out;
  EXPECT_EQ(status, 3);
  // Input that ends without `exit`: end of file reaches the shell through its pty.
  out = run_shell("echo 'echo M$((80+6))A' | NETLAB_CGROUP_PARENT=" + cgroup_parent_ + " " +
                      NETLAB_BINARY + " shell " + lab_ + " h",
                  &status);
  EXPECT_NE(out.find("M86A"), std::string::npos) << out;
  EXPECT_EQ(status, 0);
}

INSTANTIATE_TEST_SUITE_P(Nodes, TerminalTest, ::testing::Values("", "privileged = true\n"),
                         [](const auto& info) {
                           return std::string(info.param).empty() ? "Contained" : "Privileged";
                         });

}  // namespace
}  // namespace netlab::testing
