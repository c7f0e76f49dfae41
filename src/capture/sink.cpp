#include "capture/sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdio>

#include "capture/decode.hpp"
#include "capture/pcapng.hpp"
#include "util/error.hpp"
#include "util/fd.hpp"

namespace netlab::capture {

namespace {

uint64_t ts_ns(const pcap_pkthdr* h) {  // handles run with nanosecond precision
  return static_cast<uint64_t>(h->ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(h->ts.tv_usec);
}

Fd open_output(const std::string& path) {
  if (path == "-") {
    Fd fd(::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3));
    if (!fd) throw_errno("duplicating stdout");
    return fd;
  }
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) throw_errno("opening capture file {}", path);
  return fd;
}

void check_stream(FILE* f, const std::string& what) {
  if (ferror(f)) throw Error(errno ? errno : EIO, "writing {}", what);
}

// Lines of one poll round are printed in timestamp order (rounds read one
// ring after another).
class TextSink : public Sink {
 public:
  void add(const Source& s) override { sources_.push_back({s.label(), s.linktype()}); }
  void packet(size_t source, const pcap_pkthdr* h, const u_char* data) override {
    const auto& s = sources_[source];
    round_.emplace_back(ts_ns(h), format_time(ts_ns(h)) + " " + s.label + " " +
                                      decode(s.linktype, data, h->caplen, h->len) + "\n");
  }
  void flush_stream() override {
    std::stable_sort(round_.begin(), round_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [ts, line] : round_) fwrite(line.data(), 1, line.size(), stdout);
    round_.clear();
    fflush(stdout);
    check_stream(stdout, "stdout");
  }
  void finish(const std::vector<Source::Counters>&) override { flush_stream(); }

 private:
  struct Info {
    std::string label;
    int linktype;
  };
  std::vector<Info> sources_;
  std::vector<std::pair<uint64_t, std::string>> round_;
};

class PcapSink : public Sink {
 public:
  explicit PcapSink(const std::string& path) : path_(path), stream_(path == "-") {
    Fd fd = open_output(path);
    file_ = fdopen(fd.get(), "w");
    if (!file_) throw_errno("opening capture file {}", path);
    fd.release();
    if (!stream_) setvbuf(file_, nullptr, _IOFBF, 1 << 20);
  }
  ~PcapSink() override {
    if (dumper_) pcap_dump_close(dumper_);  // closes file_
    else if (file_) fclose(file_);
  }
  void add(const Source& s) override {
    if (dumper_) throw Error(EINVAL, "a pcap file holds one interface; write pcapng for more");
    dumper_ = pcap_dump_fopen(s.handle(), file_);
    if (!dumper_) throw Error(EIO, "writing pcap header to {}: {}", path_, pcap_geterr(s.handle()));
  }
  void packet(size_t, const pcap_pkthdr* h, const u_char* data) override {
    pcap_dump(reinterpret_cast<u_char*>(dumper_), h, data);
    if (stream_) flush_stream();
  }
  void flush_stream() override {
    if (stream_ && pcap_dump_flush(dumper_) < 0) throw Error(errno ? errno : EIO, "writing pcap to stdout");
  }
  void finish(const std::vector<Source::Counters>&) override {
    if (dumper_ && pcap_dump_flush(dumper_) < 0) throw Error(errno ? errno : EIO, "writing {}", path_);
  }

 private:
  std::string path_;
  bool stream_;
  FILE* file_ = nullptr;
  pcap_dumper_t* dumper_ = nullptr;
};

// Packets of one poll round are written in timestamp order: the rounds read
// one ring after another, so without this a replay would jump back and forth.
class PcapngSink : public Sink {
 public:
  explicit PcapngSink(const std::string& path)
      : path_(path), stream_(path == "-"), fd_(open_output(path)), writer_(fd_.get()) {}
  void add(const Source& s) override { writer_.add_interface(s.label(), s.linktype(), pcap_snapshot(s.handle())); }
  void packet(size_t source, const pcap_pkthdr* h, const u_char* data) override {
    if (stream_) {
      writer_.add_packet(static_cast<uint32_t>(source), ts_ns(h), data, h->caplen, h->len);
      writer_.flush();
      return;
    }
    round_.push_back({ts_ns(h), static_cast<uint32_t>(source), h->len,
                      std::string(reinterpret_cast<const char*>(data), h->caplen)});
    if (round_.size() >= 4096) write_round();
  }
  void flush_stream() override {
    write_round();
    if (stream_) writer_.flush();
  }
  void finish(const std::vector<Source::Counters>& counters) override {
    write_round();
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t ns = static_cast<uint64_t>(now.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(now.tv_nsec);
    for (size_t i = 0; i < counters.size(); ++i)
      writer_.add_statistics(static_cast<uint32_t>(i), ns, counters[i].accepted, counters[i].dropped);
    with_context("writing " + (stream_ ? std::string("stdout") : path_), [&] { writer_.flush(); });
  }

 private:
  struct Held {
    uint64_t ts;
    uint32_t source, len;
    std::string bytes;
  };
  void write_round() {
    std::stable_sort(round_.begin(), round_.end(), [](const Held& a, const Held& b) { return a.ts < b.ts; });
    for (const auto& p : round_)
      writer_.add_packet(p.source, p.ts, reinterpret_cast<const uint8_t*>(p.bytes.data()),
                         static_cast<uint32_t>(p.bytes.size()), p.len);
    round_.clear();
  }

  std::string path_;
  bool stream_;
  Fd fd_;
  PcapngWriter writer_;
  std::vector<Held> round_;
};

}  // namespace

Format format_for(const std::string& path, bool many) {
  if (path.empty()) return Format::kText;
  bool ng_name = path.size() > 7 && path.compare(path.size() - 7, 7, ".pcapng") == 0;
  return many || ng_name ? Format::kPcapng : Format::kPcap;
}

std::unique_ptr<Sink> make_sink(const SinkSpec& spec) {
  switch (spec.format) {
    case Format::kText: return std::make_unique<TextSink>();
    case Format::kPcap: return std::make_unique<PcapSink>(spec.path);
    case Format::kPcapng: return std::make_unique<PcapngSink>(spec.path);
  }
  return nullptr;
}

}  // namespace netlab::capture
