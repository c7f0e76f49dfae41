// nsid_probe: run inside a node by the containment tests. Through
// IFLA_TARGET_NETNSID it tries to reach other network namespaces the node's
// namespace has an id for (the fabric, the peer of a point-to-point link):
// list their links, set one down, delete one. Static, so it runs in a busybox
// node. Prints one line per attempt:
//   list NSID: N links (names...)      or   list NSID: refused ERRNO
//   down NSID IFNAME: ok               or   down NSID IFNAME: refused ERRNO
//   delete NSID IFNAME: ok / refused ERRNO   (only with "delete" as argv[1])
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fd;
static unsigned seq;

static void add_attr(struct nlmsghdr* n, int type, const void* data, int len) {
  struct rtattr* a = (struct rtattr*)((char*)n + NLMSG_ALIGN(n->nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  memcpy(RTA_DATA(a), data, len);
  n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

// Sends one request; for a dump, collects interface names into `names`.
// Returns 0 or -errno.
static int talk(struct nlmsghdr* req, char names[][IFNAMSIZ], int* count, int* indices) {
  req->nlmsg_seq = ++seq;
  if (send(fd, req, req->nlmsg_len, 0) < 0) return -errno;
  static char buf[65536];
  for (;;) {
    ssize_t len = recv(fd, buf, sizeof buf, 0);
    if (len < 0) return -errno;
    for (struct nlmsghdr* h = (struct nlmsghdr*)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq) continue;
      if (h->nlmsg_type == NLMSG_ERROR) return ((struct nlmsgerr*)NLMSG_DATA(h))->error;
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type != RTM_NEWLINK || !count) continue;
      struct ifinfomsg* ifi = NLMSG_DATA(h);
      int alen = IFLA_PAYLOAD(h);
      for (struct rtattr* a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
        if (a->rta_type != IFLA_IFNAME || *count >= 64) continue;
        snprintf(names[*count], IFNAMSIZ, "%s", (char*)RTA_DATA(a));
        indices[*count] = ifi->ifi_index;
        ++*count;
      }
    }
  }
}

int main(int argc, char** argv) {
  int do_delete = argc > 1 && strcmp(argv[1], "delete") == 0;
  fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    perror("socket");
    return 2;
  }
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
  int reached = 0;
  {
    // A dump of its own links first: the kernel gives ids to the namespaces
    // its veth peers live in as it reports them.
    struct {
      struct nlmsghdr n;
      struct ifinfomsg i;
    } own;
    memset(&own, 0, sizeof own);
    own.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    own.n.nlmsg_type = RTM_GETLINK;
    own.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    talk(&own.n, NULL, NULL, NULL);
  }
  for (int nsid = 0; nsid < 8; ++nsid) {
    struct {
      struct nlmsghdr n;
      struct ifinfomsg i;
      char attrs[256];
    } req;
    memset(&req, 0, sizeof req);
    req.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    req.n.nlmsg_type = RTM_GETLINK;
    req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    add_attr(&req.n, IFLA_TARGET_NETNSID, &nsid, sizeof nsid);
    char names[64][IFNAMSIZ];
    int count = 0, indices[64];
    int rc = talk(&req.n, names, &count, indices);
    if (rc < 0) {
      printf("list %d: refused %s\n", nsid, strerrorname_np(-rc));
      continue;
    }
    printf("list %d: %d links", nsid, count);
    for (int k = 0; k < count; ++k) printf(" %s", names[k]);
    printf("\n");
    if (count == 0) continue;
    ++reached;
    // The first link that is not lo: set it down, then (if asked) delete it.
    for (int k = 0; k < count; ++k) {
      if (strcmp(names[k], "lo") == 0) continue;
      for (int step = 0; step < 1 + do_delete; ++step) {
        memset(&req, 0, sizeof req);
        req.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
        req.n.nlmsg_type = step == 0 ? RTM_NEWLINK : RTM_DELLINK;
        req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        req.i.ifi_change = IFF_UP;
        req.i.ifi_flags = 0;
        req.i.ifi_index = indices[k];
        add_attr(&req.n, IFLA_TARGET_NETNSID, &nsid, sizeof nsid);
        rc = talk(&req.n, NULL, NULL, NULL);
        printf("%s %d %s: %s%s\n", step == 0 ? "down" : "delete", nsid, names[k], rc < 0 ? "refused " : "ok",
               rc < 0 ? strerrorname_np(-rc) : "");
      }
      break;
    }
  }
  return reached ? 0 : 1;
}
