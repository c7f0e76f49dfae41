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
#include "util/remove_tree.hpp"
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
  try {
    remove_tree(dir);
  } catch (Error& e) {
    throw std::move(e.wrap("removing state directory " + dir));
  }
}

// mkdir -p: missing parents 0755, the state dir itself root-only (0700): the
// journals, the saved topologies and the nodes' directories below are no one
// else's business. An existing directory keeps its mode (it may be one the
// user named, like /tmp); each lab's directory is 0700 in any case.
void make_state_dir(const std::string& path) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    std::string part = path.substr(0, slash);
    bool last = slash == std::string::npos;
    if (::mkdir(part.c_str(), last ? 0700 : 0755) < 0 && errno != EEXIST) throw_errno("creating {}", part);
    if (last) break;
  }
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

void check_lab_name(const std::string& lab) {
  if (auto problem = topo::name_problem(topo::NameKind::kLab, lab); !problem.empty())
    throw LabConflict(EINVAL, "{}", problem);
}

std::string journal_path(const HostFacts& f, const std::string& lab) {
  return lab_dir(f, lab) + "/journal";
}
std::string snapshot_path(const HostFacts& f, const std::string& lab) {
  return lab_dir(f, lab) + "/lab.json";
}

LabLock LabLock::acquire(const HostFacts& facts, const std::string& lab, bool create_dir) {
  std::string dir = lab_dir(facts, lab);
  check_lab_name(lab);
  if (create_dir) {
    make_state_dir(facts.state_dir);
    make_dir(dir, 0700);
  }
  // The lock lives inside the lab dir so that destroy leaves no file behind; a
  // locker that wins the race against a destroy re-checks that its inode is
  // still the one at the path.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::string path = dir + "/lock";
    Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) throw_errno("opening lock of lab {} ({})", lab, path);
    // A lock held for up to a second more is let go of: a command killed a
    // moment ago leaves helpers that shared its descriptor table (a contained
    // node's namespace holder dies with it by PDEATHSIG, asynchronously), and
    // a destroy run right after the kill must not call the lab busy.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
      if (errno != EWOULDBLOCK) throw_errno("locking lab {} ({})", lab, path);
      if (std::chrono::steady_clock::now() >= deadline)
        throw LabConflict(EBUSY, "lab {} is being changed by another netlab command", lab);
      ::usleep(10'000);
    }
    struct stat held{}, now{};
    if (::fstat(fd.get(), &held) == 0 && ::stat(path.c_str(), &now) == 0 && held.st_ino == now.st_ino)
      return LabLock(std::move(fd));
    if (create_dir) make_dir(dir, 0700);
  }
  throw Error(EAGAIN, "locking lab {}: its state directory keeps disappearing", lab);
}

DeployResult deploy_lab(const topo::Lab& lab, const HostFacts& facts, const BackendFactory& make,
                        const ApplyOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  LabLock lock = LabLock::acquire(facts, lab.name, /*create_dir=*/true);
  std::string jpath = journal_path(facts, lab.name);
  if (::access(jpath.c_str(), F_OK) == 0)
    throw LabConflict(EEXIST,
                      "lab {} is already deployed: `netlab apply FILE` changes it to match FILE, "
                      "`netlab destroy --lab {}` removes it",
                      lab.name, lab.name);
  try {
    refuse_host_overlap(lab, facts);
  } catch (const LabConflict&) {
    remove_state_dir(lab_dir(facts, lab.name));  // made by the lock above; nothing else exists yet
    throw;
  }

  Plan p = plan(lab, facts);
  auto backend = make(&lab);
  try {
    auto t_pre = std::chrono::steady_clock::now();
    backend->preflight(p);
    log::debug("preflight: {:.1f} ms", seconds_since(t_pre) * 1000);
  } catch (Error& e) {
    remove_state_dir(lab_dir(facts, lab.name));
    throw;
  }
  Journal journal = Journal::create(jpath, lab.name);
  // One host's part of a multi-host lab: which host, so that this host's
  // netlab later knows its part (and the other hosts) from the saved file alone.
  if (!lab.part_host.empty()) write_file(part_host_path(facts, lab.name), lab.part_host + "\n", 0600);
  // exec, shell and inspect read the nodes' settings from this copy; destroy never does.
  if (!lab.file.empty()) {
    try {
      save_topology(facts, lab.name, read_file(lab.file));
      // Where it came from: relative bind sources in the copy resolve against that directory.
      write_file(lab_dir(facts, lab.name) + "/source", fs::absolute(lab.file).lexically_normal().string(), 0600);
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
  check_lab_name(lab);
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
    // Only names a lab can have: never the image store, a stray file or a
    // temporary directory (destroy --all acts on every name listed here).
    if (!e.is_directory() || !topo::name_problem(topo::NameKind::kLab, e.path().filename().string()).empty()) continue;
    out.push_back(e.path().filename());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace netlab::lab
