#include "lab/journal.hpp"

#include <map>

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "util/error.hpp"
#include "util/strings.hpp"

namespace netlab::lab {

Journal Journal::create(const std::string& path, const std::string& lab) {
  // The header is written to a temporary file and renamed into place, so a
  // journal never exists without its header (a SIGKILL between creating the
  // file and writing it left an empty journal that blocked the lab for good).
  // RENAME_NOREPLACE keeps create's EEXIST for a lab that has one.
  std::string tmp = path + ".new";
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600));
  if (!fd) throw_errno("creating journal {}", tmp);
  Journal j(path, std::move(fd), 0);
  nlohmann::json header = {{"netlab_journal", kJournalVersion}, {"lab", lab}};
  j.write_lines(header.dump() + "\n");
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) < 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    throw Error(saved, "creating journal {}", path);
  }
  return j;
}

Journal Journal::open_append(const std::string& path, uint64_t last_seq) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (!fd) throw_errno("opening journal {}", path);
  return Journal(path, std::move(fd), last_seq);
}

void Journal::write_lines(const std::string& text) {
  // O_APPEND + a single write keeps each batch contiguous; a crash mid-write
  // leaves at most one torn line at the end, which load_journal() drops.
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd_.get(), text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("writing journal {}", path_);
    }
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_.get()) < 0) throw_errno("syncing journal {}", path_);
}

void Journal::append(const std::vector<const Action*>& actions) {
  if (actions.empty()) return;
  std::string text;
  for (const Action* a : actions) {
    nlohmann::json j = *a;
    j["seq"] = ++seq_;
    text += j.dump();
    text += '\n';
  }
  write_lines(text);
}

void Journal::append(const Action& action) { append(std::vector<const Action*>{&action}); }

void Journal::append_node_started(const std::vector<const StartNode*>& started) {
  if (started.empty()) return;
  std::string text;
  for (const StartNode* s : started) {
    nlohmann::json j = {{"seq", ++seq_},
                        {"op", "node_started"},
                        {"node", s->node},
                        {"pid", s->pid},
                        {"start_time", s->start_time}};
    text += j.dump();
    text += '\n';
  }
  write_lines(text);
}

void Journal::append_node_started(const StartNode& started) {
  append_node_started(std::vector<const StartNode*>{&started});
}

namespace {

// The op of a journal line as Journal writes it ({"...","op":"create_veth",...}),
// without parsing the line; "" when there is none.
std::string_view op_of_line(std::string_view line) {
  constexpr std::string_view kKey = "\"op\":\"";
  size_t at = line.find(kKey);
  if (at == std::string_view::npos) return {};
  size_t begin = at + kKey.size(), end = line.find('"', begin);
  return end == std::string_view::npos ? std::string_view{} : line.substr(begin, end - begin);
}

}  // namespace

JournalContents load_journal(const std::string& path, const std::function<bool(std::string_view op)>& keep) {
  std::string text = read_file(path);
  JournalContents out;
  size_t pos = 0;
  size_t line_no = 0;
  size_t good_end = 0;  // byte offset just past the last good line
  std::map<std::string, size_t> latest_start;  // node -> its latest start_node, which a node_started fact completes
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    bool complete = nl != std::string::npos;
    std::string_view line(text.data() + pos, (complete ? nl : text.size()) - pos);
    ++line_no;
    // A record the caller does not need is not parsed; the header and the last line always are.
    if (keep && line_no > 1 && complete && nl + 1 < text.size()) {
      std::string_view op = op_of_line(line);
      if (!op.empty() && !keep(op)) {
        good_end = pos = nl + 1;
        continue;
      }
    }
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    bool last = !complete || nl + 1 >= text.size();
    if (j.is_discarded() || !complete) {
      if (last) {  // torn tail: the crash interrupted this write
        out.dropped_torn_tail = true;
        break;
      }
      throw Error(0, "journal {}:{}: corrupt record", path, line_no);
    }
    if (line_no == 1) {
      if (!j.contains("netlab_journal")) throw Error(0, "journal {}: missing header", path);
      int version = j["netlab_journal"].get<int>();
      if (version != kJournalVersion)
        throw Error(0, "journal {}: version {} is not supported (this netlab reads version {})", path,
                    version, kJournalVersion);
      out.lab = j.value("lab", "");
    } else {
      out.last_seq = j.value("seq", out.last_seq);
      if (j.value("op", "") == "node_started") {
        if (auto it = latest_start.find(j.value("node", "")); it != latest_start.end()) {
          auto& s = std::get<StartNode>(out.actions[it->second]);
          s.pid = j.value("pid", 0);
          s.start_time = j.value("start_time", uint64_t{0});
        }
      } else {
        out.actions.push_back(action_from_json(j));
        if (auto* s = std::get_if<StartNode>(&out.actions.back())) latest_start[s->node] = out.actions.size() - 1;
      }
    }
    good_end = complete ? nl + 1 : text.size();
    pos = good_end;
  }
  // Empty, or a header torn by a crash (journals written before the header was
  // renamed into place): no intent was ever written, so nothing was built.
  if (line_no == 0 || (line_no == 1 && out.dropped_torn_tail)) {
    out.lab.clear();
    out.actions.clear();
    out.dropped_torn_tail = text.size() > 0;
    return out;
  }
  if (out.dropped_torn_tail) {
    if (::truncate(path.c_str(), static_cast<off_t>(good_end)) < 0)
      throw_errno("truncating torn journal {}", path);
  }
  return out;
}

}  // namespace netlab::lab
