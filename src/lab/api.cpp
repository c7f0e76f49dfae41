// The C++ API (include/netlab/netlab.hpp) over the lab lifecycle.
#include <netlab/netlab.hpp>

#include <cstdlib>

#include "util/log.hpp"

#include "lab/checks.hpp"
#include "lab/lifecycle.hpp"
#include "lab/real_backend.hpp"
#include "lab/state.hpp"
#include "node/spawn.hpp"
#include "topology/parse.hpp"
#include "util/strings.hpp"

namespace netlab {

void set_log_handler(std::function<void(LogLevel, const std::string&)> handler, LogLevel min) {
  auto to_spd = [](LogLevel l) {
    switch (l) {
      case LogLevel::kTrace: return spdlog::level::trace;
      case LogLevel::kDebug: return spdlog::level::debug;
      case LogLevel::kInfo: return spdlog::level::info;
      case LogLevel::kWarning: return spdlog::level::warn;
      case LogLevel::kError: break;
    }
    return spdlog::level::err;
  };
  if (!handler) {
    netlab::set_log_handler(nullptr, spdlog::level::off);
    return;
  }
  netlab::set_log_handler(
      [handler = std::move(handler)](spdlog::level::level_enum l, std::string_view text) {
        LogLevel level = l <= spdlog::level::trace   ? LogLevel::kTrace
                         : l == spdlog::level::debug ? LogLevel::kDebug
                         : l == spdlog::level::info  ? LogLevel::kInfo
                         : l == spdlog::level::warn  ? LogLevel::kWarning
                                                     : LogLevel::kError;
        handler(level, std::string(text));
      },
      to_spd(min));
}

struct Lab::Impl {
  lab::HostFacts facts;
  topo::Lab topology;
  bool keep = false;
  bool up = false;
  lab::BackendFactory factory() const {
    return [f = facts](const topo::Lab* l) { return lab::make_real_backend(l, f); };
  }
};

Lab::Lab(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Lab::Lab(Lab&&) noexcept = default;
Lab& Lab::operator=(Lab&&) noexcept = default;

Lab::~Lab() {
  if (!impl_ || !impl_->up || impl_->keep) return;
  try {
    destroy();
  } catch (const std::exception& e) {
    log::error("destroying lab {}: {}", impl_->topology.name, e.what());
  }
}

Lab Lab::deploy(const std::string& topology_file, const Options& options) {
  auto impl = std::make_unique<Impl>();
  impl->facts.state_dir = options.state_dir;
  impl->facts.cgroup_parent = options.cgroup_parent;
  impl->keep = options.keep;
  if (const char* env = std::getenv("NETLAB_INIT"); !options.init_program.empty() && !(env && *env))
    node::set_init_program(options.init_program);
  Diagnostics diags;
  auto topology = topo::load_file(topology_file, diags);
  if (!topology) throw std::runtime_error(diags.render());
  impl->topology = std::move(*topology);
  lab::deploy_lab(impl->topology, impl->facts, impl->factory());
  impl->up = true;
  return Lab(std::move(impl));
}

const std::string& Lab::name() const { return impl_->topology.name; }

ExecResult Lab::exec(const std::string& node, const std::vector<std::string>& argv) {
  lab::LabState state = lab::read_lab_state(impl_->facts, impl_->topology.name);
  ExecResult r;
  r.exit_code = lab::exec_captured(state, impl_->topology, node, argv, &r.out);
  return r;
}

std::vector<CheckOutcome> Lab::check() {
  std::vector<CheckOutcome> out;
  for (const auto& r : lab::run_checks(impl_->topology, impl_->facts, 4))
    out.push_back({r.name, r.node, r.passed, r.expected, r.got});
  return out;
}

void Lab::destroy() {
  auto r = lab::destroy_lab(impl_->topology.name, impl_->facts, impl_->factory());
  impl_->up = false;
  if (!r.report.ok()) throw std::runtime_error("lab " + impl_->topology.name + ": " + join(r.report.failures, "; "));
}

}  // namespace netlab
