#include "sensor/flow/flow_table.h"

#include <algorithm>
#include <array>
#include <string>

#include "sensor/flow/service_ports.h"

namespace auscult::sensor {
namespace {

// Decides whether the sender of a flow's first packet is the initiator. A SYN names the initiator
// exactly; otherwise (a capture that starts mid-conversation, UDP, ICMP) the side talking to a
// service port is the client, and failing that the first sender is.
bool SenderInitiates(const PacketView& v, const ClinicalServices* clinical) {
  if (v.ip_protocol == kIpProtoTcp && (v.tcp_flags & kTcpSyn)) return (v.tcp_flags & kTcpAck) == 0;
  if (v.ip_protocol == kIpProtoIcmp) return v.icmp_type != 0;      // echo reply answers the other side
  if (v.ip_protocol == kIpProtoIcmpv6) return v.icmp_type != 129;  // echo reply
  if (v.ip_protocol == kIpProtoTcp || v.ip_protocol == kIpProtoUdp) {
    const bool src_client = IsClientPort(v.ip_protocol, v.src_port);
    const bool dst_client = IsClientPort(v.ip_protocol, v.dst_port);
    if (src_client != dst_client) return src_client;
    auto service = [&](uint16_t port) {
      if (IsServicePort(v.ip_protocol, port)) return true;
      const ClinicalService* s = clinical != nullptr ? clinical->Find(v.ip_protocol, port) : nullptr;
      return s != nullptr && !s->weak;
    };
    const bool src_service = service(v.src_port);
    const bool dst_service = service(v.dst_port);
    if (src_service && !dst_service) return false;
    if (src_service && dst_service && v.src_port < v.dst_port) return false;
  }
  return true;
}

// A fifth of the memory budget is for parsed flows' reassembly, the rest for the table itself.
constexpr double kReassemblyShare = 0.2;

}  // namespace

struct FlowTable::App {
  struct Reader {
    const ParserFactory* factory;
    std::unique_ptr<FlowParser> parser;
  };
  std::vector<Reader> readers;
  std::unique_ptr<TcpReassembler> streams[2];  // by Direction, TCP only
};

struct FlowTable::Counts {
  std::array<uint32_t, kPhiKinds> phi{};
  std::vector<MessageCountRecord> messages;
};

// What a parser reports: the application name lands on the flow; facts go to the device table,
// about the sender or receiver of the bytes being parsed (by the direction they travel).
class FlowTable::ParserOutputFor : public ParserOutput {
 public:
  ParserOutputFor(const FlowTable& table, Flow& flow, Direction direction, TimeNs now)
      : table_(table), flow_(flow), direction_(direction), now_(now) {}
  void SetApplication(std::string_view name) override { flow_.application = ApplicationId(name); }
  void AddFact(Party party, const Fact& fact) override {
    if (table_.facts_ == nullptr) return;
    const bool initiator = (party == Party::kSender) == (direction_ == Direction::kToResponder);
    const FlowEndpoint e = initiator ? table_.Initiator(flow_) : table_.Responder(flow_);
    const bool known_mac = flow_.has_macs && !e.mac.IsZero();
    table_.facts_->OnFact(known_mac ? &e.mac : nullptr, e.ip, fact, now_);
  }
  void AddFactForMac(const MacAddress& mac, const Fact& fact) override {
    if (table_.facts_ != nullptr) table_.facts_->OnFact(&mac, IpAddress{}, fact, now_);
  }
  void AddFactForAddress(const IpAddress& ip, const Fact& fact) override {
    if (table_.facts_ != nullptr) table_.facts_->OnAddressFact(ip, fact, now_);
  }
  void BindAddress(const MacAddress& mac, const IpAddress& ip, AddressSource source) override {
    if (table_.facts_ != nullptr) table_.facts_->OnBinding(mac, ip, source, now_);
  }
  void CountAnomaly(std::string_view name) override {
    if (table_.facts_ != nullptr) table_.facts_->CountAnomaly(name);
  }
  void MarkClinical() override { flow_.marks |= kMarkClinical; }
  void MarkEncrypted() override { flow_.marks |= kMarkEncrypted; }
  void MarkCleartextCredentials() override { flow_.marks |= kMarkCleartextCredentials; }
  void CountPhi(PhiKind kind) override {
    const int k = static_cast<int>(kind) - 1;
    if (k < 0 || k >= kPhiKinds) return;
    ++Counted().phi[k];
  }
  void CountMessage(std::string_view name, TimeNs response_time) override {
    std::vector<MessageCountRecord>& messages = Counted().messages;
    name = name.substr(0, kMaxMessageName);
    auto it = std::find_if(messages.begin(), messages.end(), [&](const auto& m) { return m.name == name; });
    if (it == messages.end()) {
      // A flow that names ever more message types (a fuzzer, a broken peer) is kept bounded.
      if (messages.size() + 1 >= kMaxMessageNames) name = "other";
      it = std::find_if(messages.begin(), messages.end(), [&](const auto& m) { return m.name == name; });
      if (it == messages.end()) it = messages.insert(messages.end(), MessageCountRecord{std::string(name)});
    }
    ++it->count;
    if (response_time >= 0) {
      const auto us = static_cast<uint64_t>(response_time / 1000);
      it->response_time_sum_us += us;
      it->response_time_max_us = std::max(it->response_time_max_us, us);
    }
  }
  void set_direction(Direction d) { direction_ = d; }

 private:
  const FlowTable& table_;
  Flow& flow_;
  Direction direction_;
  TimeNs now_;

  Counts& Counted() {
    if (flow_.counts == nullptr) flow_.counts = std::make_unique<Counts>();
    return *flow_.counts;
  }
};

size_t FlowTable::BytesPerFlow() {
  // The slot, 4 index bytes plus a control byte at the table's 7/8 maximum load, a free-list entry.
  return sizeof(Flow) + (4 + 1) * 8 / 7 + sizeof(uint32_t);
}

FlowTable::FlowTable(const FlowTableOptions& options, ObservationSink* sink, FactSink* facts)
    : options_(options), sink_(sink), facts_(facts), index_(0, SlotHash{&slots_}, SlotEq{&slots_}) {
  const double budget = static_cast<double>(options_.max_memory_mb) * 1024 * 1024;
  max_flows_ = std::max<size_t>(
      1, std::min(options_.max_flows, static_cast<size_t>(budget * (1 - kReassemblyShare) / BytesPerFlow())));
  // A parsed TCP flow may hold the out-of-order limit in each direction.
  const double per_parsed = 2.0 * options_.max_out_of_order_bytes + 1024;
  max_parsed_flows_ = static_cast<size_t>(budget * kReassemblyShare / per_parsed);
  index_.reserve(std::min<size_t>(max_flows_, 65536));
}

FlowTable::~FlowTable() = default;

FlowEndpoint FlowTable::Initiator(const Flow& f) const {
  return f.a_initiates ? FlowEndpoint{f.initiator_mac, f.key.a_ip, f.key.a_port}
                       : FlowEndpoint{f.initiator_mac, f.key.b_ip, f.key.b_port};
}
FlowEndpoint FlowTable::Responder(const Flow& f) const {
  return f.a_initiates ? FlowEndpoint{f.responder_mac, f.key.b_ip, f.key.b_port}
                       : FlowEndpoint{f.responder_mac, f.key.a_ip, f.key.a_port};
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
    idx = *it;
    Unlink(idx);
  } else {
    idx = Create(key, v);
  }
  LinkAtTail(idx);
  Flow& f = slots_[idx];
  f.last_seen = v.timestamp > f.last_seen ? v.timestamp : f.last_seen;
  // The sender is the initiator when it is the initiating endpoint (a flow to itself counts as such).
  const bool from_initiator = src_is_a == f.a_initiates || (key.a_ip == key.b_ip && key.a_port == key.b_port);
  PacketByteCount& c = from_initiator ? f.to_responder : f.to_initiator;
  ++c.packets;
  c.bytes += v.wire_length;
  if (v.ip_protocol == kIpProtoTcp) {
    (from_initiator ? f.flags_initiator : f.flags_responder) |= v.tcp_flags;
    if (v.tcp_flags & (kTcpFin | kTcpRst)) f.closed = true;
  }
  // The first packet named the peer's MAC only as a destination; each side's own frames are proof.
  if (f.has_macs) (from_initiator ? f.initiator_mac : f.responder_mac) = v.src_mac;
  if ((f.app != nullptr || !f.app_decided) && !options_.parsers.empty()) Parse(f, v, from_initiator);
  if (v.timestamp - f.last_report >= options_.active_timeout) Report(f, FlowState::kActive);
}

const ClinicalService* FlowTable::ClinicalServiceOf(const Flow& f, bool weak) const {
  const ClinicalServices* table = options_.clinical_services;
  if (table == nullptr) return nullptr;
  for (uint16_t port : {Responder(f).port, Initiator(f).port}) {
    const ClinicalService* s = table->Find(f.key.protocol, port);
    if (s != nullptr && s->weak == weak) return s;
  }
  return nullptr;
}

FlowContext FlowTable::ContextOf(const Flow& f) const {
  return FlowContext{f.id, f.key.protocol, Initiator(f), Responder(f), f.key.vlan};
}

// The lambdas handed to the reassembler capture one pointer, so std::function keeps them in place:
// no allocation per segment.
struct FlowTable::Delivery {
  App* app;
  Direction dir;
  ParserOutputFor* out;

  void Data(std::span<const uint8_t> bytes, TimeNs ts) const {
    for (auto& r : app->readers) {
      if (!r.parser->Done()) r.parser->OnData(dir, bytes, ts, *out);
    }
  }
  void Gap(uint64_t bytes) const {
    for (auto& r : app->readers) {
      if (!r.parser->Done()) r.parser->OnGap(dir, bytes, *out);
    }
  }
  TcpReassembler::Sink Sink() const {
    return {[this](std::span<const uint8_t> bytes, TimeNs ts) { Data(bytes, ts); },
            [this](uint64_t bytes) { Gap(bytes); }};
  }
};

// Offers the flow to the parsers on its first payload, then feeds those that took it.
void FlowTable::Parse(Flow& f, const PacketView& v, bool from_initiator) {
  const bool tcp = v.ip_protocol == kIpProtoTcp;
  if (v.payload.empty() && !(tcp && f.app != nullptr && (v.tcp_flags & kTcpSyn))) return;
  if (!tcp && v.ip_protocol != kIpProtoUdp) {
    f.app_decided = true;
    return;
  }
  const Direction dir = from_initiator ? Direction::kToResponder : Direction::kToInitiator;
  if (!f.app_decided) {
    f.app_decided = true;
    const FlowContext context = ContextOf(f);
    for (const ParserFactory* factory : options_.parsers) {
      if (!factory->Wants(context, dir, v.payload)) continue;
      if (f.app == nullptr) {
        if (parsed_flows_ >= max_parsed_flows_) {
          ++stats_.parsers_skipped_for_memory;
          return;
        }
        f.app = std::make_unique<App>();
        ++parsed_flows_;
        ++stats_.flows_parsed;
      }
      f.app->readers.push_back({factory, factory->Create(context)});
    }
    if (f.app == nullptr) return;
    if (tcp) {
      uint64_t budget = 0;
      for (const auto& r : f.app->readers) budget = std::max(budget, r.factory->byte_budget());
      for (auto& s : f.app->streams) s = std::make_unique<TcpReassembler>(options_.max_out_of_order_bytes, budget);
    }
  }
  ParserOutputFor out(*this, f, dir, v.timestamp);
  App& app = *f.app;
  const Delivery delivery{&app, dir, &out};
  if (!tcp) {
    delivery.Data(v.payload, v.timestamp);
  } else {
    TcpReassembler& stream = *app.streams[static_cast<int>(dir)];
    const uint64_t gaps_before = stream.gaps();
    stream.Segment(v.tcp_seq, v.tcp_flags, v.payload, v.timestamp, delivery.Sink());
    stats_.reassembly_gaps += stream.gaps() - gaps_before;
  }
  // Parsers that are done release the flow's reassembly memory.
  if (std::all_of(app.readers.begin(), app.readers.end(), [](const App::Reader& r) { return r.parser->Done(); })) {
    f.app.reset();
    --parsed_flows_;
  }
}

// The flow ended: what still waits behind a hole in either direction goes to the parsers, after
// the gap is reported; then the parsers that are not done hear of the end.
void FlowTable::FinishParsing(Flow& f, TimeNs now) {
  ParserOutputFor out(*this, f, Direction::kToResponder, now);
  for (int d = 0; d < 2; ++d) {
    if (f.app->streams[d] == nullptr) continue;
    const Direction dir = static_cast<Direction>(d);
    out.set_direction(dir);
    const uint64_t gaps_before = f.app->streams[d]->gaps();
    const Delivery delivery{f.app.get(), dir, &out};
    f.app->streams[d]->Flush(delivery.Sink());
    stats_.reassembly_gaps += f.app->streams[d]->gaps() - gaps_before;
  }
  out.set_direction(Direction::kToResponder);
  for (auto& r : f.app->readers) {
    if (!r.parser->Done()) r.parser->OnEnd(out);
  }
}

uint32_t FlowTable::Create(const FlowKey& key, const PacketView& v) {
  if (index_.size() >= max_flows_ && lru_head_ != kNone) {
    // At the cap: the least recently seen flow makes room (a scan's one-packet flows go first).
    ++stats_.flows_evicted;
    End(lru_head_, FlowState::kEvicted);
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
  const bool sender_initiates = SenderInitiates(v, options_.clinical_services);
  const uint16_t sport = v.has_transport ? v.src_port : 0;
  const bool sender_is_a = key.a_ip == v.src_ip && key.a_port == sport;
  f.a_initiates = sender_initiates == sender_is_a;
  f.has_macs = v.has_mac;
  const MacAddress receiver_mac = v.has_dst_mac ? v.dst_mac : MacAddress{};
  f.initiator_mac = sender_initiates ? v.src_mac : receiver_mac;
  f.responder_mac = sender_initiates ? receiver_mac : v.src_mac;
  // The application by the port: the responder's port decides first (a clinical services line,
  // else the built-in table), the initiator's only when it names nothing, since an initiator's
  // ephemeral port can happen to be a clinical one (2575, 2762, 4242 lie in the range older
  // stacks use); a weak line only when nothing else names the flow.
  auto tags = [](const ClinicalService& s) {
    return static_cast<uint8_t>((s.clinical ? kMarkClinical : 0) | (s.encrypted ? kMarkEncrypted : 0));
  };
  const ClinicalServices* table = options_.clinical_services;
  auto strong = [&](uint16_t port) -> const ClinicalService* {
    const ClinicalService* s = table != nullptr ? table->Find(key.protocol, port) : nullptr;
    return s != nullptr && !s->weak ? s : nullptr;
  };
  bool named = false;
  for (uint16_t port : {Responder(f).port, Initiator(f).port}) {
    if (const ClinicalService* s = strong(port)) {
      f.application = s->application_id;
      f.marks |= tags(*s);
      named = true;
      break;
    }
    if (const std::string_view app = ServiceForPort(key.protocol, port); !app.empty()) {
      f.application = ApplicationId(app);
      named = true;
      break;
    }
  }
  if (!named) {
    f.application = 0;
    if (const ClinicalService* weak = ClinicalServiceOf(f, true)) {
      f.application = weak->application_id;
      f.marks |= kMarkByWeakPort;
    }
  }
  f.first_seen = v.timestamp;
  f.last_seen = v.timestamp;
  f.last_report = v.timestamp;
  index_.insert(idx);
  ++stats_.flows_created;
  stats_.flows_active = index_.size();
  return idx;
}

void FlowTable::Report(Flow& f, FlowState state) {
  FlowRecord r;
  r.flow_id = f.id;
  r.has_macs = f.has_macs;
  r.initiator = Initiator(f);
  r.responder = Responder(f);
  r.transport = f.key.protocol;
  r.application = ApplicationName(f.application);
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
  uint8_t marks = f.marks;
  if (marks & kMarkByWeakPort) {
    // A weak line's tags hold while no parser has named the flow otherwise.
    const ClinicalService* weak = ClinicalServiceOf(f, true);
    if (weak != nullptr && weak->application_id == f.application) {
      marks |= (weak->clinical ? kMarkClinical : 0) | (weak->encrypted ? kMarkEncrypted : 0);
    }
  }
  r.clinical = (marks & kMarkClinical) != 0;
  r.encrypted = (marks & kMarkEncrypted) != 0;
  r.cleartext_credentials = (marks & kMarkCleartextCredentials) != 0;
  if (f.counts != nullptr) {
    r.phi = f.counts->phi;
    r.messages = std::move(f.counts->messages);
    f.counts.reset();
  }
  // An active report with nothing new since the last one carries no information.
  if (state != FlowState::kActive || r.to_responder.packets + r.to_initiator.packets > 0) sink_->OnFlow(r);
  f.to_responder = {};
  f.to_initiator = {};
  f.last_report = f.last_seen;
}

void FlowTable::Expire(TimeNs now) {
  while (lru_head_ != kNone && now - slots_[lru_head_].last_seen >= options_.idle_timeout) {
    End(lru_head_, FlowState::kIdleTimeout);
  }
}

void FlowTable::Flush() {
  while (lru_head_ != kNone) {
    End(lru_head_, FlowState::kCaptureEnd);
  }
}

// The flow's parsers get what waits behind holes first, so that what they find still makes its last report.
void FlowTable::End(uint32_t idx, FlowState state) {
  Flow& f = slots_[idx];
  if (f.app != nullptr) {
    FinishParsing(f, f.last_seen);
    f.app.reset();
    --parsed_flows_;
  }
  Report(f, state);
  Remove(idx);
}

void FlowTable::Remove(uint32_t idx) {
  Unlink(idx);
  index_.erase(idx);
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
