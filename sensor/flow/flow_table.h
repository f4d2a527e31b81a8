#ifndef AUSCULT_SENSOR_FLOW_FLOW_TABLE_H_
#define AUSCULT_SENSOR_FLOW_FLOW_TABLE_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "sensor/decode/packet_view.h"
#include "sensor/observations.h"

namespace auscult::sensor {

struct FlowTableOptions {
  size_t max_flows = 262144;                     // hard cap; the oldest idle flow is evicted beyond it
  TimeNs idle_timeout = 60 * kNanosPerSecond;    // a flow without packets for this long has ended
  TimeNs active_timeout = 60 * kNanosPerSecond;  // a live flow is reported (as a delta) this often
};

// A flow: VLAN + IP protocol + the unordered pair of (address, port) endpoints. Both directions of
// a conversation map to the same key; the flow remembers which endpoint initiated it.
struct FlowKey {
  IpAddress a_ip;  // the lower (address, port) endpoint
  IpAddress b_ip;
  uint16_t a_port = 0;
  uint16_t b_port = 0;
  uint16_t vlan = 0;
  uint16_t inner_vlan = 0;
  uint8_t protocol = 0;

  friend bool operator==(const FlowKey&, const FlowKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const FlowKey& k) {
    return H::combine(std::move(h), k.a_ip, k.b_ip, k.a_port, k.b_port, k.vlan, k.inner_vlan, k.protocol);
  }
};

struct FlowTableStats {
  uint64_t flows_created = 0;
  uint64_t flows_evicted = 0;
  uint64_t flows_active = 0;
};

// Tracks flows and reports them to an ObservationSink: periodically while alive (deltas), and once
// when they end. Memory is bounded by max_flows. Time is packet time: the table is driven by the
// timestamps of the packets it sees (and by Expire() ticks on an idle live interface).
class FlowTable {
 public:
  FlowTable(const FlowTableOptions& options, ObservationSink* sink);

  // Accounts one IP packet (view.has_ip must be true).
  void Update(const PacketView& view);
  // Ends flows idle at `now`.
  void Expire(TimeNs now);
  // Reports every flow as ended by the end of capture and empties the table.
  void Flush();

  const FlowTableStats& stats() const { return stats_; }
  size_t size() const { return index_.size(); }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Flow {
    uint64_t id = 0;
    FlowKey key;
    FlowEndpoint initiator;
    FlowEndpoint responder;
    bool has_macs = false;
    std::string_view application;
    TimeNs first_seen = 0;
    TimeNs last_seen = 0;
    TimeNs last_report = 0;
    PacketByteCount to_responder;  // since the last report
    PacketByteCount to_initiator;
    uint8_t flags_initiator = 0;
    uint8_t flags_responder = 0;
    bool closed = false;
    uint32_t prev = kNone;  // least-recently-seen list
    uint32_t next = kNone;
  };

  uint32_t Create(const FlowKey& key, const PacketView& view);
  void Report(Flow& flow, FlowState state);
  void Remove(uint32_t index);
  void Unlink(uint32_t index);
  void LinkAtTail(uint32_t index);

  FlowTableOptions options_;
  ObservationSink* sink_;
  std::vector<Flow> slots_;
  std::vector<uint32_t> free_;
  absl::flat_hash_map<FlowKey, uint32_t> index_;
  uint32_t lru_head_ = kNone;  // oldest last_seen
  uint32_t lru_tail_ = kNone;
  uint64_t next_id_ = 1;
  FlowTableStats stats_;
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_FLOW_FLOW_TABLE_H_
