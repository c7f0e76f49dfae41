// Running the real `netlab` binary from integration tests (inside the test's
// fresh namespaces), and small readers for what iproute2 reports.
#pragma once

#include <nlohmann/json.hpp>
#include <functional>
#include <string>
#include <vector>

namespace netlab::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs NETLAB_BINARY with args; env entries "K=V" are added to the environment.
CliResult run_netlab(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

/// Starts NETLAB_BINARY with args in the background (stdout and stderr to
/// /dev/null; env entries "K=V" added) and returns its pid, for the caller to
/// signal and wait for.
int spawn_netlab(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

/// `ip -j [-n NS] ARGS` parsed as JSON (empty array on failure).
nlohmann::json ip_json(const std::string& netns, const std::string& args);

/// `tc -j -n NS ARGS` parsed as JSON (empty array on failure).
nlohmann::json tc_json(const std::string& netns, const std::string& args);

/// busybox ping from inside a pinned netns: true if `count` pings got answers.
/// Polls `done` every few ms until it holds or `timeout_ms` passes: for state the
/// kernel reaches asynchronously (a carrier coming back goes through linkwatch).
bool eventually(const std::function<bool()>& done, int timeout_ms = 3000);

bool ping(const std::string& netns, const std::string& address, int count = 1, int wait_s = 1);

/// Writes a topology file under dir and returns its path.
std::string write_topology(const std::string& dir, const std::string& name, const std::string& text);

/// The shipped topology's text with `name = "..."` replaced (labs get per-test names).
std::string shipped_topology(const std::string& file, const std::string& new_name);

}  // namespace netlab::testing
