// netlab::Error — the one exception type for operational errors (syscalls,
// netlink, nftables, cgroupfs). It keeps the raw errno, the kernel's extended
// ack, and a context chain that each layer extends on the way out, so the user
// reads "deploy: creating veth h1:eth0 <-> lan: File exists (EEXIST)" and code
// can still test e.errnum() == EEXIST. Knows nothing of any other module.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace netlab {

/// "EEXIST" for EEXIST, "E123" for an errno glibc has no name for.
std::string errno_name(int errnum);

/// "File exists (EEXIST)".
std::string describe_errno(int errnum);

class Error : public std::runtime_error {
 public:
  /// errnum is a positive errno value or 0 when the failure has none. (The
  /// kernel's extack is added with set_extack(): a third string parameter here
  /// would silently swallow a format argument.)
  Error(int errnum, std::string what);

  template <typename... Args>
  Error(int errnum, fmt::format_string<Args...> f, Args&&... args)
      : Error(errnum, fmt::format(f, std::forward<Args>(args)...)) {}

  int errnum() const noexcept { return errnum_; }
  const std::string& extack() const noexcept { return extack_; }
  /// Context steps, outermost first; the innermost is the failing operation itself.
  const std::vector<std::string>& context() const noexcept { return context_; }

  /// Adds an outer context step ("deploy") and returns *this for rethrowing.
  Error& wrap(std::string outer);
  Error& set_extack(std::string extack);

  /// The full message: "ctx1: ctx2: op: strerror (ENAME): extack".
  const char* what() const noexcept override { return rendered_.c_str(); }

 private:
  void render();

  int errnum_;
  std::string extack_;
  std::vector<std::string> context_;
  std::string rendered_;
};

/// Throws Error(errno, what) — for the common `if (syscall(...) < 0) throw_errno(...)`.
[[noreturn]] void throw_errno(std::string what);

template <typename... Args>
[[noreturn]] void throw_errno(fmt::format_string<Args...> f, Args&&... args) {
  throw_errno(fmt::format(f, std::forward<Args>(args)...));
}

/// Runs fn(); an Error escaping it gets `context` added as its outer step.
template <typename Fn>
decltype(auto) with_context(const std::string& context, Fn&& fn) {
  try {
    return fn();
  } catch (Error& e) {
    e.wrap(context);
    throw;
  }
}

}  // namespace netlab
