// json_contains: FRR topotests' json_cmp semantics (objects by subset, arrays
// element-wise in any order, null = absent), with the first differing path named.
#include "lab/json_match.hpp"

#include <gtest/gtest.h>

#include "lab/node_status.hpp"

namespace netlab::lab {
namespace {

using json = nlohmann::json;

bool contains(const std::string& got, const std::string& want, std::string* why = nullptr) {
  return json_contains(json::parse(got), json::parse(want), why);
}

TEST(JsonMatch, ObjectsMatchBySubset) {
  std::string ospf = R"({"neighbors": {"10.255.0.2": [{"state": "Full/-", "address": "10.0.12.2", "prio": 1}],
                                        "10.255.0.4": [{"state": "Init/-", "address": "10.0.41.4"}]}})";
  EXPECT_TRUE(contains(ospf, R"({"neighbors": {"10.255.0.2": [{"state": "Full/-"}]}})"));
  EXPECT_TRUE(contains(ospf, "{}"));
  std::string why;
  EXPECT_FALSE(contains(ospf, R"({"neighbors": {"10.255.0.4": [{"state": "Full/-"}]}})", &why));
  EXPECT_EQ(why, R"($.neighbors["10.255.0.4"][0].state: expected "Full/-", got "Init/-")");
  EXPECT_FALSE(contains(ospf, R"({"neighbors": {"10.255.0.9": []}})", &why));
  EXPECT_EQ(why, R"($.neighbors: missing key "10.255.0.9")");
}

TEST(JsonMatch, NullMeansAbsent) {
  EXPECT_TRUE(contains(R"({"a": 1})", R"({"b": null})"));
  std::string why;
  EXPECT_FALSE(contains(R"({"a": 1, "b": 2})", R"({"b": null})", &why));
  EXPECT_EQ(why, R"($: expected no key "b", got one)");
}

TEST(JsonMatch, ArraysMatchElementWiseInAnyOrder) {
  std::string routes = R"([{"prefix": "10.0.0.0/24", "nh": "a"}, {"prefix": "10.0.1.0/24", "nh": "b"}, {"prefix": "10.0.2.0/24"}])";
  EXPECT_TRUE(contains(routes, R"([{"prefix": "10.0.1.0/24"}, {"prefix": "10.0.0.0/24", "nh": "a"}])"));
  EXPECT_TRUE(contains(routes, "[]"));
  // Each expected element takes a different element: two alike need two.
  EXPECT_TRUE(contains("[1, 1, 2]", "[1, 1]"));
  std::string why;
  EXPECT_FALSE(contains("[1, 2]", "[1, 1]", &why));
  EXPECT_EQ(why, "$: no element matches 1");
  EXPECT_FALSE(contains(routes, R"([{"prefix": "10.0.9.0/24"}])", &why));
  EXPECT_EQ(why, R"($: no element matches {"prefix":"10.0.9.0/24"})");
}

TEST(JsonMatch, ScalarsAndTypes) {
  EXPECT_TRUE(contains(R"({"n": 2})", R"({"n": 2.0})"));
  EXPECT_FALSE(contains(R"({"n": "2"})", R"({"n": 2})"));
  EXPECT_FALSE(contains(R"({"ok": false})", R"({"ok": true})"));
  std::string why;
  EXPECT_FALSE(contains(R"({"a": [1]})", R"({"a": {"b": 1}})", &why));
  EXPECT_EQ(why, "$.a: expected an object, got [1]");
  EXPECT_FALSE(contains(R"({"a": {}})", R"({"a": [1]})", &why));
  EXPECT_EQ(why, "$.a: expected an array, got {}");
}

TEST(NodeStatus, ParsesWhatTheInitWritesAndNothingElse) {
  EXPECT_EQ(parse_cmd_status("", false, true).state, CmdStatus::State::kNone);
  EXPECT_TRUE(parse_cmd_status("exited 3", false, true).to_json().is_null());
  EXPECT_EQ(parse_cmd_status("", true, true).str(), "running");
  EXPECT_EQ(parse_cmd_status("", true, false).str(), "stopped");
  auto exited = parse_cmd_status("exited 3\n", true, true);
  EXPECT_EQ(exited.str(), "exited 3");
  EXPECT_EQ(exited.to_json()["exit_code"], 3);
  EXPECT_TRUE(exited.to_json()["signal"].is_null());
  auto killed = parse_cmd_status("killed 9\n", true, false);
  EXPECT_EQ(killed.str(), "killed by SIGKILL");
  EXPECT_EQ(killed.to_json()["signal"], 9);
  EXPECT_EQ(killed.to_json()["state"], "killed");
  // Root in the node could write anything there: junk reads as "not ended".
  for (const char* junk : {"exited", "exited -1", "exited 999", "exited 3 4", "rm -rf /", "killed x"})
    EXPECT_EQ(parse_cmd_status(junk, true, true).state, CmdStatus::State::kRunning) << junk;
}

TEST(NodeStatus, LastLines) {
  EXPECT_EQ(last_lines("a\nb\nc\n", 2), "b\nc\n");
  EXPECT_EQ(last_lines("a\nb\nc", 2), "b\nc\n");
  EXPECT_EQ(last_lines("a\nb\nc\n\n\n", 1), "c\n");
  EXPECT_EQ(last_lines("a\nb\n", 5), "a\nb\n");
  EXPECT_EQ(last_lines("", 3), "");
  EXPECT_EQ(last_lines("a\n", 0), "");
}

}  // namespace
}  // namespace netlab::lab
