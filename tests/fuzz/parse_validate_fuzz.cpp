// libFuzzer target: any byte string through parse, resolve and validate must
// end in a Lab or in diagnostics — never a crash, a hang or a sanitizer report.
// A successful load must also survive rendering its diagnostics.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "topology/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view source(reinterpret_cast<const char*>(data), size);
  netlab::Diagnostics diags;
  auto lab = netlab::topo::load_string(source, "fuzz.toml", diags);
  (void)diags.render(source);
  if (lab && diags.has_errors()) __builtin_trap();  // a Lab is returned only without errors
  return 0;
}
