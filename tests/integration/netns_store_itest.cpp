// NetnsStore: namespaces held without a descriptor each, reopened by name from
// any thread; the holds are invisible in netlab's own mount table (node clones
// would copy them) and vanish with the store, freeing the namespaces.
#include <fstream>
#include <sstream>
#include <thread>

#include "netlink/link.hpp"
#include "netlink/netns.hpp"
#include "netlink/socket.hpp"
#include "support/netlab_cli.hpp"
#include "netlink/netns_store.hpp"
#include "support/fresh_ns.hpp"

namespace netlab::testing {
namespace {

class NetnsStoreTest : public FreshNamespaceTest {};

size_t mount_count() {
  std::ifstream f("/proc/self/mountinfo");
  size_t n = 0;
  for (std::string line; std::getline(f, line);) ++n;
  return n;
}

TEST_F(NetnsStoreTest, HoldsByNameWithoutDescriptorsAndLetsGoWithTheStore) {
  size_t mounts = mount_count();
  std::vector<uint64_t> inodes;
  {
    nl::NetnsStore store;
    for (int i = 0; i < 50; ++i) {
      auto ns = nl::Netns::create();
      inodes.push_back(ns.inode());
      if (i == 0) {
        // A veth from here into the first one: its end here lives as long as
        // that namespace does.
        nl::VethSpec v;
        v.name = "st0";
        v.peer_name = "p0";
        v.peer_ns_fd = ns.fd();
        nl::RtnlSocket::open("test").request(nl::encode(v), "creating veth st0");
      }
      store.put("n" + std::to_string(i), ns);
    }  // every descriptor of ours is closed here
    EXPECT_EQ(mount_count(), mounts) << "the holds must not be in netlab's mount table";
    EXPECT_NE(run_shell("ip -o link show st0"), "") << "held by the store alone, the namespace lives";
    // Reopened by name, from another thread too: the same namespaces.
    for (int i = 0; i < 50; ++i) EXPECT_EQ(store.open("n" + std::to_string(i)).inode(), inodes[i]);
    uint64_t from_thread = 0;
    std::thread([&] { from_thread = store.open("n7").inode(); }).join();
    EXPECT_EQ(from_thread, inodes[7]);
    EXPECT_TRUE(store.has("n3"));
    EXPECT_FALSE(store.has("n99"));
    try {
      store.open("n99");
      ADD_FAILURE() << "opened a name never put";
    } catch (const Error& e) {
      EXPECT_EQ(e.errnum(), ENOENT);
    }
    try {
      store.put("n3", nl::Netns::current());
      ADD_FAILURE() << "put a name twice";
    } catch (const Error& e) {
      EXPECT_EQ(e.errnum(), EEXIST);
    }
    EXPECT_THROW(store.put("a/b", nl::Netns::current()), Error);
  }
  // Nothing holds them now: the kernel frees them, and the veth end here goes
  // with its peer's namespace.
  EXPECT_TRUE(eventually([] { return run_shell("ip -o link show st0 2>/dev/null").empty(); }, 10000));
  EXPECT_EQ(mount_count(), mounts);
}

}  // namespace
}  // namespace netlab::testing
