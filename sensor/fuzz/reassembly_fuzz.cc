// libFuzzer target for the TCP reassembler (sensor/flow/tcp_reassembler.h): one direction of a
// connection whose segments arrive in whatever order, size, overlap and repetition the input says,
// as an attacker on the wire (or a lossy SPAN port) can arrange.
//
// The bytes of the stream are a fixed function of their offset, so the harness knows what every
// delivered byte must be. It checks that the parser is handed the stream in order: each delivered
// byte is the stream's byte at the offset the data and gaps so far add up to, nothing beyond the
// budget is delivered, no more than max_pending bytes wait, and after Flush every byte up to the
// furthest one sent has been either delivered or reported as part of a gap.
//
// Input: | max_pending (1) | budget (1) | initial sequence number (4) | segment ... |
//   max_pending = 1 + 64 * byte, budget = 1 + 256 * byte;
//   segment: | flags (1; bit 0: SYN) | stream offset (2) | length (2) |  (a SYN segment starts at
//   offset 0, as TCP Fast Open data does). A SYN without data always comes first.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "common/byte_reader.h"
#include "sensor/decode/packet_view.h"
#include "sensor/flow/tcp_reassembler.h"

namespace auscult::sensor {
namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "reassembler broke its contract: %s\n", what);
    std::abort();
  }
}

// The stream: a multiplicative hash of each byte's offset, so that a shifted delivery shows. Made
// once; segments are spans of it, as far as 16-bit offsets and lengths reach.
const std::vector<uint8_t>& Stream() {
  static const std::vector<uint8_t> stream = [] {
    std::vector<uint8_t> s(2 * 65536);
    for (size_t i = 0; i < s.size(); ++i) {
      uint32_t x = static_cast<uint32_t>(i + 1) * 2654435761u;
      x ^= x >> 15;
      s[i] = static_cast<uint8_t>(x);
    }
    return s;
  }();
  return stream;
}

}  // namespace
}  // namespace auscult::sensor

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace auscult::sensor;
  auscult::ByteReader in(data, size);
  const uint32_t max_pending = 1 + 64u * in.U8();
  const uint64_t budget = 1 + 256u * in.U8();
  const uint32_t isn = in.U32();
  if (!in.ok()) return 0;

  uint64_t position = 0;  // stream offset of the next byte the parser should see
  uint64_t delivered = 0, gaps = 0;
  TcpReassembler::Sink sink;
  const std::vector<uint8_t>& stream = Stream();
  sink.data = [&](std::span<const uint8_t> bytes, auscult::TimeNs) {
    Require(position + bytes.size() <= stream.size() &&
                std::memcmp(bytes.data(), stream.data() + position, bytes.size()) == 0,
            "bytes delivered out of place");
    position += bytes.size();
    delivered += bytes.size();
  };
  sink.gap = [&](uint64_t length) {
    Require(length > 0, "an empty gap");
    position += length;
    ++gaps;
  };

  TcpReassembler reassembler(max_pending, budget);
  reassembler.Segment(isn, kTcpSyn, {}, 0, sink);
  uint64_t furthest = 0;  // end of the furthest byte sent
  auscult::TimeNs now = 1;
  while (in.remaining() >= 3) {
    const uint8_t flags = in.U8();
    const uint16_t offset = (flags & 1) ? 0 : in.U16();
    const uint16_t length = in.U16();
    if (!in.ok()) break;
    const std::span<const uint8_t> payload(stream.data() + offset, length);
    const bool syn = (flags & 1) != 0;
    // Sequence numbers wrap; offset 0 is the byte after the SYN.
    const uint32_t seq = syn ? isn : isn + 1 + offset;
    reassembler.Segment(seq, syn ? kTcpSyn : 0, payload, now++, sink);
    if (length > 0) furthest = std::max<uint64_t>(furthest, uint64_t{offset} + length);
    Require(reassembler.pending_bytes() <= max_pending, "more bytes waiting than max_pending");
    Require(delivered <= budget, "more delivered than the budget");
  }
  reassembler.Flush(sink);
  Require(reassembler.pending_bytes() == 0, "bytes still waiting after Flush");
  Require(reassembler.delivered() == delivered && reassembler.gaps() == gaps, "counters disagree with the sink");
  if (!reassembler.exhausted()) {
    Require(position == furthest, "bytes sent but neither delivered nor reported as a gap");
  }
  return 0;
}
