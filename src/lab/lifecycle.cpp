#include "lab/lifecycle.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include "util/log.hpp"

#include "lab/state.hpp"
#include "topology/parse.hpp"
#include "util/strings.hpp"

namespace fs = std::filesystem;

namespace netlab::lab {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void make_dir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST) throw_errno("creating {}", path);
}

void remove_state_dir(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) throw Error(ec.value(), "removing state directory {}", dir);
}

bool overlaps(const topo::Prefix& a, const topo::Prefix& b) {
  if (a.addr.is_v6() != b.addr.is_v6()) return false;
  int len = std::min(a.len, b.len);
  return topo::Prefix{a.addr, len}.network() == topo::Prefix{b.addr, len}.network();
}

// Two labs' host-attached bridges on one host subnet would both route it from the
// host, and each lab's traffic would reach the other's bridge: refuse the second.
void refuse_host_overlap(const topo::Lab& lab, const HostFacts& facts) {
  std::vector<std::pair<const topo::Bridge*, const topo::Prefix*>> ours;
  for (const auto& b : lab.bridges)
    if (b.host)
      for (const auto& p : b.host->addresses) ours.push_back({&b, &p});
  if (ours.empty()) return;
  for (const auto& other : list_labs(facts)) {
    if (other == lab.name) continue;
    Diagnostics diags;
    auto theirs = topo::load_file(saved_topology_path(facts, other), diags);
    if (!theirs) continue;  // deployed without a saved copy, or unreadable: nothing to compare
    for (const auto& tb : theirs->bridges) {
      if (!tb.host) continue;
      for (const auto& tp : tb.host->addresses)
        for (const auto& [b, p] : ours)
          if (overlaps(*p, tp))
            throw LabConflict(EADDRINUSE,
                              "bridge {} of lab {} would put {} on the host, which overlaps {} of bridge {} "
                              "of lab {} (deployed); give it another subnet or destroy lab {}",
                              b->name, lab.name, p->str(), tp.str(), tb.name, other, other);
    }
  }
}

}  // namespace

std::string journal_path(const HostFacts& f, const std::string& lab) {
  return lab_dir(f, lab) + "/journal";
}
std::string snapshot_path(const HostFacts& f, const std::string& lab) {
  return lab_dir(f, lab) + "/lab.json";
}

LabLock LabLock::acquire(const HostFacts& facts, const std::string& lab, bool create_dir) {
  std::string dir = lab_dir(facts, lab);
  if (create_dir) {
    make_dir(facts.state_dir, 0755);
    // Searchable but not listable by others: a user-namespace node's root (an
    // unprivileged host uid) must reach its own overlay directories below.
    make_dir(dir, 0711);
  }
  // The lock lives inside the lab dir so that destroy leaves no file behind; a
  // locker that wins the race against a destroy re-checks that its inode is
  // still the one at the path.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::string path = dir + "/lock";
    Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) throw_errno("opening lock of lab {} ({})", lab, path);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
      if (errno == EWOULDBLOCK)
        throw LabConflict(EBUSY, "lab {} is being changed by another netlab command", lab);
      throw_errno("locking lab {} ({})", lab, path);
    }
    struct stat held{}, now{};
    if (::fstat(fd.get(), &held) == 0 && ::stat(path.c_str(), &now) == 0 && held.st_ino == now.st_ino)
      return LabLock(std::move(fd));
    if (create_dir) make_dir(dir, 0711);
  }
  throw Error(EAGAIN, "locking lab {}: its state directory keeps disappearing", lab);
}

DeployResult deploy_lab(const topo::Lab& lab, const HostFacts& facts, const BackendFactory& make,
                        const ApplyOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  LabLock lock = LabLock::acquire(facts, lab.name, /*create_dir=*/true);
  std::string jpath = journal_path(facts, lab.name);
  if (::access(jpath.c_str(), F_OK) == 0)
    throw LabConflict(EEXIST, "lab {} is already deployed (netlab destroy --lab {} first)", lab.name,
                lab.name);
  try {
    refuse_host_overlap(lab, facts);
  } catch (const LabConflict&) {
    remove_state_dir(lab_dir(facts, lab.name));  // made by the lock above; nothing else exists yet
    throw;
  }

  Plan p = plan(lab, facts);
  auto backend = make(&lab);
  Journal journal = Journal::create(jpath, lab.name);
  // exec, shell and inspect read the nodes' settings from this copy; destroy never does.
  if (!lab.file.empty()) {
    try {
      write_file(lab_dir(facts, lab.name) + "/topology.toml", read_file(lab.file), 0600);
    } catch (const Error& e) {
      log::debug("not saving the topology: {}", e.what());
    }
  }
  log::debug("deploying lab {}: {} nodes, {} links, {} actions", lab.name, lab.nodes.size(),
               lab.links.size(), p.actions.size());
  try {
    apply(p, *backend, journal, options);
  } catch (const DeployError& e) {
    if (e.rollback().ok()) remove_state_dir(lab_dir(facts, lab.name));
    throw;
  }
  DeployResult r;
  r.actions = p.actions.size();
  r.seconds = seconds_since(t0);
  r.kernel_requests = backend->requests_sent();
  log::debug("lab {} is up ({} actions in {:.2f} s)", lab.name, r.actions, r.seconds);
  return r;
}

DestroyResult destroy_lab(const std::string& lab, const HostFacts& facts, const BackendFactory& make) {
  auto t0 = std::chrono::steady_clock::now();
  DestroyResult r;
  std::string dir = lab_dir(facts, lab);
  if (::access(dir.c_str(), F_OK) != 0) {
    r.nothing_to_do = true;
    return r;
  }
  LabLock lock = LabLock::acquire(facts, lab, /*create_dir=*/false);
  std::vector<Action> actions;
  try {
    actions = load_journal(journal_path(facts, lab)).actions;
  } catch (const Error& e) {
    // No journal: deploy died before writing its first intent; nothing exists.
    if (e.errnum() != ENOENT) throw;
  }
  auto backend = make(nullptr);
  r.report = destroy_actions(actions, *backend);
  if (actions.empty()) r.nothing_to_do = true;
  if (r.report.ok()) remove_state_dir(dir);
  r.seconds = seconds_since(t0);
  return r;
}

std::vector<std::string> list_labs(const HostFacts& facts) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(facts.state_dir, ec)) {
    if (!e.is_directory() || e.path().filename() == "images") continue;
    out.push_back(e.path().filename());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace netlab::lab
