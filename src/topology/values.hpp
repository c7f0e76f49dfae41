// Value types of the topology file and their parsers: addresses and prefixes,
// sizes, durations, rates, percentages, CPU counts. Each parser accepts exactly
// the documented forms (docs/topology.md) and explains a rejection in `why`.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netlab::topo {

struct IpAddress {
  int family = 0;                    // AF_INET or AF_INET6; 0 = unset
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4
  std::string str() const;
  bool is_v4() const;
  bool is_v6() const;
  auto operator<=>(const IpAddress&) const = default;
};

/// An address with a prefix length: "192.168.50.2/24", "fd00::1/64".
/// "default" parses to 0.0.0.0/0 with is_default set (family chosen by context:
/// the caller may reinterpret it as ::/0).
struct Prefix {
  IpAddress addr;
  int len = 0;
  bool is_default = false;
  std::string str() const;
  /// The network part (host bits cleared).
  Prefix network() const;
  /// True if `a` is inside this prefix (same family, first `len` bits equal).
  bool contains(const IpAddress& a) const;
  auto operator<=>(const Prefix&) const = default;
};

struct Size {  // "64M", "1G", "512KiB", "4096"; K/M/G/T and KiB.. are powers of 1024
  uint64_t bytes = 0;
  std::string str() const;
  auto operator<=>(const Size&) const = default;
};

struct Duration {  // "10ms", "1.5s", "200us", "2m", "100ns"
  uint64_t ns = 0;
  std::string str() const;
  auto operator<=>(const Duration&) const = default;
};

struct Rate {  // "10mbit", "1gbit", "500kbit", "100bit", "1mbps" (bytes/s); SI powers of 1000
  uint64_t bits_per_sec = 0;
  std::string str() const;
  auto operator<=>(const Rate&) const = default;
};

struct Percent {  // "1%", "0.5%", "100%"
  double value = 0;  // 0..100
  std::string str() const;
  auto operator<=>(const Percent&) const = default;
};

struct Cpus {  // 0.5 = half a core
  double cores = 0;
  std::string str() const;
  auto operator<=>(const Cpus&) const = default;
};

std::optional<IpAddress> parse_address(std::string_view s, std::string* why = nullptr);
std::optional<Prefix> parse_prefix(std::string_view s, std::string* why = nullptr);
std::optional<Size> parse_size(std::string_view s, std::string* why = nullptr);
std::optional<Duration> parse_duration(std::string_view s, std::string* why = nullptr);
std::optional<Rate> parse_rate(std::string_view s, std::string* why = nullptr);
std::optional<Percent> parse_percent(std::string_view s, std::string* why = nullptr);
std::optional<Cpus> parse_cpus(double v, std::string* why = nullptr);

}  // namespace netlab::topo
