// netlab_consumer TOPOLOGY STATE_DIR CGROUP_PARENT: deploys the lab, pings across it
// from a node, runs its checks, destroys it. Prints one line per step on stdout
// (the library itself prints nothing), and the number of log lines the hook got.
#include <netlab/netlab.hpp>

#include <atomic>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: netlab_consumer TOPOLOGY STATE_DIR CGROUP_PARENT\n";
    return 64;
  }
  std::atomic<int> log_lines{0};
  netlab::set_log_handler([&](netlab::LogLevel, const std::string&) { ++log_lines; }, netlab::LogLevel::kDebug);
  try {
    netlab::Lab::Options options;
    options.state_dir = argv[2];
    options.cgroup_parent = argv[3];
    netlab::Lab lab = netlab::Lab::deploy(argv[1], options);
    std::cout << "deployed " << lab.name() << "\n";
    // A veth's carrier comes up asynchronously (linkwatch): a few tries.
    netlab::ExecResult r;
    for (int i = 0; i < 5 && r.exit_code != 0; ++i) r = lab.exec("a", {"ping", "-c", "1", "-W", "1", "10.77.0.2"});
    std::cout << "ping exit " << r.exit_code << "\n";
    int passed = 0, failed = 0;
    for (const auto& c : lab.check()) (c.passed ? passed : failed)++;
    std::cout << "checks " << passed << " passed " << failed << " failed\n";
    lab.destroy();
    std::cout << "destroyed\n";
    std::cout << "log lines " << log_lines.load() << "\n";
    return r.exit_code == 0 && failed == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cout << "error: " << e.what() << "\n";
    return 2;
  }
}
