// A check's `output` pattern. Matched with RE2: linear in the text, no
// recursion over it and bounded memory, so neither a hostile pattern (20 000
// nested parentheses crashed std::regex's compiler) nor what a hostile node
// prints (std::regex's matcher recursed once per byte and crashed on 100 KB)
// can bring netlab down. RE2 takes the ECMAScript forms people write in checks
// (classes, \d \s \w, anchors, alternation, counted repetition); not
// backreferences or lookaround, which are reported as invalid.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace netlab::topo {

inline constexpr size_t kMaxPatternBytes = 4096;

class OutputPattern {
 public:
  /// Why `pattern` cannot be used ("is 20000 bytes; at most 4096", RE2's
  /// "missing ): ..."), or "" when it can.
  static std::string problem(const std::string& pattern);

  /// Throws netlab::Error(EINVAL) with problem()'s text when it cannot be used.
  explicit OutputPattern(const std::string& pattern);
  ~OutputPattern();
  OutputPattern(OutputPattern&&) noexcept;
  OutputPattern& operator=(OutputPattern&&) noexcept;

  /// True when the pattern matches somewhere in `text` (std::regex_search's sense).
  bool search(std::string_view text) const;

 private:
  std::unique_ptr<re2::RE2> re_;
};

}  // namespace netlab::topo
