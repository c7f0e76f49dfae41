// The journal: an append-only intent log per lab (<state-dir>/<lab>/journal),
// the owner of every lab-lifetime object. Before a batch of actions runs, their
// intents are appended in one write() and one fdatasync(), so the journal is
// always a superset of what exists; destroy reads only this file.
//
// Format: JSON lines. Line 1 is the header {"netlab_journal":1,"lab":NAME,...};
// every other line is an action record {"seq":N,"op":...} (action.hpp) or a
// fact record {"seq":N,"op":"node_started","node":..,"pid":..,"start_time":..}
// that completes an earlier start_node intent. A torn final line (a crash in
// the middle of a write) is dropped and truncated away, like ninja's logs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lab/action.hpp"
#include "util/fd.hpp"

namespace netlab::lab {

inline constexpr int kJournalVersion = 1;

struct JournalContents {
  std::string lab;
  std::vector<Action> actions;  // in journal order, start_node completed by its facts
  uint64_t last_seq = 0;
  bool dropped_torn_tail = false;
};

class Journal {
 public:
  /// Creates the journal (O_EXCL: EEXIST if the lab already has one) and writes the header.
  static Journal create(const std::string& path, const std::string& lab);
  /// Opens an existing journal for appending (after load() repaired its tail).
  static Journal open_append(const std::string& path, uint64_t last_seq);

  /// Appends the intents of one batch: one write(), one fdatasync().
  void append(const std::vector<const Action*>& actions);
  void append(const Action& action);
  /// Records that a start_node intent became a running node.
  void append_node_started(const StartNode& started);
  void append_node_started(const std::vector<const StartNode*>& started);

  const std::string& path() const { return path_; }

 private:
  Journal(std::string path, Fd fd, uint64_t seq) : path_(std::move(path)), fd_(std::move(fd)), seq_(seq) {}
  void write_lines(const std::string& text);

  std::string path_;
  Fd fd_;
  uint64_t seq_ = 0;
};

/// Reads and repairs a journal: a torn final line is dropped and truncated from
/// the file. Throws Error(ENOENT) if absent, Error(0, ...) for an unknown version
/// or a corrupt line that is not the last.
/// `keep`, if given, names the ops the caller needs: records of other ops are
/// skipped unparsed (the header and the last record are always read).
JournalContents load_journal(const std::string& path, const std::function<bool(std::string_view op)>& keep = {});

}  // namespace netlab::lab
