#include "topology/pattern.hpp"

#include <fmt/format.h>
#include <re2/re2.h>

#include <cerrno>

#include "util/error.hpp"

namespace netlab::topo {

namespace {

std::unique_ptr<re2::RE2> compile(const std::string& pattern, std::string& problem) {
  if (pattern.size() > kMaxPatternBytes) {
    problem = fmt::format("is {} bytes; at most {}", pattern.size(), kMaxPatternBytes);
    return nullptr;
  }
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(8 << 20);
  auto re = std::make_unique<re2::RE2>(pattern, options);
  if (!re->ok()) {
    problem = re->error();
    if (problem.size() > 120) problem = problem.substr(0, 120) + "...";
    return nullptr;
  }
  return re;
}

}  // namespace

std::string OutputPattern::problem(const std::string& pattern) {
  std::string why;
  compile(pattern, why);
  return why;
}

OutputPattern::OutputPattern(const std::string& pattern) {
  std::string why;
  re_ = compile(pattern, why);
  if (!re_) throw Error(EINVAL, "output pattern is not a usable regular expression: {}", why);
}

OutputPattern::~OutputPattern() = default;
OutputPattern::OutputPattern(OutputPattern&&) noexcept = default;
OutputPattern& OutputPattern::operator=(OutputPattern&&) noexcept = default;

bool OutputPattern::search(std::string_view text) const {
  return re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

}  // namespace netlab::topo
