// Hostile layers are refused before anything privileged happens (no root needed):
// the error names the entry, and the destination is gone.
#include <gtest/gtest.h>
#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "image/unpack.hpp"
#include "util/error.hpp"

namespace fs = std::filesystem;

namespace netlab::image {
namespace {

struct E {
  char type;
  std::string path, link;
};

std::string tar_file(const std::vector<E>& entries) {
  static int n = 0;
  std::string path = fs::temp_directory_path() / ("netlab-unpack-test-" + std::to_string(::getpid()) + "-" + std::to_string(++n) + ".tar.gz");
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_gzip(a);
  archive_write_open_filename(a, path.c_str());
  for (const auto& e : entries) {
    struct archive_entry* en = archive_entry_new();
    archive_entry_set_pathname(en, e.path.c_str());
    archive_entry_set_perm(en, 0644);
    if (e.type == 'l') {
      archive_entry_set_filetype(en, AE_IFLNK);
      archive_entry_set_symlink(en, e.link.c_str());
    } else if (e.type == 'h') {
      archive_entry_set_filetype(en, AE_IFREG);
      archive_entry_set_hardlink(en, e.link.c_str());
    } else {
      archive_entry_set_filetype(en, e.type == 'd' ? AE_IFDIR : AE_IFREG);
      archive_entry_set_size(en, e.type == 'd' ? 0 : 1);
    }
    archive_write_header(a, en);
    if (e.type == 'f') archive_write_data(a, "x", 1);
    archive_entry_free(en);
  }
  archive_write_close(a);
  archive_write_free(a);
  return path;
}

TEST(ImageUnpack, HostileEntriesAreRefusedAndLeaveNothing) {
  struct Case {
    std::vector<E> entries;
    std::string message;
  } cases[] = {
      {{{'f', "/abs", ""}}, "layer L: entry \"/abs\" is an absolute path"},
      {{{'f', "a/../../b", ""}}, "layer L: entry \"a/../../b\" contains \"..\""},
      {{{'d', "a", ""}, {'l', "a/up", "../../x"}}, "layer L: symlink \"a/up\" -> \"../../x\" points out of the layer"},
      {{{'l', "lnk", "/"}, {'f', "lnk/x", ""}}, "layer L: entry \"lnk/x\" goes through the symlink \"lnk\" of the layer"},
      {{{'h', "h", "../outside"}}, "layer L: hard link target \"../outside\" contains \"..\""},
      {{{'h', "h", "nothere"}}, "layer L: hard link \"h\" points at \"nothere\", which is not a file of the layer"},
  };
  for (const auto& c : cases) {
    std::string blob = tar_file(c.entries);
    std::string dest = blob + ".d";
    try {
      unpack_layer(blob, dest, "layer L");
      ADD_FAILURE() << "accepted: " << c.message;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dest)) << c.message;
    fs::remove(blob);
  }
}

TEST(ImageUnpack, ALayerWithLinksInsideIsAccepted) {
  std::string blob = tar_file({{'d', "bin", ""}, {'f', "bin/busybox", ""}, {'l', "bin/sh", "busybox"},
                               {'l', "bin/abs", "/bin/busybox"}, {'h', "bin/hard", "bin/busybox"}, {'l', "bin/up", "../bin"}});
  std::string dest = blob + ".d";
  auto stats = unpack_layer(blob, dest, "layer");
  EXPECT_EQ(stats.entries, 6u);
  EXPECT_EQ(fs::read_symlink(dest + "/bin/sh"), "busybox");
  EXPECT_EQ(fs::hard_link_count(dest + "/bin/busybox"), 2u);
  fs::remove_all(dest);
  fs::remove(blob);
}

}  // namespace
}  // namespace netlab::image
