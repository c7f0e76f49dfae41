// Value parsers, table-driven: every accepted form and its canonical text, and
// every rejected form with the reason given.
#include "topology/values.hpp"

#include <gtest/gtest.h>

namespace netlab::topo {
namespace {

TEST(ParseAddress, AcceptsV4AndV6) {
  for (auto [in, out] : std::vector<std::pair<const char*, const char*>>{
           {"192.168.50.2", "192.168.50.2"}, {"0.0.0.0", "0.0.0.0"}, {"fd00::1", "fd00::1"},
           {"FD00:0:0::1", "fd00::1"}, {"::1", "::1"}}) {
    auto a = parse_address(in);
    ASSERT_TRUE(a) << in;
    EXPECT_EQ(a->str(), out);
  }
}

TEST(ParseAddress, RejectsWithReason) {
  for (const char* in : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "fd00::1::2", "h1", "1.2.3.4/24"}) {
    std::string why;
    EXPECT_FALSE(parse_address(in, &why)) << in;
    EXPECT_NE(why.find("is not an IPv4 or IPv6 address"), std::string::npos) << why;
  }
}

TEST(ParsePrefix, AcceptsAddressesWithLengthAndDefault) {
  struct Case { const char* in; const char* str; const char* network; };
  for (auto c : std::vector<Case>{{"192.168.50.2/24", "192.168.50.2/24", "192.168.50.0/24"},
                                  {"10.0.0.1/31", "10.0.0.1/31", "10.0.0.0/31"},
                                  {"10.1.2.3/0", "10.1.2.3/0", "0.0.0.0/0"},
                                  {"fd00::1/64", "fd00::1/64", "fd00::/64"},
                                  {"fd00:1:2:3:4::1/62", "fd00:1:2:3:4::1/62", "fd00:1:2::/62"}}) {
    auto p = parse_prefix(c.in);
    ASSERT_TRUE(p) << c.in;
    EXPECT_EQ(p->str(), c.str);
    EXPECT_EQ(p->network().str(), c.network);
  }
  auto d = parse_prefix("default");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->is_default);
  EXPECT_EQ(d->len, 0);
}

TEST(ParsePrefix, RejectsWithReason) {
  struct Case { const char* in; const char* why; };
  for (auto c : std::vector<Case>{{"10.0.0.1", "needs a prefix length"},
                                  {"10.0.0.1/33", "prefix length must be 0..32"},
                                  {"10.0.0.1/-1", "prefix length must be 0..32"},
                                  {"10.0.0.1/", "prefix length must be 0..32"},
                                  {"10.0.0.1/2x", "prefix length must be 0..32"},
                                  {"fd00::1/129", "prefix length must be 0..128"},
                                  {"x/24", "is not an IPv4 or IPv6 address"}}) {
    std::string why;
    EXPECT_FALSE(parse_prefix(c.in, &why)) << c.in;
    EXPECT_NE(why.find(c.why), std::string::npos) << c.in << ": " << why;
  }
}

TEST(Prefix, Contains) {
  auto p = *parse_prefix("192.168.50.1/24");
  EXPECT_TRUE(p.contains(*parse_address("192.168.50.254")));
  EXPECT_FALSE(p.contains(*parse_address("192.168.51.1")));
  EXPECT_FALSE(p.contains(*parse_address("fd00::1")));
  auto q = *parse_prefix("10.0.0.0/31");
  EXPECT_TRUE(q.contains(*parse_address("10.0.0.1")));
  EXPECT_FALSE(q.contains(*parse_address("10.0.0.2")));
}

TEST(ParseSize, Forms) {
  struct Case { const char* in; uint64_t bytes; const char* str; };
  for (auto c : std::vector<Case>{{"4096", 4096, "4K"}, {"64M", 64ull << 20, "64M"}, {"1G", 1ull << 30, "1G"},
                                  {"512KiB", 512ull << 10, "512K"}, {"1.5G", 3ull << 29, "1536M"},
                                  {"2TiB", 2ull << 40, "2T"}, {"100", 100, "100"}, {"64mb", 64ull << 20, "64M"}}) {
    auto s = parse_size(c.in);
    ASSERT_TRUE(s) << c.in;
    EXPECT_EQ(s->bytes, c.bytes) << c.in;
    EXPECT_EQ(s->str(), c.str);
  }
  for (const char* bad : {"", "M", "64Q", "-1M", "1.5", "1..2M"}) {
    std::string why;
    EXPECT_FALSE(parse_size(bad, &why)) << bad;
    EXPECT_FALSE(why.empty());
  }
}

TEST(ParseDuration, Forms) {
  struct Case { const char* in; uint64_t ns; const char* str; };
  for (auto c : std::vector<Case>{{"10ms", 10'000'000, "10ms"}, {"1.5s", 1'500'000'000, "1500ms"},
                                  {"200us", 200'000, "200us"}, {"100ns", 100, "100ns"}, {"2m", 120'000'000'000, "120s"},
                                  {"0ms", 0, "0s"}}) {
    auto d = parse_duration(c.in);
    ASSERT_TRUE(d) << c.in;
    EXPECT_EQ(d->ns, c.ns);
    EXPECT_EQ(d->str(), c.str);
  }
  for (const char* bad : {"10", "ms", "-5ms", "10 parsecs", "1h"}) {
    std::string why;
    EXPECT_FALSE(parse_duration(bad, &why)) << bad;
    EXPECT_FALSE(why.empty());
  }
}

TEST(ParseRate, Forms) {
  struct Case { const char* in; uint64_t bps; const char* str; };
  for (auto c : std::vector<Case>{{"10mbit", 10'000'000, "10mbit"}, {"1gbit", 1'000'000'000, "1gbit"},
                                  {"500kbit", 500'000, "500kbit"}, {"100bit", 100, "100bit"},
                                  {"1mbps", 8'000'000, "8mbit"}, {"1.5Mbit", 1'500'000, "1500kbit"}}) {
    auto r = parse_rate(c.in);
    ASSERT_TRUE(r) << c.in;
    EXPECT_EQ(r->bits_per_sec, c.bps);
    EXPECT_EQ(r->str(), c.str);
  }
  for (const char* bad : {"10", "fast", "10 furlongs", "0bit", "-1mbit"}) {
    std::string why;
    EXPECT_FALSE(parse_rate(bad, &why)) << bad;
    EXPECT_FALSE(why.empty());
  }
}

TEST(ParsePercent, Forms) {
  for (auto [in, v, s] : std::vector<std::tuple<const char*, double, const char*>>{
           {"1%", 1, "1%"}, {"0.5%", 0.5, "0.5%"}, {"100%", 100, "100%"}, {"0%", 0, "0%"}}) {
    auto p = parse_percent(in);
    ASSERT_TRUE(p) << in;
    EXPECT_DOUBLE_EQ(p->value, v);
    EXPECT_EQ(p->str(), s);
  }
  for (const char* bad : {"1", "120%", "-1%", "%", "1 %x"}) {
    std::string why;
    EXPECT_FALSE(parse_percent(bad, &why)) << bad;
    EXPECT_FALSE(why.empty());
  }
}

TEST(ParseCpus, Range) {
  EXPECT_TRUE(parse_cpus(0.5));
  EXPECT_TRUE(parse_cpus(16));
  EXPECT_EQ(parse_cpus(0.25)->str(), "0.25");
  std::string why;
  EXPECT_FALSE(parse_cpus(0, &why));
  EXPECT_NE(why.find("more than 0"), std::string::npos);
  EXPECT_FALSE(parse_cpus(-1));
  EXPECT_FALSE(parse_cpus(2000));
}

}  // namespace
}  // namespace netlab::topo
