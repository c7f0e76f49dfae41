// ScopeGuard — runs a callable at scope exit unless dismissed. For purely local
// multi-step work (a temporary mount while building a rootfs), never for
// lab-lifetime objects.
#pragma once

#include <utility>

namespace netlab {

template <typename Fn>
class ScopeGuard {
 public:
  explicit ScopeGuard(Fn fn) : fn_(std::move(fn)) {}
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;
  ~ScopeGuard() {
    if (active_) fn_();
  }
  void dismiss() noexcept { active_ = false; }

 private:
  Fn fn_;
  bool active_ = true;
};

}  // namespace netlab
