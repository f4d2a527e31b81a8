#ifndef AUSCULT_SENSOR_FLOW_FLOW_TABLE_H_
#define AUSCULT_SENSOR_FLOW_FLOW_TABLE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "sensor/decode/packet_view.h"
#include "sensor/flow/clinical_services.h"
#include "sensor/flow/tcp_reassembler.h"
#include "sensor/observations.h"
#include "sensor/parsers/parser.h"

namespace auscult::sensor {

struct FlowTableOptions {
  size_t max_flows = 1000000;                    // hard cap; the least recently seen flow is evicted beyond it
  size_t max_memory_mb = 256;                    // flows and reassembly together stay below this
  TimeNs idle_timeout = 60 * kNanosPerSecond;    // a flow without packets for this long has ended
  TimeNs active_timeout = 60 * kNanosPerSecond;  // a live flow is reported (as a delta) this often
  // Application parsers to offer each flow (sensor/parsers/registry.cc lists the shipped ones).
  std::vector<const ParserFactory*> parsers;
  uint32_t max_out_of_order_bytes = 16 * 1024;  // per TCP direction, waiting for a hole to fill
  // Ports of clinical services and device protocols (--clinical_services; may be null). A flow to
  // one of them is named and tagged from its line when created (see clinical_services.h).
  const ClinicalServices* clinical_services = nullptr;
};

// A flow: VLANs + IP protocol + the unordered pair of (address, port) endpoints. Both directions
// of a conversation map to the same key; the flow remembers which endpoint initiated it.
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
  uint64_t flows_parsed = 0;                // flows a parser read
  uint64_t parsers_skipped_for_memory = 0;  // flows a parser wanted but the memory budget did not allow
  uint64_t reassembly_gaps = 0;
};

// Tracks flows and reports them to an ObservationSink: periodically while alive (deltas), and once
// when they end. Feeds the parsers that want a flow its payload (TCP reassembled in order).
// Memory is bounded: flows by max_flows and max_memory_mb (the least recently seen is evicted), and
// parsed flows by the share of max_memory_mb that reassembly may take. Time is packet time.
class FlowTable {
 public:
  // Parsers' facts about devices go to `facts` (may be null: then they are dropped).
  FlowTable(const FlowTableOptions& options, ObservationSink* sink, FactSink* facts = nullptr);
  ~FlowTable();

  // Accounts one IP packet (view.has_ip must be true).
  void Update(const PacketView& view);
  // Ends flows idle at `now`.
  void Expire(TimeNs now);
  // Reports every flow as ended by the end of capture and empties the table.
  void Flush();

  const FlowTableStats& stats() const { return stats_; }
  size_t size() const { return index_.size(); }
  size_t capacity() const { return max_flows_; }
  // Approximate bytes a tracked flow costs (slot, index entry), used for the memory budget.
  static size_t BytesPerFlow();

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct App;     // the parsers of one flow and its reassembly state
  struct Counts;  // patient data and message counts since the flow's last report
  static constexpr uint8_t kMarkClinical = 1, kMarkEncrypted = 2, kMarkCleartextCredentials = 4;
  // The flow was named by a weak line of the clinical services: its tags hold while the name does.
  static constexpr uint8_t kMarkByWeakPort = 8;
  class ParserOutputFor;
  struct Delivery;  // hands reassembled bytes and gaps of one direction to a flow's parsers
  struct Flow {
    FlowKey key;
    uint64_t id = 0;
    TimeNs first_seen = 0;
    TimeNs last_seen = 0;
    TimeNs last_report = 0;
    PacketByteCount to_responder;  // since the last report
    PacketByteCount to_initiator;
    MacAddress initiator_mac;
    MacAddress responder_mac;
    uint32_t prev = kNone;  // least-recently-seen list
    uint32_t next = kNone;
    uint8_t flags_initiator = 0;
    uint8_t flags_responder = 0;
    bool a_initiates = true;  // key.a_* is the initiator
    bool has_macs = false;
    bool closed = false;
    bool app_decided = false;  // parsers were offered the flow
    uint8_t application = 0;   // index into the application names (0: none)
    uint8_t marks = 0;         // kMarkClinical | kMarkEncrypted | kMarkCleartextCredentials | kMarkByWeakPort
    std::unique_ptr<App> app;
    std::unique_ptr<Counts> counts;  // patient data and clinical messages, only on flows that have them
  };
  // The index holds slot numbers; hashing and comparing look through to the slot's key, so a
  // flow costs 4 bytes in the index instead of a copy of its key.
  struct SlotHash {
    using is_transparent = void;
    const std::vector<Flow>* slots;
    size_t operator()(uint32_t i) const { return absl::Hash<FlowKey>()((*slots)[i].key); }
    size_t operator()(const FlowKey& k) const { return absl::Hash<FlowKey>()(k); }
  };
  struct SlotEq {
    using is_transparent = void;
    const std::vector<Flow>* slots;
    bool operator()(uint32_t a, uint32_t b) const { return a == b; }
    bool operator()(uint32_t a, const FlowKey& k) const { return (*slots)[a].key == k; }
    bool operator()(const FlowKey& k, uint32_t a) const { return (*slots)[a].key == k; }
  };

  uint32_t Create(const FlowKey& key, const PacketView& view);
  void Report(Flow& flow, FlowState state);
  void End(uint32_t index, FlowState state);  // final report, then removal
  void Remove(uint32_t index);
  void Unlink(uint32_t index);
  void LinkAtTail(uint32_t index);
  void Parse(Flow& flow, const PacketView& view, bool from_initiator);
  void FinishParsing(Flow& flow, TimeNs now);
  FlowContext ContextOf(const Flow& flow) const;
  // The clinical service on the flow's responder port, else its initiator port, with `weak` lines
  // or without; null when there is none.
  const ClinicalService* ClinicalServiceOf(const Flow& flow, bool weak) const;
  FlowEndpoint Initiator(const Flow& f) const;
  FlowEndpoint Responder(const Flow& f) const;

  FlowTableOptions options_;
  ObservationSink* sink_;
  FactSink* facts_;
  size_t max_flows_;
  size_t max_parsed_flows_;
  size_t parsed_flows_ = 0;
  std::vector<Flow> slots_;
  std::vector<uint32_t> free_;
  absl::flat_hash_set<uint32_t, SlotHash, SlotEq> index_;
  uint32_t lru_head_ = kNone;  // oldest last_seen
  uint32_t lru_tail_ = kNone;
  uint64_t next_id_ = 1;
  FlowTableStats stats_;
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_FLOW_FLOW_TABLE_H_
