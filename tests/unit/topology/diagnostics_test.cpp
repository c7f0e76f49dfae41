// Every diagnostic, with its exact text and position: each file in
// tests/testdata/bad/ is loaded and its diagnostics compared in full with the
// .expected file beside it (NETLAB_UPDATE_GOLDEN=1 rewrites them).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "topology/parse.hpp"
#include "util/strings.hpp"

namespace netlab::topo {
namespace {

namespace fs = std::filesystem;

std::string diagnostics_of(const fs::path& file) {
  Diagnostics diags;
  auto lab = load_string(read_file(file), file.filename().string(), diags);
  std::string out;
  for (const auto& d : diags.sorted()) out += d.str() + "\n";
  return out;
}

TEST(Diagnostics, EveryBadFileGivesExactlyItsExpectedDiagnostics) {
  fs::path dir = fs::path(NETLAB_TESTDATA_DIR) / "bad";
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".toml") continue;
    ++files;
    SCOPED_TRACE(e.path().filename().string());
    std::string got = diagnostics_of(e.path());
    fs::path expected = e.path();
    expected.replace_extension(".expected");
    if (std::getenv("NETLAB_UPDATE_GOLDEN")) write_file(expected, got);
    ASSERT_TRUE(fs::exists(expected));
    EXPECT_EQ(got, read_file(expected));
    EXPECT_FALSE(got.empty()) << "a bad file without a diagnostic";
  }
  EXPECT_GE(files, 15u);
}

TEST(Diagnostics, BadFilesFailToLoadButWarningsAlone) {
  Diagnostics diags;
  auto lab = load_file(std::string(NETLAB_TESTDATA_DIR) + "/bad/bridge-no-links.toml", diags);
  EXPECT_TRUE(lab) << "a warning must not fail the load";
  EXPECT_FALSE(diags.has_errors());
  ASSERT_EQ(diags.all().size(), 1u);
  Diagnostics d2;
  EXPECT_FALSE(load_file(std::string(NETLAB_TESTDATA_DIR) + "/bad/unknown-key.toml", d2));
  EXPECT_TRUE(d2.has_errors());
}

TEST(Diagnostics, RenderShowsTheSourceLineAndACaret) {
  std::string source = "name = \"lab\"\n[nodes.h1]\npids = \"many\"\n";
  Diagnostics diags;
  load_string(source, "t.toml", diags);
  EXPECT_EQ(diags.render(source),
            "t.toml:3:8: node h1 pids: expected an integer, got a string\n"
            "  pids = \"many\"\n"
            "         ^\n");
}

TEST(Diagnostics, UnreadableFileIsADiagnostic) {
  Diagnostics diags;
  EXPECT_FALSE(load_file("/nonexistent/topo.toml", diags));
  ASSERT_EQ(diags.all().size(), 1u);
  EXPECT_EQ(diags.all()[0].str(),
            "/nonexistent/topo.toml: cannot read topology: No such file or directory (ENOENT)");
}

}  // namespace
}  // namespace netlab::topo
