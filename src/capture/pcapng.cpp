#include "capture/pcapng.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/error.hpp"

namespace netlab::capture {

namespace {

template <typename T>
void put(std::string& s, T v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void pad(std::string& s) { s.append((4 - s.size() % 4) % 4, '\0'); }

// An option: code, length, value padded to 32 bits.
void option(std::string& s, uint16_t code, const void* value, uint16_t len) {
  put(s, code);
  put(s, len);
  s.append(static_cast<const char*>(value), len);
  pad(s);
}

void end_of_options(std::string& s) { put(s, uint32_t{0}); }

constexpr size_t kFlushAt = 256 << 10;

}  // namespace

PcapngWriter::PcapngWriter(int fd, const std::string& application) : fd_(fd) {
  std::string body;
  put(body, uint32_t{0x1A2B3C4D});  // byte-order magic
  put(body, uint16_t{1});           // version 1.0
  put(body, uint16_t{0});
  put(body, int64_t{-1});           // section length: not given
  option(body, 4, application.data(), static_cast<uint16_t>(application.size()));  // shb_userappl
  end_of_options(body);
  block(kPcapngSectionHeader, body);
}

PcapngWriter::~PcapngWriter() {
  try {
    flush();
  } catch (const Error&) {
  }
}

void PcapngWriter::block(uint32_t type, const std::string& body) {
  uint32_t total = static_cast<uint32_t>(12 + body.size());
  put(buf_, type);
  put(buf_, total);
  buf_ += body;
  put(buf_, total);
}

uint32_t PcapngWriter::add_interface(const std::string& name, int linktype, uint32_t snaplen) {
  std::string body;
  put(body, static_cast<uint16_t>(linktype));
  put(body, uint16_t{0});
  put(body, snaplen);
  option(body, 2, name.data(), static_cast<uint16_t>(name.size()));  // if_name
  uint8_t nanoseconds = 9;
  option(body, 9, &nanoseconds, 1);  // if_tsresol: 10^-9
  end_of_options(body);
  block(kPcapngInterface, body);
  return interfaces_++;
}

void PcapngWriter::add_packet(uint32_t interface, uint64_t ts_ns, const uint8_t* data, uint32_t caplen,
                              uint32_t len) {
  std::string body;
  body.reserve(20 + caplen + 3);
  put(body, interface);
  put(body, static_cast<uint32_t>(ts_ns >> 32));
  put(body, static_cast<uint32_t>(ts_ns));
  put(body, caplen);
  put(body, len);
  body.append(reinterpret_cast<const char*>(data), caplen);
  pad(body);
  block(kPcapngEnhancedPacket, body);
  if (buf_.size() >= kFlushAt) flush();
}

void PcapngWriter::add_statistics(uint32_t interface, uint64_t ts_ns, uint64_t accepted, uint64_t dropped) {
  std::string body;
  put(body, interface);
  put(body, static_cast<uint32_t>(ts_ns >> 32));
  put(body, static_cast<uint32_t>(ts_ns));
  option(body, 6, &accepted, 8);  // isb_filteraccept
  option(body, 7, &dropped, 8);   // isb_osdrop
  end_of_options(body);
  block(kPcapngStatistics, body);
}

void PcapngWriter::flush() {
  size_t done = 0;
  while (done < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      buf_.clear();
      throw_errno("writing pcapng");
    }
    done += static_cast<size_t>(n);
  }
  buf_.clear();
}

}  // namespace netlab::capture
