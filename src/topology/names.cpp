#include "topology/names.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace netlab::topo {

namespace {

bool lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Kept printable in messages: a hostile name may hold anything.
std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') out += fmt::format("\\x{:02x}", u);
    else out += c;
  }
  if (s.size() > 64) out += "...";
  return out;
}

constexpr std::array<std::string_view, 3> kReservedLabs = {"netlab", "images", "tasks"};
constexpr std::array<std::string_view, 1> kReservedNodes = {"tasks"};
// "all" and "default" are /proc/sys/net/*/conf entries (the kernel refuses them
// with EINVAL); the rest appear in every new namespace once their module is loaded.
constexpr std::array<std::string_view, 13> kReservedIfaces = {
    "lo",     "all",      "default", "gre0",    "gretap0", "erspan0", "ip_vti0",
    "ip6_vti0", "sit0",   "tunl0",   "ip6tnl0", "ip6gre0", "bonding_masters"};

}  // namespace

bool reserved_iface(std::string_view name) {
  return std::find(kReservedIfaces.begin(), kReservedIfaces.end(), name) != kReservedIfaces.end();
}

std::string name_problem(NameKind kind, std::string_view name) {
  const char* what = kind == NameKind::kLab ? "lab" : kind == NameKind::kNode ? "node" : "bridge";
  bool dash_ok = kind != NameKind::kLab;
  const char* pattern = dash_ok ? "[a-z0-9][a-z0-9-]*" : "[a-z0-9]+";
  bool ok = !name.empty() && lower_or_digit(name.front());
  for (char c : name) ok = ok && (lower_or_digit(c) || (dash_ok && c == '-'));
  if (!ok) {
    if (kind == NameKind::kLab && !name.empty() &&
        std::all_of(name.begin(), name.end(), [](char c) { return lower_or_digit(c) || c == '-'; }) &&
        lower_or_digit(name.front()))
      return fmt::format("lab name \"{}\" must match {} (no '-': node pins are /run/netns/<lab>-<node>)", shown(name),
                         pattern);
    return fmt::format("{} name \"{}\" must match {}", what, shown(name), pattern);
  }
  size_t max = kind == NameKind::kLab ? kMaxLabName : kind == NameKind::kNode ? kMaxNodeName : kMaxIfaceName;
  if (name.size() > max)
    return fmt::format("{} name \"{}\" is {} bytes; at most {} fit the names derived from it", what, shown(name),
                       name.size(), max);
  auto reserved = [&](const auto& list) { return std::find(list.begin(), list.end(), name) != list.end(); };
  if ((kind == NameKind::kLab && reserved(kReservedLabs)) || (kind == NameKind::kNode && reserved(kReservedNodes)) ||
      (kind == NameKind::kBridge && reserved_iface(name)))
    return fmt::format("{} name \"{}\" is reserved", what, name);
  return "";
}

std::string iface_problem(std::string_view name, std::string_view what) {
  bool ok = !name.empty() && name.size() <= kMaxIfaceName && name != "." && name != "..";
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    ok = ok && c != '/' && c != ':' && u > 0x20 && u < 0x7f;
  }
  if (!ok)
    return fmt::format("{} \"{}\" must be 1..15 printable bytes without '/', ':' or spaces", what, shown(name));
  if (reserved_iface(name))
    return fmt::format("{} \"{}\" is reserved (the kernel or a fresh namespace already uses it)", what, name);
  return "";
}

}  // namespace netlab::topo
