#include "lab/journal.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "util/error.hpp"
#include "util/strings.hpp"

namespace netlab::lab {
namespace {

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("netlab-journal-" + std::to_string(getpid()) +
                                                     "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = dir_ / "journal";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string path_;
};

std::vector<Action> sample_actions() {
  CreateVeth v;
  v.label = "h1:eth0 <-> lan";
  v.a_ns = "h1";
  v.a_name = "eth0";
  v.a_ifindex = 100;
  v.b_ns = kFabricNs;
  v.b_name = "h1_eth0";
  v.b_ifindex = 10000;
  return {CreateFabric{"/run/netns/netlab-x"}, v,
          AddAddress{"h1", "eth0", 100, "192.168.50.2/24"},
          SetHostSysctl{"net.ipv4.ip_forward", "1", "0", true},
          StartNode{"h1", 0, 0, 0}};
}

TEST_F(JournalTest, RoundTripsEveryRecordAndCompletesStartsWithFacts) {
  auto actions = sample_actions();
  {
    Journal j = Journal::create(path_, "x");
    j.append({&actions[0], &actions[1], &actions[2]});
    j.append({&actions[3], &actions[4]});
    StartNode started{"h1", 0, 4242, 77};
    j.append_node_started(started);
  }
  JournalContents c = load_journal(path_);
  EXPECT_EQ(c.lab, "x");
  EXPECT_FALSE(c.dropped_torn_tail);
  EXPECT_EQ(c.last_seq, 6u);
  ASSERT_EQ(c.actions.size(), actions.size());
  for (size_t i = 0; i + 1 < actions.size(); ++i)
    EXPECT_EQ(describe(c.actions[i]), describe(actions[i]));
  auto* v = std::get_if<CreateVeth>(&c.actions[1]);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->b_ifindex, 10000u);
  auto* s = std::get_if<StartNode>(&c.actions[4]);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->pid, 4242);
  EXPECT_EQ(s->start_time, 77u);
}

TEST_F(JournalTest, CreateRefusesAnExistingJournal) {
  Journal::create(path_, "x");
  try {
    Journal::create(path_, "x");
    FAIL() << "second create succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.errnum(), EEXIST);
  }
}

TEST_F(JournalTest, TornLastLineIsDroppedAndTruncated) {
  auto actions = sample_actions();
  {
    Journal j = Journal::create(path_, "x");
    j.append({&actions[0], &actions[1]});
  }
  std::string good = read_file(path_);
  {
    std::ofstream out(path_, std::ios::app);
    out << R"({"seq":3,"op":"add_addr)";  // a crash in the middle of a write
  }
  JournalContents c = load_journal(path_);
  EXPECT_TRUE(c.dropped_torn_tail);
  EXPECT_EQ(c.actions.size(), 2u);
  EXPECT_EQ(read_file(path_), good);  // repaired on disk
  // Appending after the repair yields a valid journal again.
  Journal j = Journal::open_append(path_, c.last_seq);
  j.append(actions[2]);
  EXPECT_EQ(load_journal(path_).actions.size(), 3u);
}

TEST_F(JournalTest, CreateWritesTheHeaderBeforeTheJournalAppears) {
  // The header goes to journal.new and is renamed into place: at no instant
  // is there a journal without its header (a SIGKILL there blocked the lab).
  Journal j = Journal::create(path_, "x");
  EXPECT_FALSE(std::filesystem::exists(path_ + ".new"));
  EXPECT_EQ(read_file(path_), "{\"lab\":\"x\",\"netlab_journal\":1}\n");
  // A stale temporary from a killed create does not stand in the way.
  std::filesystem::remove(path_);
  write_file(path_ + ".new", "");
  Journal::create(path_, "x");
  EXPECT_EQ(load_journal(path_).lab, "x");
}

TEST_F(JournalTest, EmptyOrTornHeaderMeansNothingWasBuilt) {
  // What a SIGKILL between creating the file and writing the header left
  // (before the header was renamed into place): destroy must go on, not refuse.
  write_file(path_, "");
  JournalContents c = load_journal(path_);
  EXPECT_TRUE(c.actions.empty());
  write_file(path_, "{\"netlab_jour");
  c = load_journal(path_);
  EXPECT_TRUE(c.actions.empty());
  EXPECT_TRUE(c.dropped_torn_tail);
}

TEST_F(JournalTest, IdentitiesRoundTrip) {
  Action f = CreateFabric{"/run/netns/netlab-x", 4026532999};
  Action p = PinNodeNetns{"h1", "/run/netns/x-h1", 4026533000};
  {
    Journal j = Journal::create(path_, "x");
    j.append({&f, &p});
  }
  auto c = load_journal(path_);
  ASSERT_EQ(c.actions.size(), 2u);
  EXPECT_EQ(std::get<CreateFabric>(c.actions[0]).inode, 4026532999u);
  EXPECT_EQ(std::get<PinNodeNetns>(c.actions[1]).inode, 4026533000u);
  auto u = undo_of(c.actions[1]);
  ASSERT_TRUE(u);
  EXPECT_EQ(std::get<Unpin>(*u).inode, 4026533000u);
  // Records from before inodes were journaled still load (inode 0).
  write_file(path_, "{\"netlab_journal\":1,\"lab\":\"x\"}\n{\"seq\":1,\"op\":\"create_fabric\",\"pin\":\"p\"}\n");
  EXPECT_EQ(std::get<CreateFabric>(load_journal(path_).actions[0]).inode, 0u);
}

TEST_F(JournalTest, CorruptMiddleLineIsAnError) {
  write_file(path_, "{\"netlab_journal\":1,\"lab\":\"x\"}\nnot json\n{\"seq\":2,\"op\":\"create_fabric\",\"pin\":\"p\"}\n");
  EXPECT_THROW(load_journal(path_), Error);
}

TEST_F(JournalTest, UnknownVersionIsRejectedWithBothVersions) {
  write_file(path_, "{\"netlab_journal\":9,\"lab\":\"x\"}\n");
  try {
    load_journal(path_);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("version 9 is not supported"), std::string::npos) << e.what();
  }
}

TEST_F(JournalTest, UnknownOpIsRejected) {
  write_file(path_, "{\"netlab_journal\":1,\"lab\":\"x\"}\n{\"seq\":1,\"op\":\"launch_rocket\"}\n");
  EXPECT_THROW(load_journal(path_), Error);
}

TEST_F(JournalTest, MissingJournalIsENOENT) {
  try {
    load_journal(path_);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.errnum(), ENOENT);
  }
}

TEST_F(JournalTest, AFilteredLoadSkipsOtherOpsKeepsFactsAndTheLastSeq) {
  auto actions = sample_actions();
  {
    Journal j = Journal::create(path_, "x");
    j.append({&actions[0], &actions[1], &actions[2], &actions[3], &actions[4]});
    j.append_node_started(StartNode{"h1", 0, 4242, 77});
    j.append(actions[2]);  // the last record: read whatever its op
  }
  JournalContents c = load_journal(path_, [](std::string_view op) { return op == "create_veth" || op == "start_node" || op == "node_started"; });
  std::vector<std::string> ops;
  for (const auto& a : c.actions) ops.push_back(op_name(a));
  EXPECT_EQ(ops, (std::vector<std::string>{"create_veth", "start_node", "add_address"}));
  EXPECT_EQ(c.last_seq, 7u);
  auto* s = std::get_if<StartNode>(&c.actions[1]);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->pid, 4242);
  EXPECT_EQ(s->start_time, 77u);
}

}  // namespace
}  // namespace netlab::lab
