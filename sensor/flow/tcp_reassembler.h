#ifndef AUSCULT_SENSOR_FLOW_TCP_REASSEMBLER_H_
#define AUSCULT_SENSOR_FLOW_TCP_REASSEMBLER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <vector>

#include "common/time.h"

namespace auscult::sensor {

// Puts one direction of a TCP connection back in order for a parser: retransmitted bytes are
// delivered once, segments that arrive early wait (up to a memory limit) for the bytes before
// them, and a hole that does not fill is reported as a gap of so many bytes instead of being
// papered over. Delivery stops after a byte budget, so a parser only ever sees what it asked for.
class TcpReassembler {
 public:
  struct Sink {
    std::function<void(std::span<const uint8_t>, TimeNs)> data;
    std::function<void(uint64_t)> gap;
  };

  // `max_pending` bytes may wait out of order; `budget` bytes at most are delivered in total.
  TcpReassembler(uint32_t max_pending, uint64_t budget) : max_pending_(max_pending), budget_(budget) {}

  // One segment of this direction: its sequence number, flags and payload.
  void Segment(uint32_t seq, uint8_t tcp_flags, std::span<const uint8_t> payload, TimeNs timestamp, const Sink& sink);
  // The connection ended: whatever still waits behind a hole is delivered after a gap.
  void Flush(const Sink& sink);

  uint64_t delivered() const { return delivered_; }
  uint64_t gaps() const { return gaps_; }
  uint32_t pending_bytes() const { return pending_bytes_; }
  bool exhausted() const { return delivered_ >= budget_; }

 private:
  void Deliver(std::span<const uint8_t> bytes, TimeNs timestamp, const Sink& sink);
  // Delivers what waits and now follows on; with `force`, skips holes (reporting them) to do so.
  void DrainPending(const Sink& sink, bool force);
  // Signed distance from a to b in sequence space (RFC 1982 serial arithmetic).
  static int32_t Distance(uint32_t a, uint32_t b) { return static_cast<int32_t>(b - a); }

  struct Pending {
    std::vector<uint8_t> bytes;
    TimeNs timestamp;
  };
  uint32_t max_pending_;
  uint64_t budget_;
  bool started_ = false;
  uint32_t next_seq_ = 0;                // sequence number of the next byte wanted
  uint64_t next_offset_ = 0;             // the same as an offset into the stream (no wraparound)
  std::map<uint64_t, Pending> pending_;  // by stream offset
  uint32_t pending_bytes_ = 0;
  uint64_t delivered_ = 0;
  uint64_t gaps_ = 0;
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_FLOW_TCP_REASSEMBLER_H_
