#include "lab/json_match.hpp"

#include <fmt/format.h>

#include <vector>

namespace netlab::lab {

namespace {

using json = nlohmann::json;

std::string short_dump(const json& j) {
  std::string s = j.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

std::string key_path(const std::string& path, const std::string& key) {
  bool plain = !key.empty();
  for (char c : key) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  return plain ? path + "." + key : path + "[" + json(key).dump() + "]";
}

bool match(const json& got, const json& want, const std::string& path, std::string* why) {
  auto fail = [&](const std::string& text) {
    if (why) *why = path + ": " + text;
    return false;
  };
  if (want.is_object()) {
    if (!got.is_object()) return fail(fmt::format("expected an object, got {}", short_dump(got)));
    for (const auto& [k, v] : want.items()) {
      auto it = got.find(k);
      if (v.is_null()) {
        if (it != got.end()) return fail(fmt::format("expected no key \"{}\", got one", k));
        continue;
      }
      if (it == got.end()) return fail(fmt::format("missing key \"{}\"", k));
      if (!match(*it, v, key_path(path, k), why)) return false;
    }
    return true;
  }
  if (want.is_array()) {
    if (!got.is_array()) return fail(fmt::format("expected an array, got {}", short_dump(got)));
    // Each expected element takes the first unused element it matches (greedy;
    // patterns that are subsets of each other should be listed most specific first).
    std::vector<bool> used(got.size(), false);
    for (size_t i = 0; i < want.size(); ++i) {
      bool found = false;
      for (size_t g = 0; g < got.size() && !found; ++g) {
        if (used[g] || !match(got[g], want[i], path, nullptr)) continue;
        used[g] = found = true;
      }
      if (!found) {
        // Explain with the closest candidate when there is only one to compare with.
        if (got.size() == 1 && want.size() == 1) return match(got[0], want[0], path + "[0]", why);
        return fail(fmt::format("no element matches {}", short_dump(want[i])));
      }
    }
    return true;
  }
  if (want.is_number() && got.is_number()) {
    if (want.get<double>() == got.get<double>()) return true;
  } else if (want == got) {
    return true;
  }
  return fail(fmt::format("expected {}, got {}", short_dump(want), short_dump(got)));
}

}  // namespace

bool json_contains(const json& got, const json& expected, std::string* why) {
  return match(got, expected, "$", why);
}

}  // namespace netlab::lab
