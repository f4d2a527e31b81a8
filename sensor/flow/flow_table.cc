#include "sensor/flow/flow_table.h"

#include "sensor/flow/service_ports.h"

namespace auscult::sensor {
namespace {

// Decides whether the sender of a flow's first packet is the initiator. A SYN names the initiator
// exactly; otherwise (a capture that starts mid-conversation, UDP, ICMP) the side talking to a
// service port is the client, and failing that the first sender is.
bool SenderInitiates(const PacketView& v) {
  if (v.ip_protocol == kIpProtoTcp && (v.tcp_flags & kTcpSyn)) return (v.tcp_flags & kTcpAck) == 0;
  if (v.ip_protocol == kIpProtoIcmp) return v.icmp_type != 0;      // echo reply answers the other side
  if (v.ip_protocol == kIpProtoIcmpv6) return v.icmp_type != 129;  // echo reply
  if (v.ip_protocol == kIpProtoTcp || v.ip_protocol == kIpProtoUdp) {
    const bool src_service = IsServicePort(v.ip_protocol, v.src_port);
    const bool dst_service = IsServicePort(v.ip_protocol, v.dst_port);
    if (src_service && !dst_service) return false;
    if (src_service && dst_service && v.src_port < v.dst_port) return false;
  }
  return true;
}

}  // namespace

FlowTable::FlowTable(const FlowTableOptions& options, ObservationSink* sink) : options_(options), sink_(sink) {
  index_.reserve(std::min<size_t>(options_.max_flows, 65536));
}

void FlowTable::Update(const PacketView& v) {
  const uint16_t sport = v.has_transport ? v.src_port : 0;
  const uint16_t dport = v.has_transport ? v.dst_port : 0;
  FlowKey key;
  const bool src_is_a = std::tie(v.src_ip, sport) <= std::tie(v.dst_ip, dport);
  key.a_ip = src_is_a ? v.src_ip : v.dst_ip;
  key.b_ip = src_is_a ? v.dst_ip : v.src_ip;
  key.a_port = src_is_a ? sport : dport;
  key.b_port = src_is_a ? dport : sport;
  key.vlan = v.vlan_outer;
  key.inner_vlan = v.vlan_inner;
  key.protocol = v.ip_protocol;

  uint32_t idx;
  if (auto it = index_.find(key); it != index_.end()) {
    idx = it->second;
    Unlink(idx);
  } else {
    idx = Create(key, v);
  }
  LinkAtTail(idx);
  Flow& f = slots_[idx];
  f.last_seen = v.timestamp > f.last_seen ? v.timestamp : f.last_seen;
  const bool from_initiator = f.initiator.ip == v.src_ip && f.initiator.port == sport;
  PacketByteCount& c = from_initiator ? f.to_responder : f.to_initiator;
  ++c.packets;
  c.bytes += v.wire_length;
  if (v.ip_protocol == kIpProtoTcp) {
    (from_initiator ? f.flags_initiator : f.flags_responder) |= v.tcp_flags;
    if (v.tcp_flags & (kTcpFin | kTcpRst)) f.closed = true;
  }
  // The first packet named the peer's MAC only as a destination; each side's own frames are proof.
  if (f.has_macs) (from_initiator ? f.initiator.mac : f.responder.mac) = v.src_mac;
  if (v.timestamp - f.last_report >= options_.active_timeout) Report(f, FlowState::kActive);
}

uint32_t FlowTable::Create(const FlowKey& key, const PacketView& v) {
  if (index_.size() >= options_.max_flows && lru_head_ != kNone) {
    // At the cap: the least recently seen flow makes room (a scan's one-packet flows go first).
    Report(slots_[lru_head_], FlowState::kEvicted);
    ++stats_.flows_evicted;
    Remove(lru_head_);
  }
  uint32_t idx;
  if (!free_.empty()) {
    idx = free_.back();
    free_.pop_back();
    slots_[idx] = Flow{};
  } else {
    idx = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Flow& f = slots_[idx];
  f.id = next_id_++;
  f.key = key;
  const bool sender_initiates = SenderInitiates(v);
  const uint16_t sport = v.has_transport ? v.src_port : 0;
  const uint16_t dport = v.has_transport ? v.dst_port : 0;
  FlowEndpoint sender{v.src_mac, v.src_ip, sport};
  FlowEndpoint receiver{v.has_dst_mac ? v.dst_mac : MacAddress{}, v.dst_ip, dport};
  f.initiator = sender_initiates ? sender : receiver;
  f.responder = sender_initiates ? receiver : sender;
  f.has_macs = v.has_mac;
  f.application = ServiceForPort(key.protocol, f.responder.port);
  if (f.application.empty()) f.application = ServiceForPort(key.protocol, f.initiator.port);
  f.first_seen = v.timestamp;
  f.last_seen = v.timestamp;
  f.last_report = v.timestamp;
  index_.emplace(key, idx);
  ++stats_.flows_created;
  stats_.flows_active = index_.size();
  return idx;
}

void FlowTable::Report(Flow& f, FlowState state) {
  FlowRecord r;
  r.flow_id = f.id;
  r.has_macs = f.has_macs;
  r.initiator = f.initiator;
  r.responder = f.responder;
  r.transport = f.key.protocol;
  r.application = f.application;
  r.vlan = f.key.vlan;
  r.inner_vlan = f.key.inner_vlan;
  r.to_responder = f.to_responder;
  r.to_initiator = f.to_initiator;
  r.first_seen = f.first_seen;
  r.last_seen = f.last_seen;
  // A flow that saw FIN or RST ended by closing, whenever its end is noticed.
  r.state =
      (f.closed && (state == FlowState::kIdleTimeout || state == FlowState::kCaptureEnd)) ? FlowState::kClosed : state;
  r.tcp_flags_initiator = f.flags_initiator;
  r.tcp_flags_responder = f.flags_responder;
  // An active report with nothing new since the last one carries no information.
  if (state != FlowState::kActive || r.to_responder.packets + r.to_initiator.packets > 0) sink_->OnFlow(r);
  f.to_responder = {};
  f.to_initiator = {};
  f.last_report = f.last_seen;
}

void FlowTable::Expire(TimeNs now) {
  while (lru_head_ != kNone && now - slots_[lru_head_].last_seen >= options_.idle_timeout) {
    Report(slots_[lru_head_], FlowState::kIdleTimeout);
    Remove(lru_head_);
  }
}

void FlowTable::Flush() {
  while (lru_head_ != kNone) {
    Report(slots_[lru_head_], FlowState::kCaptureEnd);
    Remove(lru_head_);
  }
}

void FlowTable::Remove(uint32_t idx) {
  Unlink(idx);
  index_.erase(slots_[idx].key);
  free_.push_back(idx);
  stats_.flows_active = index_.size();
}

void FlowTable::Unlink(uint32_t idx) {
  Flow& f = slots_[idx];
  if (f.prev != kNone) {
    slots_[f.prev].next = f.next;
  } else {
    lru_head_ = f.next;
  }
  if (f.next != kNone) {
    slots_[f.next].prev = f.prev;
  } else {
    lru_tail_ = f.prev;
  }
  f.prev = f.next = kNone;
}

void FlowTable::LinkAtTail(uint32_t idx) {
  Flow& f = slots_[idx];
  f.prev = lru_tail_;
  f.next = kNone;
  if (lru_tail_ != kNone) {
    slots_[lru_tail_].next = idx;
  } else {
    lru_head_ = idx;
  }
  lru_tail_ = idx;
}

}  // namespace auscult::sensor
