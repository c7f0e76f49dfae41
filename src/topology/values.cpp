#include "topology/values.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>

namespace netlab::topo {

namespace {

bool fail(std::string* why, std::string msg) {
  if (why) *why = std::move(msg);
  return false;
}

// Splits "12.5ms" into 12.5 and "ms". The number must be plain decimal.
bool split_number(std::string_view s, double& value, std::string_view& unit) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return false;
  std::string num(s.substr(0, i));
  if (std::count(num.begin(), num.end(), '.') > 1 || num.front() == '.' || num.back() == '.')
    return false;
  auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), value);
  if (ec != std::errc() || ptr != num.data() + num.size()) return false;
  unit = s.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim_double(double v) {
  std::string s = fmt::format("{:.6f}", v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

bool IpAddress::is_v4() const { return family == AF_INET; }
bool IpAddress::is_v6() const { return family == AF_INET6; }

std::string IpAddress::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family == 0) return "";
  inet_ntop(family, bytes.data(), buf, sizeof buf);
  return buf;
}

std::string Prefix::str() const { return fmt::format("{}/{}", addr.str(), len); }

Prefix Prefix::network() const {
  Prefix p = *this;
  size_t total = addr.is_v4() ? 4 : 16;
  for (size_t i = 0; i < total; ++i) {
    int bits = std::clamp(len - static_cast<int>(i) * 8, 0, 8);
    p.addr.bytes[i] &= static_cast<uint8_t>(bits == 0 ? 0 : (0xff << (8 - bits)) & 0xff);
  }
  return p;
}

bool Prefix::contains(const IpAddress& a) const {
  if (a.family != addr.family) return false;
  Prefix other{a, len, false};
  return other.network().addr == network().addr;
}

std::optional<IpAddress> parse_address(std::string_view s, std::string* why) {
  std::string text(s);
  IpAddress a;
  if (text.find(':') != std::string::npos) {
    if (inet_pton(AF_INET6, text.c_str(), a.bytes.data()) == 1) {
      a.family = AF_INET6;
      return a;
    }
  } else if (inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET;
    return a;
  }
  fail(why, fmt::format("\"{}\" is not an IPv4 or IPv6 address", text));
  return std::nullopt;
}

std::optional<Prefix> parse_prefix(std::string_view s, std::string* why) {
  if (s == "default") return Prefix{IpAddress{AF_INET, {}}, 0, true};
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) {
    fail(why, fmt::format("\"{}\" needs a prefix length (e.g. {}/24)", s, s));
    return std::nullopt;
  }
  std::string inner;
  auto addr = parse_address(s.substr(0, slash), &inner);
  if (!addr) {
    fail(why, fmt::format("\"{}\" is not a prefix: {}", s, inner));
    return std::nullopt;
  }
  std::string_view len_text = s.substr(slash + 1);
  int len = -1;
  auto [ptr, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  int max = addr->is_v4() ? 32 : 128;
  if (len_text.empty() || ec != std::errc() || ptr != len_text.data() + len_text.size() || len < 0 ||
      len > max) {
    fail(why, fmt::format("\"{}\": prefix length must be 0..{}", s, max));
    return std::nullopt;
  }
  return Prefix{*addr, len, false};
}

std::string Size::str() const {
  static const char* units[] = {"", "K", "M", "G", "T"};
  uint64_t v = bytes;
  int u = 0;
  while (u < 4 && v != 0 && v % 1024 == 0) {
    v /= 1024;
    ++u;
  }
  return fmt::format("{}{}", v, units[u]);
}

std::optional<Size> parse_size(std::string_view s, std::string* why) {
  double value = 0;
  std::string_view unit;
  if (!split_number(s, value, unit)) {
    fail(why, fmt::format("\"{}\" is not a size (e.g. 64M, 1G, 512KiB, 4096)", s));
    return std::nullopt;
  }
  std::string u = lower(unit);
  double mult = 0;
  if (u.empty() || u == "b") mult = 1;
  else if (u == "k" || u == "kb" || u == "kib") mult = 1024.0;
  else if (u == "m" || u == "mb" || u == "mib") mult = 1024.0 * 1024;
  else if (u == "g" || u == "gb" || u == "gib") mult = 1024.0 * 1024 * 1024;
  else if (u == "t" || u == "tb" || u == "tib") mult = 1024.0 * 1024 * 1024 * 1024;
  if (mult == 0) {
    fail(why, fmt::format("\"{}\": unknown size unit \"{}\" (use K, M, G, T or KiB, MiB, GiB)", s, unit));
    return std::nullopt;
  }
  double bytes = value * mult;
  if (bytes != std::floor(bytes)) {
    fail(why, fmt::format("\"{}\" is not a whole number of bytes", s));
    return std::nullopt;
  }
  return Size{static_cast<uint64_t>(bytes)};
}

std::string Duration::str() const {
  if (ns % 1'000'000'000 == 0) return fmt::format("{}s", ns / 1'000'000'000);
  if (ns % 1'000'000 == 0) return fmt::format("{}ms", ns / 1'000'000);
  if (ns % 1'000 == 0) return fmt::format("{}us", ns / 1'000);
  return fmt::format("{}ns", ns);
}

std::optional<Duration> parse_duration(std::string_view s, std::string* why) {
  double value = 0;
  std::string_view unit;
  if (!split_number(s, value, unit) || unit.empty()) {
    fail(why, fmt::format("\"{}\" is not a duration (e.g. 10ms, 1.5s, 200us)", s));
    return std::nullopt;
  }
  std::string u = lower(unit);
  double mult = 0;
  if (u == "ns") mult = 1;
  else if (u == "us" || u == "µs") mult = 1e3;
  else if (u == "ms") mult = 1e6;
  else if (u == "s") mult = 1e9;
  else if (u == "m" || u == "min") mult = 60e9;
  if (mult == 0) {
    fail(why, fmt::format("\"{}\": unknown duration unit \"{}\" (use ns, us, ms, s, m)", s, unit));
    return std::nullopt;
  }
  return Duration{static_cast<uint64_t>(std::llround(value * mult))};
}

std::string Rate::str() const {
  if (bits_per_sec % 1'000'000'000 == 0 && bits_per_sec) return fmt::format("{}gbit", bits_per_sec / 1'000'000'000);
  if (bits_per_sec % 1'000'000 == 0 && bits_per_sec) return fmt::format("{}mbit", bits_per_sec / 1'000'000);
  if (bits_per_sec % 1'000 == 0 && bits_per_sec) return fmt::format("{}kbit", bits_per_sec / 1'000);
  return fmt::format("{}bit", bits_per_sec);
}

std::optional<Rate> parse_rate(std::string_view s, std::string* why) {
  double value = 0;
  std::string_view unit;
  if (!split_number(s, value, unit) || unit.empty()) {
    fail(why, fmt::format("\"{}\" is not a rate (e.g. 10mbit, 1gbit, 500kbit)", s));
    return std::nullopt;
  }
  std::string u = lower(unit);
  double mult = 0;
  if (u == "bit" || u == "bps") mult = 1;
  else if (u == "kbit") mult = 1e3;
  else if (u == "mbit") mult = 1e6;
  else if (u == "gbit") mult = 1e9;
  else if (u == "kbps") mult = 8e3;  // tc's convention: "bps" suffixes mean bytes per second
  else if (u == "mbps") mult = 8e6;
  else if (u == "gbps") mult = 8e9;
  if (mult == 0) {
    fail(why, fmt::format("\"{}\": unknown rate unit \"{}\" (use bit, kbit, mbit, gbit, or kbps, mbps, gbps for bytes/s)", s, unit));
    return std::nullopt;
  }
  double bits = value * mult;
  if (bits < 1) {
    fail(why, fmt::format("\"{}\": a rate must be at least 1bit", s));
    return std::nullopt;
  }
  return Rate{static_cast<uint64_t>(std::llround(bits))};
}

std::string Percent::str() const { return trim_double(value) + "%"; }

std::optional<Percent> parse_percent(std::string_view s, std::string* why) {
  double value = 0;
  std::string_view unit;
  if (!split_number(s, value, unit) || unit != "%") {
    fail(why, fmt::format("\"{}\" is not a percentage (e.g. 1%, 0.5%)", s));
    return std::nullopt;
  }
  if (value > 100) {
    fail(why, fmt::format("\"{}\": a percentage must be 0% to 100%", s));
    return std::nullopt;
  }
  return Percent{value};
}

std::string Cpus::str() const { return trim_double(cores); }

std::optional<Cpus> parse_cpus(double v, std::string* why) {
  if (!(v > 0) || v > 1024) {
    fail(why, fmt::format("cpus must be more than 0 and at most 1024 (got {})", trim_double(v)));
    return std::nullopt;
  }
  return Cpus{v};
}

}  // namespace netlab::topo
