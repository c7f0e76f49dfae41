/* udp_blast NETNS_PATH DST_IP PORT COUNT SIZE RATE
 * Sends COUNT UDP datagrams of SIZE payload bytes to DST_IP:PORT from inside
 * the network namespace pinned at NETNS_PATH, paced at RATE per second (0 = as
 * fast as sendmmsg goes). Prints "sent N in S s (P pps)" on stderr. A bench
 * tool for scripts/bench-capture; never part of netlab. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: udp_blast NETNS_PATH DST_IP PORT COUNT SIZE RATE\n");
    return 64;
  }
  int ns = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
    perror(argv[1]);
    return 1;
  }
  long count = atol(argv[4]), size = atol(argv[5]);
  double rate = atof(argv[6]);
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3]))};
  inet_pton(AF_INET, argv[2], &dst.sin_addr);
  int big = 8 << 20;
  setsockopt(s, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  if (connect(s, (struct sockaddr*)&dst, sizeof dst) < 0) {
    perror("connect");
    return 1;
  }
  enum { kBatch = 32 };
  static char payload[65536];
  struct iovec iov = {payload, (size_t)size};
  struct mmsghdr msgs[kBatch];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < kBatch; ++i) msgs[i].msg_hdr.msg_iov = &iov, msgs[i].msg_hdr.msg_iovlen = 1;
  double start = now();
  long sent = 0;
  while (sent < count) {
    if (rate > 0) {
      double due = start + sent / rate;
      while (now() < due) {
      }
    }
    int n = (int)(count - sent < kBatch ? count - sent : kBatch);
    if (rate > 0 && rate < 100000) n = 1;  // slow rates: one at a time, evenly spaced
    int got = sendmmsg(s, msgs, n, 0);
    if (got < 0) continue;  /* ENOBUFS: the qdisc is full, try again */
    sent += got;
  }
  double secs = now() - start;
  fprintf(stderr, "sent %ld in %.3f s (%.0f pps)\n", sent, secs, sent / secs);
  return 0;
}
