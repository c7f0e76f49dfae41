// Shared by the multi-host unit tests: the [hosts] tables of k hosts and a
// loader that reports the diagnostics of a text that does not parse.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "topology/parse.hpp"

namespace netlab::cluster::test {

/// Hosts h1..hk at 192.0.2.11.. .
inline std::string hosts_toml(int k) {
  std::string s;
  for (int i = 1; i <= k; ++i) s += fmt::format("[hosts.h{}]\naddress = \"192.0.2.{}\"\n", i, 10 + i);
  return s;
}

inline topo::Lab load(const std::string& text) {
  Diagnostics d;
  auto lab = topo::load_string(text, "t.toml", d);
  EXPECT_TRUE(lab.has_value()) << d.render();
  return lab ? *lab : topo::Lab{};
}

}  // namespace netlab::cluster::test
