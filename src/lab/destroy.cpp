#include "lab/destroy.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace netlab::lab {

std::vector<Undo> undo_sequence(const std::vector<Action>& actions) {
  std::vector<Undo> undos;
  for (auto it = actions.rbegin(); it != actions.rend(); ++it)
    if (auto u = undo_of(*it)) undos.push_back(std::move(*u));
  std::stable_sort(undos.begin(), undos.end(),
                   [](const Undo& a, const Undo& b) { return destroy_step(a) < destroy_step(b); });
  return undos;
}

DestroyReport destroy_actions(const std::vector<Action>& actions, Backend& backend) {
  DestroyReport report;
  for (const auto& u : undo_sequence(actions)) {
    try {
      backend.undo(u);
      ++report.removed;
      spdlog::debug("removed {}", describe(u));
    } catch (const Error& e) {
      report.failures.push_back(fmt::format("removing {}: {}", describe(u), e.what()));
      spdlog::warn("{}", report.failures.back());
    }
  }
  return report;
}

}  // namespace netlab::lab
