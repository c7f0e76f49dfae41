// Diagnostics — user-input problems (the topology file) are never exceptions:
// they are collected in full, each with its source position, then reported
// together at a checkpoint. Rendered as "file:line:col: message", optionally
// followed by the source line and a caret (ninja style).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace netlab {

struct SourcePos {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown
  int col = 0;   // 1-based; 0 when unknown
};

enum class Severity { kError, kWarning };

struct Diagnostic {
  SourcePos pos;
  Severity severity = Severity::kError;
  std::string message;
  std::string hint;  // e.g. "did you mean `address`?"; rendered after the message

  /// "file:line:col: message (hint)" or "file:line:col: warning: message".
  std::string str() const;
};

class Diagnostics {
 public:
  void error(const SourcePos& pos, std::string message, std::string hint = {});
  void warning(const SourcePos& pos, std::string message, std::string hint = {});

  bool has_errors() const noexcept { return errors_ > 0; }
  size_t error_count() const noexcept { return errors_; }
  const std::vector<Diagnostic>& all() const noexcept { return items_; }

  /// Sorted by position (file, line, col), stable for equal positions.
  std::vector<Diagnostic> sorted() const;
  /// Every diagnostic, one per line, sorted. With `source` given, each is followed
  /// by the offending line and a caret under the column.
  std::string render(std::string_view source = {}) const;

 private:
  std::vector<Diagnostic> items_;
  size_t errors_ = 0;
};

}  // namespace netlab
