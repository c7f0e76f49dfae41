// FakeBackend: records every call and fails on cue — the seam that lets
// plan/apply/rollback be tested without root (ninja's FakeCommandRunner).
#pragma once

#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "lab/backend.hpp"

namespace netlab::lab {

class FakeBackend : public Backend {
 public:
  struct Crash {};  // thrown to simulate a kill -9: escapes the executor without rollback

  std::vector<std::string> ran;     // describe() of each action run, in order
  std::vector<std::string> undone;  // describe() of each undo, in order
  std::vector<std::string> changed; // describe() of each change (apply), in order
  std::optional<size_t> fail_at;    // 1-based count of actions run: this one fails
  std::optional<size_t> crash_at;   // 1-based: this one "crashes"
  int fail_errno = EEXIST;
  std::optional<std::string> fail_undo;  // describe() of an undo that fails with EBUSY
  size_t count = 0;
  std::optional<Error> refuse;  // preflight throws this
  bool journal_existed_at_preflight = false;
  std::string journal_path;     // checked at preflight when set

  void preflight(const Plan&) override {
    if (!journal_path.empty()) journal_existed_at_preflight = ::access(journal_path.c_str(), F_OK) == 0;
    if (refuse) throw *refuse;
  }

  void prepare(Action& a) override {
    if (auto* s = std::get_if<SetHostSysctl>(&a)) {
      s->previous = "0";
      s->has_previous = true;
    }
  }

  void run(std::span<Action> batch) override {
    for (size_t i = 0; i < batch.size(); ++i) {
      ++count;
      if (crash_at && count == *crash_at) throw Crash{};
      if (fail_at && count == *fail_at)
        throw ActionError(i, Error(fail_errno, "creating {}", describe(batch[i])));
      if (auto* s = std::get_if<StartNode>(&batch[i])) {
        s->pid = 1000 + s->node_index;
        s->start_time = 42;
      }
      ran.push_back(describe(batch[i]));
    }
  }

  void change(const Change& c) override { changed.push_back(describe(c)); }

  void undo(const Undo& u) override {
    if (fail_undo && describe(u) == *fail_undo) throw Error(EBUSY, "removing {}", describe(u));
    undone.push_back(describe(u));
  }
};

}  // namespace netlab::lab
