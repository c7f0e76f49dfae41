// The CLI's help, errors, completion and man page through the real binary (no
// privileges needed, except NonRootDeploySaysNetlabNeedsRoot, which drops them).
// Every verb comes from `netlab help`'s own list, so a new verb is covered by itself.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Run {
  int code;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `cmd` through /bin/sh with stdout and stderr captured separately.
Run shell(const std::string& cmd) {
  char err_path[] = "/tmp/netlab-cli-XXXXXX";
  close(mkstemp(err_path));
  Run r{-1, "", ""};
  FILE* p = popen((cmd + " 2>" + err_path).c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = slurp(err_path);
  unlink(err_path);
  return r;
}

Run netlab(const std::string& args) { return shell(std::string(NETLAB_BINARY) + " " + args + " </dev/null"); }

const std::string kSource = NETLAB_SOURCE_DIR;
const std::string kNat = kSource + "/topologies/nat-gateway.toml";

// An empty state directory of the test's own: no verb here can touch a real lab.
class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/netlab-cli-state-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    state_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(state_); }
  std::string sd() const { return " --state-dir " + state_; }
  std::string state_;
};

std::vector<std::string> verbs() {
  auto r = netlab("help");
  std::vector<std::string> out;
  std::istringstream in(r.out.substr(r.out.find("verbs:\n") + 7));
  std::string line;
  while (std::getline(in, line) && !line.empty()) out.push_back(line.substr(2, line.find(' ', 2) - 2));
  return out;
}

TEST(CliHelp, EveryVerbsHelpExitsZeroAndNamesItsOptionsWithUserFacingValueNames) {
  auto vs = verbs();
  ASSERT_GE(vs.size(), 15u);
  for (const auto& v : vs) {
    auto h = netlab(v + " --help");
    EXPECT_EQ(h.code, 0) << v << ": " << h.err;
    EXPECT_EQ(h.err, "") << v;
    EXPECT_EQ(h.out.rfind("usage: netlab " + v, 0), 0u) << h.out;
    for (const char* o : {"--help", "--verbose", "--quiet"}) EXPECT_NE(h.out.find(o), std::string::npos) << v << " " << o;
    // Boost's internal names never show: no "arg", no positional pseudo-options.
    EXPECT_EQ(h.out.find(" arg"), std::string::npos) << v << "\n" << h.out;
    static const std::regex internal(R"(--(file|target|words|numbers|kind|verb|shell)\b)");
    EXPECT_FALSE(std::regex_search(h.out, internal)) << v << " shows an internal option name\n" << h.out;
    // -h wins over a missing required argument too, and `help VERB` is the same text.
    EXPECT_EQ(netlab(v + " -h").out, h.out) << v;
    EXPECT_EQ(netlab("help " + v).out, h.out) << v;
  }
  auto deploy = netlab("deploy --help");
  for (const char* s : {"FILE", "--dry-run", "-n, --dry-run", "--reconfigure", "--state-dir DIR"})
    EXPECT_NE(deploy.out.find(s), std::string::npos) << s << "\n" << deploy.out;
  auto test = netlab("test --help");
  for (const char* s : {"--junit OUT.xml", "--jobs N", "--keep", "--json"})
    EXPECT_NE(test.out.find(s), std::string::npos) << s << "\n" << test.out;
  auto link = netlab("link --help");
  for (const char* s : {"--delay TIME", "--loss PERCENT", "--rate RATE"})
    EXPECT_NE(link.out.find(s), std::string::npos) << s << "\n" << link.out;
}

TEST(CliHelp, TopLevelUsageVersionAndUnknownVerbs) {
  auto h = netlab("--help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("4 netlab test: a check failed"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("130/143"), std::string::npos) << h.out;
  EXPECT_EQ(netlab("help").out, h.out);
  EXPECT_EQ(netlab("version").out, "netlab 0.1.0\n");
  EXPECT_EQ(netlab("--version").out, "netlab 0.1.0\n");
  EXPECT_EQ(netlab("version --json").out, "{\"name\": \"netlab\", \"version\": \"0.1.0\"}\n");
  auto typo = netlab("deplyo x.toml");
  EXPECT_EQ(typo.code, 1);
  EXPECT_NE(typo.err.find("unknown verb \"deplyo\" (did you mean \"deploy\"?)"), std::string::npos) << typo.err;
  auto help_typo = netlab("help inspct");
  EXPECT_EQ(help_typo.code, 1);
  EXPECT_NE(help_typo.err.find("did you mean \"inspect\""), std::string::npos) << help_typo.err;
  EXPECT_EQ(netlab("frobnicate").err.find("did you mean"), std::string::npos);
}

TEST(CliHelp, VerboseTwiceIsAccepted) {
  for (const char* v : {"-v", "-vv", "-v -v", "--verbose --verbose"}) {
    auto r = netlab(std::string("validate ") + v + " " + kNat);
    EXPECT_EQ(r.code, 0) << v << ": " << r.err;
  }
}

TEST(CliErrors, MissingArgumentsNameWhatIsMissingInUserTerms) {
  auto r = netlab("deploy");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("netlab deploy: FILE is missing"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("usage: netlab deploy FILE"), std::string::npos) << r.err;
  EXPECT_EQ(netlab("validate a b").err.find("too many arguments") != std::string::npos, true);
}

TEST_F(Cli, DestroyRefusesConflictingTargets) {
  std::filesystem::create_directories(state_ + "/natgw");  // a lab that --all would reach
  auto both = netlab("destroy --lab nosuch --all" + sd());
  EXPECT_EQ(both.code, 1);
  EXPECT_NE(both.err.find("--lab and --all both name labs"), std::string::npos) << both.err;
  auto file_lab = netlab("destroy " + kNat + " --lab other" + sd());
  EXPECT_EQ(file_lab.code, 1);
  EXPECT_NE(file_lab.err.find("FILE and --lab both name labs"), std::string::npos) << file_lab.err;
  EXPECT_EQ(netlab("destroy " + kNat + " --all" + sd()).code, 1);
  EXPECT_EQ(netlab("destroy" + sd()).code, 1);
  EXPECT_TRUE(std::filesystem::exists(state_ + "/natgw")) << "a refused destroy touched a lab";
  EXPECT_EQ(both.out + file_lab.out, "");
}

TEST_F(Cli, UnknownLabNamesReadAsUserErrorsWithTheNearestName) {
  std::filesystem::create_directories(state_ + "/natgw");
  for (const std::string verb : {"inspect natwg", "exec natwg h1 -- true", "shell natwg h1", "link down natwg h1:eth0"}) {
    auto r = netlab(verb.substr(0, verb.find(' ')) + sd() + verb.substr(verb.find(' ')));
    EXPECT_EQ(r.code, 1) << verb;
    EXPECT_NE(r.err.find("lab \"natwg\" is not deployed (did you mean \"natgw\"?)"), std::string::npos)
        << verb << ": " << r.err;
    EXPECT_EQ(r.err.find("(ENOENT)"), std::string::npos) << r.err;
  }
  auto none = netlab("inspect zzz" + sd());
  EXPECT_EQ(none.err.find("did you mean"), std::string::npos) << none.err;
}

TEST_F(Cli, ExecWithoutDashesAndUnknownLinkActionsSayWhatWasWrong) {
  std::filesystem::create_directories(state_ + "/natgw");
  auto e = netlab("exec natgw h1 ip addr" + sd());
  EXPECT_EQ(e.code, 1);
  EXPECT_NE(e.err.find("no -- before the command (write: netlab exec natgw h1 -- ip addr)"), std::string::npos) << e.err;
  auto one = netlab("exec h1 ip addr" + sd());
  EXPECT_NE(one.err.find("(write: netlab exec h1 -- ip addr)"), std::string::npos) << one.err;
  auto flap = netlab("link flap h1:eth0" + sd());
  EXPECT_EQ(flap.code, 1);
  EXPECT_NE(flap.err.find("unknown action \"flap\" (up, down or set"), std::string::npos) << flap.err;
  auto dwon = netlab("link dwon h1:eth0" + sd());
  EXPECT_NE(dwon.err.find("did you mean \"down\"?"), std::string::npos) << dwon.err;
  auto bare = netlab("link down h1" + sd());
  EXPECT_NE(bare.err.find("\"h1\" is not NODE:IFACE"), std::string::npos) << bare.err;
}

TEST_F(Cli, TestRefusesAnUnwritableJunitPathBeforeDeploying) {
  auto r = netlab("test " + kNat + " --junit /nonexistent/dir/x.xml" + sd());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot write --junit /nonexistent/dir/x.xml: No such file or directory"), std::string::npos)
      << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(state_)) << "something was deployed";
}

TEST(CliGenerate, BadNamesAndUnusedPoolsAreRefusedAndOutputCarriesChecksThatValidate) {
  for (const char* name : {"Bad_Name", "datacenter-fabric", "-x"}) {
    auto r = netlab(std::string("generate star 3 --name ") + name);
    EXPECT_EQ(r.code, 1) << name;
    EXPECT_EQ(r.out, "") << name;
    EXPECT_NE(r.err.find("must match [a-z0-9][a-z0-9-]* and be at most 12 bytes"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("(EINVAL)"), std::string::npos) << r.err;
  }
  auto range = netlab("generate line 1");
  EXPECT_EQ(range.code, 1);
  EXPECT_NE(range.err.find("line needs 2..100000 nodes"), std::string::npos) << range.err;
  EXPECT_EQ(range.err.find("Invalid argument"), std::string::npos) << range.err;
  auto pool = netlab("generate star 4 --pool 10.1.0.0/16");
  EXPECT_EQ(pool.code, 1);
  EXPECT_NE(pool.err.find("--pool does not apply"), std::string::npos) << pool.err;
  EXPECT_EQ(netlab("generate line 4 --lan-pool 10.1.0.0/16").code, 1);
  EXPECT_EQ(netlab("generate star 4 --lan-pool 10.1.0.0/16").code, 0);
  char dir[] = "/tmp/netlab-gen-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  for (const char* g : {"line 100", "ring 7", "star 5", "tree 3 2", "clos 2 3 2", "line 2 --name ok-name"}) {
    auto r = netlab(std::string("generate ") + g);
    ASSERT_EQ(r.code, 0) << g << ": " << r.err;
    EXPECT_NE(r.out.find("[[checks]]\nname = "), std::string::npos) << g;
    EXPECT_NE(r.out.find("kind = \"ping\""), std::string::npos) << g;
    std::string path = std::string(dir) + "/g.toml";
    std::ofstream(path) << r.out;
    auto v = netlab("validate " + path);
    EXPECT_EQ(v.code, 0) << g << ": " << v.err;
  }
  // A 100-router line checks only within a ping's 64 hops.
  auto line = netlab("generate line 100").out;
  EXPECT_NE(line.find("to = \"r61\""), std::string::npos);
  EXPECT_NE(line.find("name = \"r100 reaches r40\""), std::string::npos);
  EXPECT_EQ(line.find("name = \"r1 reaches r100\""), std::string::npos) << "a check beyond a ping's TTL";
  std::filesystem::remove_all(dir);
}

TEST(CliCompletion, BashCompletesVerbsOptionsAndLabNames) {
  char dir[] = "/tmp/netlab-compl-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string script = std::string(dir) + "/netlab.bash";
  auto c = netlab("completion bash");
  ASSERT_EQ(c.code, 0);
  std::ofstream(script) << c.out;
  EXPECT_EQ(shell("bash -n " + script).code, 0);
  std::filesystem::create_directories(std::string(dir) + "/state/natgw");
  std::filesystem::create_directories(std::string(dir) + "/state/images");
  auto complete = [&](const std::string& words, int cword) {
    return shell("NETLAB_STATE_DIR=" + std::string(dir) + "/state bash -c 'source " + script +
                 "; COMP_WORDS=(" + words + "); COMP_CWORD=" + std::to_string(cword) +
                 "; _netlab; echo \"${COMPREPLY[*]}\"'")
        .out;
  };
  EXPECT_EQ(complete("netlab dep", 1), "deploy\n");
  EXPECT_EQ(complete("netlab de", 1), "deploy destroy\n");
  EXPECT_EQ(complete("netlab deploy --dr", 2), "--dry-run\n");
  EXPECT_EQ(complete("netlab inspect na", 2), "natgw\n");
  EXPECT_EQ(complete("netlab destroy --lab ''", 3), "natgw\n");
  EXPECT_EQ(complete("netlab completion ''", 2), "bash zsh\n");
  EXPECT_EQ(complete("netlab help ins", 2), "inspect\n");
  // Every verb, and every option each verb's help names, is offered.
  std::string all = complete("netlab ''", 1);
  for (const auto& v : verbs()) {
    EXPECT_NE((" " + all).find(" " + v + " "), std::string::npos) << v;
    std::string opts = " " + complete("netlab " + v + " -", 2);
    std::regex long_opt("--[a-z][a-z-]*");
    auto help = netlab(v + " --help").out;
    std::string options = help.substr(help.find("options:"));
    for (std::sregex_iterator it(options.begin(), options.end(), long_opt), end; it != end; ++it)
      EXPECT_NE(opts.find(" " + it->str()), std::string::npos) << v << " " << it->str();
  }
  std::filesystem::remove_all(dir);
}

TEST(CliCompletion, ZshScriptHasEveryVerbAndOption) {
  auto z = netlab("completion zsh");
  ASSERT_EQ(z.code, 0);
  EXPECT_EQ(z.out.rfind("#compdef netlab\n", 0), 0u);
  for (const auto& v : verbs()) {
    EXPECT_NE(z.out.find("\n    " + v + ")\n"), std::string::npos) << v;
    EXPECT_NE(z.out.find("'" + v + ":"), std::string::npos) << v;
  }
  EXPECT_NE(z.out.find("'--dry-run[print the plan"), std::string::npos);
  EXPECT_NE(z.out.find("'--state-dir=[state directory"), std::string::npos);
  if (shell("command -v zsh").code == 0) {
    char path[] = "/tmp/netlab-zsh-XXXXXX";
    close(mkstemp(path));
    std::ofstream(path) << z.out;
    EXPECT_EQ(shell(std::string("zsh -n ") + path).code, 0);
    unlink(path);
  }
  EXPECT_EQ(netlab("completion fish").code, 1);
}

TEST(CliManPage, EveryVerbAndOptionIsDocumentedAndGroffIsQuiet) {
  auto m = netlab("man");
  ASSERT_EQ(m.code, 0);
  EXPECT_EQ(m.out.rfind(".TH NETLAB 1", 0), 0u);
  for (const auto& v : verbs()) EXPECT_NE(m.out.find("\n.SS " + v + "\n"), std::string::npos) << v;
  EXPECT_NE(m.out.find("\\-\\-dry\\-run"), std::string::npos);
  EXPECT_NE(m.out.find(".SH EXIT STATUS"), std::string::npos);
  if (shell("command -v groff").code == 0) {
    char path[] = "/tmp/netlab-man-XXXXXX";
    close(mkstemp(path));
    std::ofstream(path) << m.out;
    auto g = shell(std::string("groff -man -Tutf8 -ww -z ") + path);
    EXPECT_EQ(g.code, 0);
    EXPECT_EQ(g.err, "") << g.err;
    unlink(path);
  }
}

TEST_F(Cli, NonRootDeploySaysNetlabNeedsRootAndTouchesNothing) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
  std::string dir = state_ + "/sub";
  ASSERT_EQ(chmod(state_.c_str(), 0777), 0);
  pid_t pid = fork();
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(99);
    int fd = open("/dev/null", O_WRONLY);
    dup2(fd, 1);
    std::string err = state_ + "/err";
    int efd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    dup2(efd, 2);
    execl(NETLAB_BINARY, "netlab", "deploy", kNat.c_str(), "--state-dir", dir.c_str(), nullptr);
    _exit(98);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  std::string err = slurp(state_ + "/err");
  EXPECT_NE(err.find("netlab deploy: netlab needs root"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(dir)) << "the state dir was created";
}

}  // namespace
