// The executor against a fake backend: for every action k of a real plan, a
// failure at k leaves a journal holding the intents up to k, a rollback that ran
// exactly the undos of what was journaled (latest first, by destroy step), and a
// second destroy with nothing to do. This is "nothing leaks" by construction.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "fake_backend.hpp"
#include "lab/lifecycle.hpp"
#include "topology/parse.hpp"

namespace netlab::lab {
namespace {

class Forwarding : public Backend {
 public:
  explicit Forwarding(FakeBackend& f) : f_(f) {}
  void preflight(const Plan& p) override { f_.preflight(p); }
  void prepare(Action& a) override { f_.prepare(a); }
  void run(std::span<Action> b) override { f_.run(b); }
  void undo(const Undo& u) override { f_.undo(u); }

 private:
  FakeBackend& f_;
};

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    facts_.state_dir = std::filesystem::temp_directory_path() /
                       ("netlab-exec-" + std::to_string(getpid()) + "-" +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    Diagnostics diags;
    auto lab = topo::load_file(std::string(NETLAB_SOURCE_DIR) + "/topologies/nat-gateway.toml", diags);
    ASSERT_TRUE(lab) << diags.render();
    lab_ = *lab;
  }
  void TearDown() override { std::filesystem::remove_all(facts_.state_dir); }

  BackendFactory factory() {
    return [this](const topo::Lab*) { return std::make_unique<Forwarding>(fake_); };
  }
  std::vector<std::string> expected_undos(const std::vector<Action>& journaled) {
    std::vector<std::string> out;
    for (const auto& u : undo_sequence(journaled)) out.push_back(describe(u));
    return out;
  }

  HostFacts facts_;
  topo::Lab lab_;
  FakeBackend fake_;
};

TEST_F(ExecutorTest, SuccessfulDeployJournalsEveryActionAndDestroyUndoesThem) {
  Plan p = plan(lab_, facts_);
  deploy_lab(lab_, facts_, factory());
  EXPECT_EQ(fake_.ran.size(), p.actions.size());
  auto journaled = load_journal(journal_path(facts_, lab_.name)).actions;
  ASSERT_EQ(journaled.size(), p.actions.size());
  for (const auto& a : journaled) {
    if (auto* s = std::get_if<StartNode>(&a)) {
      EXPECT_EQ(s->pid, 1000 + s->node_index);
    }
  }

  auto r = destroy_lab(lab_.name, facts_, factory());
  EXPECT_TRUE(r.report.ok());
  EXPECT_FALSE(r.nothing_to_do);
  EXPECT_EQ(fake_.undone, expected_undos(journaled));
  EXPECT_FALSE(std::filesystem::exists(lab_dir(facts_, lab_.name)));
  // Nodes are killed first, then cgroups, pins, and the fabric last-but-files.
  ASSERT_FALSE(fake_.undone.empty());
  EXPECT_EQ(fake_.undone.front().rfind("node ", 0), 0u) << fake_.undone.front();

  fake_.undone.clear();
  auto again = destroy_lab(lab_.name, facts_, factory());
  EXPECT_TRUE(again.nothing_to_do);
  EXPECT_TRUE(fake_.undone.empty());
}

// The fabric's namespace goes before any node's (the kernel's cleanup of a
// namespace searches every live namespace's peer ids, and the fabric's name
// every node: nodes dying first made destroy's kernel work O(N^2)), and only
// after the nodes are dead and their cgroups gone: from the journal alone,
// also a partial one.
TEST_F(ExecutorTest, DestroyUnpinsTheFabricAfterTheNodesDieAndBeforeTheirPins) {
  Plan p = plan(lab_, facts_);
  const std::string fabric = "netns pin " + fabric_pin(facts_, lab_.name);
  for (size_t upto : {p.actions.size(), p.actions.size() - 1}) {
    std::vector<Action> journaled(p.actions.begin(), p.actions.begin() + static_cast<long>(upto));
    std::vector<std::string> undos;
    for (const auto& u : undo_sequence(journaled)) undos.push_back(describe(u));
    auto at = std::find(undos.begin(), undos.end(), fabric);
    ASSERT_NE(at, undos.end()) << "with " << upto << " actions journaled";
    size_t node_pins = 0;
    for (auto it = undos.begin(); it != undos.end(); ++it) {
      bool node_pin = it->rfind("netns pin ", 0) == 0 && *it != fabric;
      bool dies_first = it->rfind("node ", 0) == 0 || it->rfind("cgroup ", 0) == 0;
      if (node_pin) ++node_pins;
      if (node_pin) EXPECT_GT(it, at) << *it << " before the fabric";
      if (dies_first) EXPECT_LT(it, at) << *it << " after the fabric";
    }
    auto pinned = std::count_if(journaled.begin(), journaled.end(),
                                [](const Action& a) { return std::holds_alternative<PinNodeNetns>(a); });
    EXPECT_EQ(node_pins, static_cast<size_t>(pinned));
    EXPECT_GT(node_pins, 0u);
  }
}

TEST_F(ExecutorTest, DeployingTheSameLabTwiceFailsAndLeavesTheFirst) {
  deploy_lab(lab_, facts_, factory());
  size_t ran = fake_.ran.size();
  try {
    deploy_lab(lab_, facts_, factory());
    FAIL() << "second deploy succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.errnum(), EEXIST);
    EXPECT_NE(std::string(e.what()).find("lab natgw is already deployed"), std::string::npos);
  }
  EXPECT_EQ(fake_.ran.size(), ran);
  EXPECT_TRUE(fake_.undone.empty());
  destroy_lab(lab_.name, facts_, factory());
}

TEST_F(ExecutorTest, FailureAtEveryActionRollsBackExactlyWhatWasJournaled) {
  const Plan p = plan(lab_, facts_);
  for (size_t k = 1; k <= p.actions.size(); ++k) {
    SCOPED_TRACE("failing action " + std::to_string(k) + ": " + describe(p.actions[k - 1]));
    fake_ = FakeBackend{};
    fake_.fail_at = k;
    // Keep the journal the rollback read: make it survive by copying before removal.
    try {
      deploy_lab(lab_, facts_, factory());
      FAIL() << "deploy succeeded";
    } catch (const DeployError& e) {
      EXPECT_EQ(e.errnum(), EEXIST);
      EXPECT_NE(std::string(e.what()).find("deploy: creating " + describe(p.actions[k - 1])),
                std::string::npos)
          << e.what();
      EXPECT_TRUE(e.rollback().ok());
    }
    // 1. everything up to k ran; nothing after k's batch ran.
    ASSERT_EQ(fake_.ran.size(), k - 1);
    for (size_t i = 0; i + 1 < k; ++i) EXPECT_EQ(fake_.ran[i], describe(p.actions[i]));
    // 2. the undos are those of the journaled prefix: at least 1..k, at most k's batch.
    size_t batch_end = k;
    while (batch_end < p.actions.size() && phase_of(p.actions[batch_end]) == phase_of(p.actions[k - 1]))
      ++batch_end;
    std::vector<Action> journaled(p.actions.begin(), p.actions.begin() + static_cast<long>(batch_end));
    // Nodes of an earlier, completed phase have their pids journaled as facts.
    size_t batch_begin = k - 1;
    while (batch_begin > 0 && phase_of(p.actions[batch_begin - 1]) == phase_of(p.actions[k - 1]))
      --batch_begin;
    for (size_t i = 0; i < journaled.size(); ++i) {
      if (auto* s = std::get_if<StartNode>(&journaled[i])) {
        s->pid = i < batch_begin ? 1000 + s->node_index : 0;
      }
    }
    std::vector<std::string> got = fake_.undone;
    std::vector<std::string> want = expected_undos(journaled);
    EXPECT_EQ(got, want);
    // 3. the state dir is gone and a second destroy has nothing to do.
    EXPECT_FALSE(std::filesystem::exists(lab_dir(facts_, lab_.name)));
    fake_.undone.clear();
    EXPECT_TRUE(destroy_lab(lab_.name, facts_, factory()).nothing_to_do);
    EXPECT_TRUE(fake_.undone.empty());
  }
}

TEST_F(ExecutorTest, CrashAtEveryActionThenDestroyUndoesTheJournal) {
  const Plan p = plan(lab_, facts_);
  for (size_t k = 1; k <= p.actions.size(); ++k) {
    SCOPED_TRACE("crash at action " + std::to_string(k));
    fake_ = FakeBackend{};
    fake_.crash_at = k;
    EXPECT_THROW(deploy_lab(lab_, facts_, factory()), FakeBackend::Crash);
    EXPECT_TRUE(fake_.undone.empty());  // a crash runs no rollback
    auto journaled = load_journal(journal_path(facts_, lab_.name)).actions;
    ASSERT_GE(journaled.size(), k);  // the intent of k was written before k ran
    auto r = destroy_lab(lab_.name, facts_, factory());
    EXPECT_TRUE(r.report.ok());
    EXPECT_EQ(fake_.undone, expected_undos(journaled));
    EXPECT_FALSE(std::filesystem::exists(lab_dir(facts_, lab_.name)));
  }
}

TEST_F(ExecutorTest, FailedUndoKeepsStateAndIsReportedThenRetrySucceeds) {
  deploy_lab(lab_, facts_, factory());
  fake_.fail_undo = "cgroup netlab/natgw/h1";
  auto r = destroy_lab(lab_.name, facts_, factory());
  ASSERT_EQ(r.report.failures.size(), 1u);
  EXPECT_NE(r.report.failures[0].find("Device or resource busy (EBUSY)"), std::string::npos)
      << r.report.failures[0];
  EXPECT_TRUE(std::filesystem::exists(journal_path(facts_, lab_.name)));  // kept for a retry
  fake_.fail_undo.reset();
  auto again = destroy_lab(lab_.name, facts_, factory());
  EXPECT_TRUE(again.report.ok());
  EXPECT_FALSE(std::filesystem::exists(lab_dir(facts_, lab_.name)));
}

TEST_F(ExecutorTest, PreflightRunsBeforeTheJournalAndARefusalLeavesNothing) {
  fake_.journal_path = journal_path(facts_, lab_.name);
  fake_.refuse = Error(EEXIST, "netns pin /run/netns/netlab-natgw exists already");
  EXPECT_THROW(deploy_lab(lab_, facts_, factory()), Error);
  EXPECT_FALSE(fake_.journal_existed_at_preflight);
  EXPECT_TRUE(fake_.ran.empty());
  EXPECT_FALSE(std::filesystem::exists(lab_dir(facts_, lab_.name))) << "nothing was built, nothing is left";
  fake_.refuse.reset();
  deploy_lab(lab_, facts_, factory());
  EXPECT_FALSE(fake_.journal_existed_at_preflight);
  EXPECT_EQ(std::filesystem::status(facts_.state_dir).permissions(), std::filesystem::perms::owner_all)
      << "the state dir is root-only";
  EXPECT_EQ(std::filesystem::status(lab_dir(facts_, lab_.name)).permissions(), std::filesystem::perms::owner_all);
  EXPECT_TRUE(destroy_lab(lab_.name, facts_, factory()).report.ok());
}

TEST_F(ExecutorTest, LabNamesThatAreNotNamesNeverBecomePaths) {
  // Issue #15: destroy --lab '' removed the whole state dir, --lab ../x a
  // directory outside it, and a lab named images the shared image store.
  deploy_lab(lab_, facts_, factory());
  std::filesystem::create_directories(facts_.state_dir + "/images/busybox");
  std::filesystem::create_directories(facts_.state_dir + "/../x");
  for (std::string bad : {"", "..", "../x", "images", "a/b", ".", "natgw/../natgw", "netlab"}) {
    SCOPED_TRACE(bad);
    try {
      destroy_lab(bad, facts_, factory());
      ADD_FAILURE() << "accepted";
    } catch (const LabConflict& e) {
      EXPECT_EQ(e.errnum(), EINVAL);
    }
    EXPECT_THROW(LabLock::acquire(facts_, bad, true), LabConflict);
  }
  EXPECT_TRUE(std::filesystem::exists(facts_.state_dir + "/images/busybox"));
  EXPECT_TRUE(std::filesystem::exists(facts_.state_dir + "/../x"));
  EXPECT_TRUE(std::filesystem::exists(journal_path(facts_, lab_.name)));
  EXPECT_EQ(list_labs(facts_), std::vector<std::string>{"natgw"}) << "images is not a lab";
  std::filesystem::remove_all(facts_.state_dir + "/../x");
  EXPECT_TRUE(destroy_lab(lab_.name, facts_, factory()).report.ok());
}

TEST_F(ExecutorTest, InjectedFailureHookFailsThatAction) {
  const Plan p = plan(lab_, facts_);
  ApplyOptions options;
  options.fail_at = 3;
  EXPECT_THROW(deploy_lab(lab_, facts_, factory(), options), DeployError);
  EXPECT_EQ(fake_.ran.size(), 2u);
}

}  // namespace
}  // namespace netlab::lab
