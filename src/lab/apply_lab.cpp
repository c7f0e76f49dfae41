#include "lab/apply_lab.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "cluster/part.hpp"
#include "lab/journal.hpp"
#include "lab/state.hpp"
#include "topology/parse.hpp"
#include "util/overloaded.hpp"
#include "util/strings.hpp"

namespace netlab::lab {

namespace {

constexpr int kApplyLogVersion = 1;

std::string next_topology_path(const HostFacts& f, const std::string& lab) {
  return lab_dir(f, lab) + "/topology.next.toml";
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string source_path(const HostFacts& f, const std::string& lab) { return lab_dir(f, lab) + "/source"; }

std::string absolute(const std::string& file) { return std::filesystem::absolute(file).lexically_normal().string(); }

// True when `text`, read from `file`, is the topology the lab runs, byte for
// byte and from the same place (relative bind sources resolve alike): the
// diff is empty without reading the journal or planning anything.
bool runs_already(const HostFacts& f, const std::string& lab, const std::string& file, const std::string& text) {
  try {
    return read_file(source_path(f, lab)) == absolute(file) && read_file(saved_topology_path(f, lab)) == text;
  } catch (const Error&) {
    return false;
  }
}

// "Already so" answers of a revert: it may run for a step that never happened.
bool already_so(int errnum) {
  return errnum == EEXIST || errnum == ENOENT || errnum == ENODEV || errnum == ESRCH || errnum == EADDRNOTAVAIL;
}

struct Running {
  topo::Lab lab;
  JournalContents journal;
};

Running read_running(const std::string& name, const HostFacts& facts) {
  Running r;
  try {
    // The diff needs the interface indexes, the nodes' inits and the host's identities only.
    r.journal = load_journal(journal_path(facts, name), [](std::string_view op) {
      return op == "create_node_netns" || op == "create_bridge" || op == "create_veth" || op == "create_vxlan" ||
             op == "start_node" || op == "node_started" || op == "set_host_sysctl";
    });
  } catch (const Error& e) {
    if (e.errnum() == ENOENT)
      throw LabConflict(ENOENT, "lab {} is not deployed (netlab deploy FILE builds it)", name);
    throw;
  }
  Diagnostics diags;
  // Named as the file it came from, so relative bind sources resolve as they did then.
  std::string source = saved_topology_path(facts, name);
  try {
    source = read_file(source_path(facts, name));
  } catch (const Error&) {
  }
  auto saved = topo::load_string(read_file(saved_topology_path(facts, name)), source, diags);
  if (!saved)
    throw Error(ENOENT, "lab {}: the topology it runs ({}) cannot be read back: {}", name,
                saved_topology_path(facts, name), diags.render());
  r.lab = std::move(*saved);
  // One host's part of a multi-host lab: the saved file is the whole lab, the
  // journal built this host's part of it (as deploy --host computed it).
  if (std::string part = read_part_host(facts, name); !part.empty() && !r.lab.hosts.empty()) {
    int h = r.lab.find_host(part);
    if (h < 0) throw Error(ENOENT, "lab {}: the topology it runs has no host {} (this host's part)", name, part);
    r.lab = cluster::host_part(r.lab, h);
  }
  return r;
}

// The apply log: a header, then one record per step, written before the step.
class ApplyLog {
 public:
  // `source`: the file applied, which becomes the lab's source at the commit.
  ApplyLog(const std::string& path, const std::string& lab, const std::string& source) : path_(path) {
    fd_ = Fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600));
    if (!fd_) throw_errno("creating apply log {}", path);
    write(nlohmann::json{{"netlab_apply", kApplyLogVersion}, {"lab", lab}, {"source", source}});
  }
  void step(size_t i, const Step& s) {
    nlohmann::json revert = nlohmann::json::array();
    for (const auto& op : s.revert) revert.push_back(op_to_json(op));
    write(nlohmann::json{{"step", i}, {"revert", revert}});
  }
  void committed() { write(nlohmann::json{{"committed", true}}); }

 private:
  void write(const nlohmann::json& j) {
    std::string line = j.dump() + "\n";
    if (::write(fd_.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      throw_errno("writing apply log {}", path_);
    if (::fdatasync(fd_.get()) < 0) throw_errno("syncing apply log {}", path_);
  }
  std::string path_;
  Fd fd_;
};

// Runs ops, journaling every action before it runs (destroy then covers what it makes).
class Runner {
 public:
  Runner(Journal& journal) : journal_(journal) {}

  void run(Op& op, Backend& backend) {
    std::visit(Overloaded{
                   [&](Action& a) {
                     backend.prepare(a);
                     journal_.append(a);
                     backend.run(std::span<Action>(&a, 1));
                     if (auto* s = std::get_if<StartNode>(&a); s && s->pid) journal_.append_node_started(*s);
                   },
                   [&](Undo& u) { backend.undo(u); },
                   [&](Change& c) { backend.change(c); },
               },
               op);
  }

  // Runs the reverts of steps [0, upto] latest first; actions on `old`, the rest on `cur`.
  void revert(std::vector<Step>& steps, size_t upto, Backend& cur, const std::function<Backend&()>& old,
              DestroyReport& report) {
    for (size_t j = upto + 1; j-- > 0;) {
      for (auto& op : steps[j].revert) {
        try {
          run(op, std::holds_alternative<Action>(op) ? old() : cur);
          ++report.removed;
        } catch (const Error& e) {
          if (already_so(e.errnum())) continue;
          report.failures.push_back(fmt::format("restoring {}: {}", describe_op(op), e.what()));
          spdlog::warn("{}", report.failures.back());
        }
      }
    }
  }

 private:
  Journal& journal_;
};

// Finishes or rolls back an apply that was killed. Returns true if there was one.
bool recover(const std::string& name, const HostFacts& facts, const BackendFactory& make) {
  std::string log_path = apply_log_path(facts, name);
  if (!exists(log_path)) return false;
  std::string text = read_file(log_path);
  std::vector<Step> steps;
  bool committed = false;
  std::string source;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;  // torn tail: that step never ran
    auto j = nlohmann::json::parse(text.substr(pos, nl - pos), nullptr, false);
    pos = nl + 1;
    if (j.is_discarded()) break;
    if (j.contains("committed")) committed = true;
    if (j.contains("source") && j["source"].is_string()) source = j["source"].get<std::string>();
    if (!j.contains("revert")) continue;
    Step s{Change(DelLink{}), {}};
    for (const auto& op : j["revert"]) s.revert.push_back(op_from_json(op));
    steps.push_back(std::move(s));
  }
  std::string next = next_topology_path(facts, name);
  if (committed) {
    spdlog::info("lab {}: finishing the commit of an interrupted apply", name);
    if (exists(next) && ::rename(next.c_str(), saved_topology_path(facts, name).c_str()) < 0)
      throw_errno("committing {}", next);
    if (!source.empty()) write_file(source_path(facts, name), source, 0600);
  } else {
    spdlog::warn("lab {}: rolling back an interrupted apply ({} steps begun)", name, steps.size());
    Running running = read_running(name, facts);
    Journal journal = Journal::open_append(journal_path(facts, name), running.journal.last_seq);
    auto backend = make(&running.lab);
    DestroyReport report;
    Runner runner(journal);
    if (!steps.empty()) runner.revert(steps, steps.size() - 1, *backend, [&]() -> Backend& { return *backend; }, report);
    if (!report.ok())
      throw Error(EIO, "lab {}: rolling back an interrupted apply left: {}", name, join(report.failures, "; "));
    ::unlink(next.c_str());
  }
  if (::unlink(log_path.c_str()) < 0 && errno != ENOENT) throw_errno("removing {}", log_path);
  return true;
}

// The reverts the diff cannot know, filled in just before the step is logged:
// a sysctl comes back to the value it has now, and a host interface is deleted
// by the index prepare() picked for it.
void complete_revert(Step& step, Backend& backend) {
  if (!step.revert.empty()) return;
  if (auto* c = std::get_if<Change>(&step.forward)) {
    if (auto* s = std::get_if<SetNodeSysctl>(c)) {
      SetNodeSysctl before = *s;
      before.value = backend.node_sysctl(*s);
      step.revert.push_back(Change(std::move(before)));
    }
  } else if (auto* a = std::get_if<Action>(&step.forward)) {
    if (auto* s = std::get_if<SetHostSysctl>(a)) {
      backend.prepare(*a);
      if (s->has_previous) step.revert.push_back(Undo(RestoreSysctl{s->key, s->previous}));
    } else if (auto* v = std::get_if<CreateVeth>(a); v && v->b_ns == kHostNs) {
      backend.prepare(*a);
      step.revert.push_back(Undo(DeleteLink{kHostNs, v->b_name, v->b_alias, v->b_ifindex}));
    }
  }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string topology_text(const topo::Lab& target) {
  if (target.file.empty()) throw Error(EINVAL, "apply: lab {} has no topology file to save", target.name);
  return read_file(target.file);
}

}  // namespace

std::string apply_log_path(const HostFacts& f, const std::string& lab) { return lab_dir(f, lab) + "/apply.log"; }

ChangePlan plan_apply(const topo::Lab& target, const HostFacts& facts) {
  Running running = read_running(target.name, facts);
  return diff_labs(running.lab, running.journal.actions, target, facts);
}

ApplyResult apply_lab(const topo::Lab& target, const HostFacts& facts, const BackendFactory& make,
                      const ApplyOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  if (!exists(lab_dir(facts, target.name)))
    throw LabConflict(ENOENT, "lab {} is not deployed (netlab deploy FILE builds it)", target.name);
  LabLock lock = LabLock::acquire(facts, target.name, /*create_dir=*/false);
  ApplyResult result;
  result.recovered = recover(target.name, facts, make);
  // Wall and CPU time of each part (a loaded machine stretches the first only).
  auto lap = [t = std::chrono::steady_clock::now(), c = std::clock()](const char* what) mutable {
    auto now = std::chrono::steady_clock::now();
    auto cpu = std::clock();
    spdlog::debug("apply: {} in {:.1f} ms ({:.1f} ms CPU)", what,
                  std::chrono::duration<double, std::milli>(now - t).count(),
                  1000.0 * static_cast<double>(cpu - c) / CLOCKS_PER_SEC);
    t = now;
    c = cpu;
  };
  std::string text = options.topology_text ? *options.topology_text : topology_text(target);
  if (!result.recovered && runs_already(facts, target.name, target.file, text)) {
    lap("comparing the file with the topology the lab runs (the same)");
    result.seconds = seconds_since(t0);
    return result;
  }
  Running running = read_running(target.name, facts);
  lap("reading the running lab (journal, saved topology)");
  result.plan = diff_labs(running.lab, running.journal.actions, target, facts);
  lap("diffing");
  auto& steps = result.plan.steps;
  if (steps.empty()) {
    // Nothing for the kernel; the checks (or comments) may still differ.
    save_topology(facts, target.name, text);
    write_file(source_path(facts, target.name), absolute(target.file), 0600);
    result.seconds = seconds_since(t0);
    return result;
  }
  spdlog::info("applying to lab {}: {} steps", target.name, steps.size());

  Journal journal = Journal::open_append(journal_path(facts, target.name), running.journal.last_seq);
  auto backend = make(&target);
  std::unique_ptr<Backend> old_backend;
  auto old = [&]() -> Backend& {
    if (!old_backend) old_backend = make(&running.lab);
    return *old_backend;
  };
  std::string log_path = apply_log_path(facts, target.name);
  std::string next = next_topology_path(facts, target.name);
  write_file(next, text, 0600);
  ApplyLog log(log_path, target.name, absolute(target.file));
  Runner runner(journal);
  for (size_t i = 0; i < steps.size(); ++i) {
    try {
      complete_revert(steps[i], *backend);
      log.step(i, steps[i]);
      if (options.crash_at && *options.crash_at == i + 1) {
        if (auto* a = std::get_if<Action>(&steps[i].forward)) journal.append(*a);  // its intent, as deploy's
        spdlog::warn("NETLAB_CRASH_AT={}: exiting without cleanup", i + 1);
        ::_exit(137);
      }
      if (options.fail_at && *options.fail_at == i + 1)
        throw Error(EIO, "{}: injected failure (NETLAB_FAIL_AT={})", describe_op(steps[i].forward), i + 1);
      runner.run(steps[i].forward, *backend);
    } catch (Error& e) {
      e.wrap("apply");
      spdlog::error("{}; rolling back", e.what());
      DestroyReport report;
      runner.revert(steps, i, *backend, old, report);
      if (report.ok()) {
        backend->discard_created(old_backend.get());
        ::unlink(log_path.c_str());
        ::unlink(next.c_str());
      }
      throw DeployError(std::move(e), std::move(report));
    }
    if (options.progress) options.progress("apply", i + 1, steps.size());
  }
  lap("running the steps");
  log.committed();
  if (::rename(next.c_str(), saved_topology_path(facts, target.name).c_str()) < 0)
    throw_errno("committing {}", next);
  write_file(source_path(facts, target.name), absolute(target.file), 0600);
  ::unlink(log_path.c_str());
  result.kernel_requests = backend->requests_sent() + (old_backend ? old_backend->requests_sent() : 0);
  result.seconds = seconds_since(t0);
  spdlog::info("lab {} applied ({} steps in {:.3f} s)", target.name, steps.size(), result.seconds);
  return result;
}

}  // namespace netlab::lab
