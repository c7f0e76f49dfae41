#include "util/diag.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "util/strings.hpp"

namespace netlab {

std::string Diagnostic::str() const {
  std::string out = pos.file;
  if (pos.line > 0) out += fmt::format(":{}", pos.line);
  if (pos.col > 0) out += fmt::format(":{}", pos.col);
  out += ": ";
  if (severity == Severity::kWarning) out += "warning: ";
  out += message;
  if (!hint.empty()) out += fmt::format(" ({})", hint);
  return out;
}

void Diagnostics::error(const SourcePos& pos, std::string message, std::string hint) {
  items_.push_back({pos, Severity::kError, std::move(message), std::move(hint)});
  ++errors_;
}

void Diagnostics::warning(const SourcePos& pos, std::string message, std::string hint) {
  items_.push_back({pos, Severity::kWarning, std::move(message), std::move(hint)});
}

std::vector<Diagnostic> Diagnostics::sorted() const {
  auto out = items_;
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.pos.file, a.pos.line, a.pos.col) < std::tie(b.pos.file, b.pos.line, b.pos.col);
  });
  return out;
}

std::string Diagnostics::render(std::string_view source) const {
  std::vector<std::string> lines;
  if (!source.empty()) lines = split(source, '\n');
  std::string out;
  for (const auto& d : sorted()) {
    out += d.str();
    out += '\n';
    if (d.pos.line > 0 && static_cast<size_t>(d.pos.line) <= lines.size()) {
      const std::string& text = lines[d.pos.line - 1];
      out += "  " + text + "\n";
      if (d.pos.col > 0) out += "  " + std::string(d.pos.col - 1, ' ') + "^\n";
    }
  }
  return out;
}

}  // namespace netlab
