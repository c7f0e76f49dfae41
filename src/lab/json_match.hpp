// JSON subset matching for `command` checks with a `json` expectation, in the
// spirit of FRR topotests' json_cmp: the expected document is a pattern the
// command's output must contain. Pure functions, no I/O.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace netlab::lab {

/// True when `got` contains `expected`:
/// - an object matches when every key of `expected` is in `got` with a matching
///   value (extra keys in `got` are ignored); an expected value of null means
///   the key must be absent;
/// - an array matches when each expected element matches a different element
///   of `got`, in any order (`got` may hold more);
/// - numbers compare by value (1 == 1.0), strings, booleans and null exactly.
/// On a mismatch `why` (if given) names the first path that differs:
/// `$.ospf.neighbors["10.0.0.2"][0].state: expected "Full/DR", got "Init/DROther"`.
bool json_contains(const nlohmann::json& got, const nlohmann::json& expected, std::string* why = nullptr);

}  // namespace netlab::lab
