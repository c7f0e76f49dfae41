// The pcapng writer: the blocks as the spec lays them out (read back byte by
// byte: interface names, lengths, padding), and libpcap reading the file back
// with the packets, timestamps to the nanosecond and link type intact.
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "capture/pcapng.hpp"

namespace netlab::capture {
namespace {

struct TempFile {
  std::string path;
  int fd;
  TempFile() {
    char name[] = "/tmp/netlab-pcapng-XXXXXX";
    fd = mkstemp(name);
    path = name;
  }
  ~TempFile() {
    close(fd);
    unlink(path.c_str());
  }
  std::string contents() const {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

template <typename T>
T at(const std::string& s, size_t off) {
  T v;
  std::memcpy(&v, s.data() + off, sizeof v);
  return v;
}

struct Block {
  uint32_t type;
  std::string body;
};

// Splits a file into blocks, checking that each block's two length fields agree.
std::vector<Block> blocks(const std::string& s) {
  std::vector<Block> out;
  size_t off = 0;
  while (off + 12 <= s.size()) {
    uint32_t type = at<uint32_t>(s, off), len = at<uint32_t>(s, off + 4);
    EXPECT_EQ(len % 4, 0u);
    EXPECT_LE(off + len, s.size());
    EXPECT_EQ(at<uint32_t>(s, off + len - 4), len);
    out.push_back({type, s.substr(off + 8, len - 12)});
    off += len;
  }
  EXPECT_EQ(off, s.size());
  return out;
}

// Option `code`'s value in an option list starting at `off` of a block body.
std::string option(const std::string& body, size_t off, uint16_t code) {
  while (off + 4 <= body.size()) {
    uint16_t c = at<uint16_t>(body, off), len = at<uint16_t>(body, off + 2);
    if (c == 0) break;
    if (c == code) return body.substr(off + 4, len);
    off += 4 + (len + 3u) / 4 * 4;
  }
  return "";
}

TEST(Pcapng, BlocksCarryInterfaceNamesAndPaddedPackets) {
  TempFile f;
  {
    PcapngWriter w(f.fd);
    EXPECT_EQ(w.add_interface("h1:eth0", 1, 262144), 0u);
    EXPECT_EQ(w.add_interface("lan:r1:eth1", 1, 1500), 1u);
    uint8_t pkt[61];
    std::memset(pkt, 0x5a, sizeof pkt);
    w.add_packet(1, 1'700'000'000'123'456'789ull, pkt, 61, 98);
    w.add_statistics(1, 1'700'000'001'000'000'000ull, 5, 2);
    w.flush();
  }
  auto b = blocks(f.contents());
  ASSERT_EQ(b.size(), 5u);
  EXPECT_EQ(b[0].type, kPcapngSectionHeader);
  EXPECT_EQ(at<uint32_t>(b[0].body, 0), 0x1A2B3C4Du);
  EXPECT_EQ(at<uint16_t>(b[0].body, 4), 1);
  EXPECT_EQ(option(b[0].body, 16, 4), "netlab");
  EXPECT_EQ(b[1].type, kPcapngInterface);
  EXPECT_EQ(option(b[1].body, 8, 2), "h1:eth0");
  EXPECT_EQ(option(b[1].body, 8, 9), std::string(1, '\x09'));  // nanoseconds
  EXPECT_EQ(option(b[2].body, 8, 2), "lan:r1:eth1");
  EXPECT_EQ(at<uint32_t>(b[2].body, 4), 1500u);
  EXPECT_EQ(b[3].type, kPcapngEnhancedPacket);
  EXPECT_EQ(at<uint32_t>(b[3].body, 0), 1u);
  uint64_t ts = uint64_t{at<uint32_t>(b[3].body, 4)} << 32 | at<uint32_t>(b[3].body, 8);
  EXPECT_EQ(ts, 1'700'000'000'123'456'789ull);
  EXPECT_EQ(at<uint32_t>(b[3].body, 12), 61u);
  EXPECT_EQ(at<uint32_t>(b[3].body, 16), 98u);
  EXPECT_EQ(b[3].body.size(), 20u + 64u);  // 61 bytes padded to 64
  EXPECT_EQ(b[4].type, kPcapngStatistics);
  EXPECT_EQ(at<uint64_t>(option(b[4].body, 12, 6), 0), 5u);
  EXPECT_EQ(at<uint64_t>(option(b[4].body, 12, 7), 0), 2u);
}

TEST(Pcapng, LibpcapReadsItBack) {
  TempFile f;
  {
    PcapngWriter w(f.fd);
    w.add_interface("a:eth0", DLT_EN10MB, 262144);
    w.add_interface("b:eth0", DLT_EN10MB, 262144);
    for (uint32_t i = 0; i < 3; ++i) {
      std::vector<uint8_t> pkt(60 + i, static_cast<uint8_t>(i));
      w.add_packet(i % 2, 1'000'000'000ull * (100 + i) + i, pkt.data(), static_cast<uint32_t>(pkt.size()), 100);
    }
  }  // the destructor flushes
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline_with_tstamp_precision(f.path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  ASSERT_NE(p, nullptr) << err;
  EXPECT_EQ(pcap_datalink(p), DLT_EN10MB);
  pcap_pkthdr* h;
  const u_char* data;
  uint32_t n = 0;
  while (pcap_next_ex(p, &h, &data) == 1) {
    EXPECT_EQ(h->ts.tv_sec, 100 + n);
    EXPECT_EQ(h->ts.tv_usec, n);  // nanoseconds with this precision
    EXPECT_EQ(h->caplen, 60 + n);
    EXPECT_EQ(h->len, 100u);
    EXPECT_EQ(data[0], n);
    ++n;
  }
  EXPECT_EQ(n, 3u);
  pcap_close(p);
}

TEST(Pcapng, AWriteToAClosedPipeIsEpipe) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);
  signal(SIGPIPE, SIG_IGN);
  PcapngWriter w(fds[1]);
  try {
    w.flush();
    ADD_FAILURE() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("EPIPE"), std::string::npos) << e.what();
  }
  close(fds[1]);
}

}  // namespace
}  // namespace netlab::capture
