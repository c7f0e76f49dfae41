#include "lab/apply.hpp"

#include <unistd.h>

#include <cstdio>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include "util/log.hpp"

namespace netlab::lab {

namespace {

// netlab's resident memory now, for the debug log of each phase.
long resident_kib() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

}  // namespace

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::kNamespaces: return "namespaces";
    case Phase::kLinks: return "links";
    case Phase::kNetConfig: return "addresses and routes";
    case Phase::kNft: return "nftables";
    case Phase::kHost: return "host";
    case Phase::kNodes: return "nodes";
    case Phase::kPins: return "netns pins";
  }
  return "?";
}

void apply_options_from_env(ApplyOptions& options) {
  auto read = [](const char* name) -> std::optional<size_t> {
    const char* v = std::getenv(name);
    if (!v || !*v) return std::nullopt;
    return static_cast<size_t>(std::strtoull(v, nullptr, 10));
  };
  if (auto v = read("NETLAB_FAIL_AT")) options.fail_at = v;
  if (auto v = read("NETLAB_CRASH_AT")) options.crash_at = v;
}

namespace {

[[noreturn]] void rollback_and_throw(Error cause, Journal& journal, Backend& backend) {
  log::debug("deploy failed: {}; rolling back", cause.what());
  DestroyReport report;
  try {
    // The same path as destroy after a crash: read back what was journaled.
    JournalContents contents = load_journal(journal.path());
    report = destroy_actions(contents.actions, backend);
  } catch (const Error& e) {
    report.failures.push_back(fmt::format("reading journal for rollback: {}", e.what()));
  }
  throw DeployError(std::move(cause), std::move(report));
}

void check_cancel(const ApplyOptions& options, Journal& journal, Backend& backend) {
  if (!options.cancel) return;
  if (int sig = options.cancel->load())
    rollback_and_throw(Error(EINTR, "deploy: interrupted by signal {}", sig), journal, backend);
}

}  // namespace

void apply(Plan& plan, Backend& backend, Journal& journal, const ApplyOptions& options) {
  auto& actions = plan.actions;
  size_t begin = 0;
  while (begin < actions.size()) {
    check_cancel(options, journal, backend);
    Phase phase = phase_of(actions[begin]);
    size_t end = begin + 1;
    while (end < actions.size() && phase_of(actions[end]) == phase) ++end;
    std::span<Action> batch(actions.data() + begin, end - begin);

    std::vector<const Action*> intents;
    try {
      for (auto& a : batch) {
        backend.prepare(a);
        intents.push_back(&a);
      }
      journal.append(intents);
    } catch (Error& e) {
      rollback_and_throw(std::move(e.wrap("deploy")), journal, backend);
    }

    auto phase_start = std::chrono::steady_clock::now();
    try {
      if (options.crash_at && *options.crash_at > begin && *options.crash_at <= end) {
        // Die like a kill -9 just before action k: its intent is journaled, the
        // actions before it in its batch ran, nothing is cleaned up.
        backend.run(batch.first(*options.crash_at - begin - 1));
        log::warn("NETLAB_CRASH_AT={}: exiting without cleanup", *options.crash_at);
        ::_exit(137);
      }
      if (options.fail_at && *options.fail_at > begin && *options.fail_at <= end) {
        size_t k = *options.fail_at - begin - 1;
        backend.run(batch.first(k));
        throw ActionError(k, Error(EIO, "{}: injected failure (NETLAB_FAIL_AT={})",
                                   describe(batch[k]), *options.fail_at));
      }
      if (options.progress)
        backend.on_batch_progress = [&](size_t done) { options.progress(phase_name(phase), begin + done, actions.size()); };
      backend.run(batch);
      backend.on_batch_progress = nullptr;
    } catch (ActionError& e) {
      backend.on_batch_progress = nullptr;
      e.wrap("deploy");
      rollback_and_throw(std::move(e), journal, backend);
    } catch (Error& e) {
      e.wrap("deploy");
      rollback_and_throw(std::move(e), journal, backend);
    }

    std::vector<const StartNode*> started;
    for (auto& a : batch)
      if (auto* s = std::get_if<StartNode>(&a); s && s->pid) started.push_back(s);
    try {
      journal.append_node_started(started);
    } catch (Error& e) {
      rollback_and_throw(std::move(e.wrap("deploy")), journal, backend);
    }
    log::debug("phase {}: {} actions in {:.1f} ms, {} KiB resident", phase_name(phase), batch.size(),
                  std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - phase_start).count(),
                  resident_kib());
    if (options.progress) options.progress(phase_name(phase), end, actions.size());
    begin = end;
  }
  check_cancel(options, journal, backend);
}

}  // namespace netlab::lab
