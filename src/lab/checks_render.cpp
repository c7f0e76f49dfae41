// The results of checks as text: a table for the terminal, JSON, JUnit XML.
#include <algorithm>
#include <fmt/format.h>

#include "lab/checks.hpp"

namespace netlab::lab {

namespace {

using json = nlohmann::json;

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// `s` cut to `width` characters with "…" where it was cut, padded to `width`.
std::string cell(const std::string& s, size_t width) {
  std::string out;
  if (utf8_length(s) <= width) {
    out = s;
  } else {
    size_t chars = 0, i = 0;
    for (; i < s.size(); ++i) {
      if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && ++chars == width) break;
    }
    out = s.substr(0, i) + "…";
  }
  return out + std::string(width - std::min(width, utf8_length(out)), ' ');
}

}  // namespace

std::string render_results(const std::vector<CheckResult>& results) {
  // Columns as wide as their longest entry, within limits; two spaces between
  // them; checks under a heading per group when the file has groups.
  size_t name_w = 5, node_w = 4, exp_w = 8, got_w = 3;
  for (const auto& r : results) {
    name_w = std::max(name_w, utf8_length(r.name));
    node_w = std::max(node_w, utf8_length(r.node) + (r.host.empty() ? 0 : r.host.size() + 1));
    exp_w = std::max(exp_w, utf8_length(r.expected));
    got_w = std::max(got_w, utf8_length(r.got));
  }
  name_w = std::min<size_t>(name_w, 48), node_w = std::min<size_t>(node_w, 16);
  exp_w = std::min<size_t>(exp_w, 32), got_w = std::min<size_t>(got_w, 60);
  std::string out = "  " + cell("CHECK", name_w) + "  " + cell("NODE", node_w) + "  " + cell("EXPECTED", exp_w) +
                    "  " + cell("GOT", got_w) + "  " + fmt::format("{:>6}", "TIME") + "\n";
  size_t failed = 0, skipped = 0;
  bool grouped = false;
  for (const auto& r : results) grouped |= !r.group.empty();
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (grouped && (i == 0 || r.group != results[i - 1].group))
      out += fmt::format("{}[{}]\n", i == 0 ? "" : "\n", r.group.empty() ? "(no group)" : r.group);
    skipped += r.skipped;
    failed += !r.passed && !r.skipped;
    std::string time = r.skipped ? "-" : fmt::format("{:.2f}s", r.seconds);
    out += std::string(r.passed ? "✓" : r.skipped ? "-" : "✗") + " " + cell(r.name, name_w) + "  " +
           cell(r.host.empty() ? r.node : r.node + "@" + r.host, node_w) + "  " + cell(r.expected, exp_w) + "  " + cell(r.got, got_w) + "  " +
           fmt::format("{:>6}", time) + "\n";
  }
  out += fmt::format("\n{} passed, {} failed", results.size() - failed - skipped, failed);
  if (skipped) out += fmt::format(", {} skipped", skipped);
  out += "\n";
  return out;
}

json results_json(const std::vector<CheckResult>& results) {
  json out = json::array();
  for (const auto& r : results)
    out.push_back({{"name", r.name},         {"kind", r.kind},     {"node", r.node},       {"expected", r.expected},
                   {"got", r.got},           {"passed", r.passed}, {"seconds", r.seconds}, {"attempts", r.attempts},
                   {"group", r.group},       {"skipped", r.skipped}});
  for (size_t i = 0; i < results.size(); ++i)
    if (!results[i].host.empty()) out[i]["host"] = results[i].host;
  return out;
}

namespace {
std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}
}  // namespace

std::string results_junit(const std::string& lab, const std::vector<CheckResult>& results) {
  size_t failures = 0, skipped = 0;
  double total = 0;
  for (const auto& r : results) {
    failures += !r.passed && !r.skipped;
    skipped += r.skipped;
    total += r.seconds;
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites tests=\"{}\" failures=\"{}\" time=\"{:.3f}\">\n", results.size(), failures, total);
  out += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3f}\">\n",
                     xml_escape(lab), results.size(), failures, skipped, total);
  for (const auto& r : results) {
    // A group shows in the class name (lab.group.kind), so CI views list the stages.
    std::string cls = r.group.empty() ? fmt::format("{}.{}", lab, r.kind) : fmt::format("{}.{}.{}", lab, r.group, r.kind);
    out += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\"", xml_escape(cls),
                       xml_escape(r.name), r.seconds);
    std::string body;
    if (r.skipped) {
      body = fmt::format("      <skipped message=\"{}\"/>\n", xml_escape(r.got));
    } else if (!r.passed) {
      body = fmt::format("      <failure message=\"expected {}, got {}\">node {}: expected {}, got {}</failure>\n",
                         xml_escape(r.expected), xml_escape(r.got), xml_escape(r.node), xml_escape(r.expected),
                         xml_escape(r.got));
    }
    if (r.attempts > 1) body += fmt::format("      <system-out>attempts: {}</system-out>\n", r.attempts);
    out += body.empty() ? "/>\n" : ">\n" + body + "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace netlab::lab
