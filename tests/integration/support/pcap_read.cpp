#include "support/pcap_read.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace netlab::testing {

namespace {

std::optional<std::vector<Packet>> read_all(pcap_t* p, const char* err, size_t max) {
  if (!p) {
    ADD_FAILURE() << "libpcap cannot read the capture: " << err;
    return std::nullopt;
  }
  std::vector<Packet> out;
  pcap_pkthdr* h;
  const u_char* data;
  while (out.size() < max && pcap_next_ex(p, &h, &data) == 1) {
    Packet pk;
    pk.ts_ns = static_cast<uint64_t>(h->ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(h->ts.tv_usec);
    pk.data.assign(data, data + h->caplen);
    out.push_back(std::move(pk));
  }
  return out;
}

template <typename T>
T at(const std::string& s, size_t off) {
  T v{};
  if (off + sizeof v <= s.size()) std::memcpy(&v, s.data() + off, sizeof v);
  return v;
}

uint16_t be16(const std::vector<uint8_t>& d, size_t off) {
  return off + 2 <= d.size() ? static_cast<uint16_t>(d[off] << 8 | d[off + 1]) : 0;
}

}  // namespace

std::optional<std::vector<Packet>> read_with_libpcap(const std::string& path) {
  char err[PCAP_ERRBUF_SIZE] = "";
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  auto out = read_all(p, err, SIZE_MAX);
  if (p) pcap_close(p);
  return out;
}

std::optional<std::vector<Packet>> read_stream(FILE* f, size_t max) {
  char err[PCAP_ERRBUF_SIZE] = "";
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err);
  auto out = read_all(p, err, max);
  // pcap_close would fclose the stream: the caller keeps reading it.
  return out;
}

std::optional<Pcapng> read_pcapng(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  Pcapng out;
  size_t off = 0;
  while (off + 12 <= s.size()) {
    uint32_t type = at<uint32_t>(s, off), len = at<uint32_t>(s, off + 4);
    if (len < 12 || off + len > s.size() || at<uint32_t>(s, off + len - 4) != len) {
      ADD_FAILURE() << "bad pcapng block at offset " << off;
      return std::nullopt;
    }
    std::string body = s.substr(off + 8, len - 12);
    if (type == 1) {  // IDB: options after linktype, reserved, snaplen
      std::string name;
      for (size_t o = 8; o + 4 <= body.size();) {
        uint16_t code = at<uint16_t>(body, o), olen = at<uint16_t>(body, o + 2);
        if (code == 0) break;
        if (code == 2) name = body.substr(o + 4, olen);
        o += 4 + (olen + 3u) / 4 * 4;
      }
      out.interfaces.push_back(name);
    } else if (type == 6) {  // EPB
      uint32_t id = at<uint32_t>(body, 0), caplen = at<uint32_t>(body, 12);
      Packet p;
      p.iface = id < out.interfaces.size() ? out.interfaces[id] : "?";
      p.ts_ns = uint64_t{at<uint32_t>(body, 4)} << 32 | at<uint32_t>(body, 8);
      p.data.assign(body.begin() + 20, body.begin() + 20 + caplen);
      out.packets.push_back(std::move(p));
    }
    off += len;
  }
  return out;
}

int ip_proto_of(const Packet& p) {
  if (p.data.size() < 34 || be16(p.data, 12) != 0x0800) return -1;
  return p.data[23];
}

int udp_dport_of(const Packet& p) {
  if (ip_proto_of(p) != 17) return -1;
  size_t l4 = 14 + (p.data[14] & 0x0f) * 4u;
  return be16(p.data, l4 + 2);
}

std::optional<Icmp> icmp_of(const Packet& p) {
  if (ip_proto_of(p) != 1) return std::nullopt;
  size_t l4 = 14 + (p.data[14] & 0x0f) * 4u;
  if (p.data.size() < l4 + 8) return std::nullopt;
  return Icmp{p.data[l4], be16(p.data, l4 + 4), be16(p.data, l4 + 6), p.data[22]};
}

Background start_netlab(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  Background bg;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) return bg;
  std::vector<std::string> argv_s{NETLAB_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) env_s.emplace_back(*e);
  env_s.insert(env_s.end(), env.begin(), env.end());
  bg.pid = fork();
  if (bg.pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    std::vector<char*> argv, envp;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  bg.out = out[0];
  bg.err = err[0];
  return bg;
}

bool Background::wait_stderr(const std::string& text, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[1024];
  while (err_text.find(text) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{err, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    ssize_t n = read(err, buf, sizeof buf);
    if (n <= 0) return false;
    err_text.append(buf, static_cast<size_t>(n));
  }
  return true;
}

int Background::finish() {
  char buf[1024];
  for (ssize_t n; (n = read(err, buf, sizeof buf)) > 0;) err_text.append(buf, static_cast<size_t>(n));
  close(err);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace netlab::testing
