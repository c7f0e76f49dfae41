#include "util/error.hpp"

#include <cerrno>
#include <cstring>

namespace netlab {

std::string errno_name(int errnum) {
  if (const char* name = strerrorname_np(errnum)) return name;
  return fmt::format("E{}", errnum);
}

std::string describe_errno(int errnum) {
  return fmt::format("{} ({})", strerrordesc_np(errnum) ? strerrordesc_np(errnum) : "Unknown error",
                     errno_name(errnum));
}

Error::Error(int errnum, std::string what) : std::runtime_error(what), errnum_(errnum) {
  context_.push_back(std::move(what));
  render();
}

Error& Error::wrap(std::string outer) {
  context_.insert(context_.begin(), std::move(outer));
  render();
  return *this;
}

Error& Error::set_extack(std::string extack) {
  extack_ = std::move(extack);
  render();
  return *this;
}

void Error::render() {
  rendered_.clear();
  for (const auto& step : context_) {
    if (step.empty()) continue;
    if (!rendered_.empty()) rendered_ += ": ";
    rendered_ += step;
  }
  if (errnum_ != 0) {
    if (!rendered_.empty()) rendered_ += ": ";
    rendered_ += describe_errno(errnum_);
  }
  if (!extack_.empty()) rendered_ += ": " + extack_;
}

void throw_errno(std::string what) { throw Error(errno, std::move(what)); }

}  // namespace netlab
