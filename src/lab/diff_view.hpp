// Internal to lab/: the views diff.cpp compares. A plan indexed by identity
// (View) and the interface indexes its journal recorded (IfMap), and the
// rewrites that give a plan the running lab's indexes and fabric names.
// Pure: no kernel, no files. Not part of the public API.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "lab/plan.hpp"

namespace netlab::lab::detail {

using Key = std::pair<std::string, std::string>;  // (namespace, interface name)

/// Interface indexes by (namespace, interface name), and fresh ones to give out.
struct IfMap {
  std::map<Key, uint32_t> idx;

  uint32_t find(const std::string& ns, const std::string& name, uint32_t fallback) const {
    auto it = idx.find({ns, name});
    return it == idx.end() ? fallback : it->second;
  }
  uint32_t allocate(const std::string& ns, bool bridge) {
    uint32_t base = ns == kFabricNs && !bridge ? kFabricVethIfindexBase : kNodeIfindexBase;
    uint32_t limit = ns == kFabricNs && bridge ? kFabricVethIfindexBase : UINT32_MAX;
    uint32_t top = base - 1;
    for (auto it = idx.lower_bound({ns, ""}); it != idx.end() && it->first.first == ns; ++it)
      if (it->second >= base && it->second < limit) top = std::max(top, it->second);
    return top + 1;
  }
  void erase_ns(const std::string& ns) {
    for (auto it = idx.lower_bound({ns, ""}); it != idx.end() && it->first.first == ns;) it = idx.erase(it);
  }
};

/// The interface indexes the journal recorded, per (namespace, interface).
IfMap running_ifindexes(const std::vector<Action>& journal);

/// A link's label with its two endpoints in a fixed order: its identity.
std::string link_key(const std::string& label);

/// A veth that attaches a bridge to the host.
bool host_veth(const CreateVeth& v);

// Everything of a plan, indexed by identity. Pointers into the plan's actions.
struct View {
  std::map<std::string, CreateVeth*> veths;  // by link key; host-attachment veths excluded
  std::map<std::string, CreateBridge*> bridges;
  std::map<Key, SetLink*> setlinks;  // far ends of veths
  std::map<std::string, SetLink*> lo;
  std::map<Key, std::vector<AddAddress*>> addrs;
  std::map<std::string, std::vector<AddRoute*>> routes;
  std::map<Key, AddQdisc*> qdiscs;
  std::map<std::string, ApplyNft*> nft;
  std::map<std::string, CreateNodeNetns*> netns;
  std::map<std::string, CreateCgroup*> cgroup;
  std::map<std::string, PrepareRootfs*> rootfs;
  std::map<std::string, StartNode*> start;
  std::map<std::string, PinNodeNetns*> pin;
  // What the lab does in the host's namespace: bridges attached to it (by the
  // veth's label, "lan <-> host:nlt0"), host NAT and the sysctl it needs.
  struct HostAttachment {
    CreateVeth* veth = nullptr;
    SetLink* fabric_end = nullptr;
    SetLink* host_end = nullptr;
    std::vector<AddAddress*> addrs;
  };
  std::map<std::string, HostAttachment> attachments;
  ApplyNft* host_nft = nullptr;
  SetHostSysctl* host_sysctl = nullptr;
  std::vector<std::string> host_other;  // anything else there, as text (apply refuses to change it)
  std::map<Key, CreateVxlan*> vxlans;  // multi-host: a cross-host link's device in its node
};

/// Indexes `p` (the view points into its actions).
View view_of(Plan& p);

/// Replaces every interface index of a plan's actions by the one in `m` (when it has one).
void rewrite_refs(Plan& p, const IfMap& m);

/// Renames the fabric ends of `p` (target name -> running name).
void rename_fabric(Plan& p, const std::map<std::string, std::string>& rename);

}  // namespace netlab::lab::detail
