#include "sensor/flow/tcp_reassembler.h"

#include "sensor/decode/packet_view.h"

namespace auscult::sensor {

void TcpReassembler::Segment(uint32_t seq, uint8_t tcp_flags, std::span<const uint8_t> payload, TimeNs timestamp,
                             const Sink& sink) {
  if (exhausted()) return;
  if (tcp_flags & kTcpSyn) {
    // The SYN takes one sequence number; data (TCP Fast Open) starts after it.
    if (!started_) {
      started_ = true;
      next_seq_ = seq + 1;
    }
    seq += 1;
  }
  if (payload.empty()) return;
  if (!started_) {  // the capture began mid-connection: the stream starts here
    started_ = true;
    next_seq_ = seq;
  }
  const int64_t ahead = Distance(next_seq_, seq);
  const int64_t size = static_cast<int64_t>(payload.size());
  if (ahead + size <= 0) return;  // a retransmission of bytes already delivered
  if (ahead <= 0) {
    Deliver(payload.subspan(static_cast<size_t>(-ahead)), timestamp, sink);
    DrainPending(sink, /*force=*/false);
    return;
  }
  // Early: it waits for the bytes before it, unless too much already waits; then the oldest hole
  // is given up on (reported as a gap) to make progress.
  if (pending_bytes_ + payload.size() > max_pending_) {
    DrainPending(sink, /*force=*/true);
    if (exhausted()) return;
    const int64_t now_ahead = Distance(next_seq_, seq);
    if (now_ahead > 0) {
      ++gaps_;
      if (sink.gap) sink.gap(static_cast<uint64_t>(now_ahead));
      next_offset_ += static_cast<uint64_t>(now_ahead);
      next_seq_ = seq;
    }
    Segment(seq, 0, payload, timestamp, sink);
    return;
  }
  const uint64_t offset = next_offset_ + static_cast<uint64_t>(ahead);
  auto [it, inserted] = pending_.try_emplace(offset);
  if (!inserted && it->second.bytes.size() >= payload.size()) return;  // already held
  pending_bytes_ -= static_cast<uint32_t>(it->second.bytes.size());
  it->second.bytes.assign(payload.begin(), payload.end());
  it->second.timestamp = timestamp;
  pending_bytes_ += static_cast<uint32_t>(payload.size());
}

void TcpReassembler::Deliver(std::span<const uint8_t> bytes, TimeNs timestamp, const Sink& sink) {
  const uint64_t room = budget_ - delivered_;
  const std::span<const uint8_t> given = bytes.size() > room ? bytes.first(room) : bytes;
  if (!given.empty() && sink.data) sink.data(given, timestamp);
  delivered_ += given.size();
  next_seq_ += static_cast<uint32_t>(bytes.size());
  next_offset_ += bytes.size();
  if (exhausted()) {  // nothing more will be wanted
    pending_.clear();
    pending_bytes_ = 0;
  }
}

void TcpReassembler::DrainPending(const Sink& sink, bool force) {
  while (!pending_.empty() && !exhausted()) {
    auto it = pending_.begin();
    if (it->first > next_offset_) {
      if (!force) return;
      const uint64_t hole = it->first - next_offset_;
      ++gaps_;
      if (sink.gap) sink.gap(hole);
      next_offset_ += hole;
      next_seq_ += static_cast<uint32_t>(hole);
      force = false;  // one hole at a time; what follows it may now be contiguous
    }
    Pending held = std::move(it->second);
    const uint64_t start = it->first;
    pending_.erase(it);
    pending_bytes_ -= static_cast<uint32_t>(held.bytes.size());
    const uint64_t skip = next_offset_ - start;  // overlap with what was delivered already
    if (skip < held.bytes.size()) {
      Deliver(std::span<const uint8_t>(held.bytes).subspan(skip), held.timestamp, sink);
    }
  }
}

void TcpReassembler::Flush(const Sink& sink) {
  while (!pending_.empty() && !exhausted()) DrainPending(sink, /*force=*/true);
}

}  // namespace auscult::sensor
