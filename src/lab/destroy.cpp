#include "lab/destroy.hpp"

#include "util/log.hpp"

#include <algorithm>
#include <chrono>
#include <span>

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
  auto undos = undo_sequence(actions);
  for (size_t begin = 0; begin < undos.size();) {
    size_t end = begin;
    while (end < undos.size() && destroy_step(undos[end]) == destroy_step(undos[begin])) ++end;
    auto t0 = std::chrono::steady_clock::now();
    std::span<const Undo> step(undos.data() + begin, end - begin);
    backend.undo_step(step, [&](size_t i, const Error* e) {
      if (!e) {
        ++report.removed;
        log::debug("removed {}", describe(step[i]));
        return;
      }
      report.failures.push_back(fmt::format("removing {}: {}", describe(step[i]), e->what()));
      log::debug("{}", report.failures.back());
    });
    log::debug("destroy step {}: {} objects in {:.1f} ms", destroy_step(undos[begin]), end - begin,
                  std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    begin = end;
  }
  return report;
}

}  // namespace netlab::lab
