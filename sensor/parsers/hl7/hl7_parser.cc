#include "sensor/parsers/hl7/hl7_parser.h"

#include <deque>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "sensor/decode/packet_view.h"
#include "sensor/parsers/hl7/hl7_message.h"

namespace auscult::sensor::hl7 {
namespace {

constexpr std::string_view kProtocol = "hl7";
constexpr uint16_t kIanaPort = 2575;
// What is kept of one message: MSH, MSA and the segments that follow. An ORU carrying an embedded
// PDF can be megabytes; its OBX-18 may then be beyond reach (counted as hl7_message_truncated).
constexpr size_t kMaxMessage = 64 * 1024;
// Messages awaiting their acknowledgment, per direction. A sender that is never acknowledged does
// not grow the list past this; the oldest is forgotten first.
constexpr size_t kMaxPending = 256;
constexpr size_t kMaxControlId = 64;
constexpr size_t kMaxValue = 256;
// Interface connections live for days and carry millions of messages: read them all (in-order
// bytes pass through; only out-of-order bytes are ever held).
constexpr uint64_t kByteBudget = UINT64_MAX;

// An MSH value fit to report: non-empty, printable ASCII, not absurdly long.
bool Reportable(std::string_view v) {
  if (v.empty() || v.size() > kMaxValue) return false;
  for (char c : v) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// A message type as a message name: "ADT^A01", letters, digits, '_' and the component separator.
bool NameLike(std::string_view v) {
  if (v.empty() || v.size() > 16) return false;
  for (char c : v) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '^')) {
      return false;
    }
  }
  return true;
}

class Parser : public FlowParser {
 public:
  void OnData(Direction d, std::span<const uint8_t> bytes, TimeNs timestamp, ParserOutput& out) override {
    Deframer& deframer = deframers_[static_cast<int>(d)];
    const uint64_t stray = deframer.stray_bytes(), abandoned = deframer.abandoned();
    deframer.Feed(bytes, [&](std::string_view message, bool truncated) {
      if (truncated) out.CountAnomaly("hl7_message_truncated");
      OnMessage(d, message, timestamp, out);
    });
    if (deframer.stray_bytes() > stray && !stray_reported_[static_cast<int>(d)]) {
      stray_reported_[static_cast<int>(d)] = true;  // once per direction: a chatty peer is one finding
      out.CountAnomaly("hl7_bytes_outside_frames");
    }
    if (deframer.abandoned() > abandoned) out.CountAnomaly("hl7_message_abandoned");
  }

  void OnGap(Direction d, uint64_t, ParserOutput& out) override {
    Deframer& deframer = deframers_[static_cast<int>(d)];
    const uint64_t abandoned = deframer.abandoned();
    deframer.Gap();
    if (deframer.abandoned() > abandoned) out.CountAnomaly("hl7_message_abandoned");
  }

  bool Done() const override { return false; }

 private:
  struct Pending {
    std::string control_id;
    TimeNs sent;
  };

  void OnMessage(Direction d, std::string_view text, TimeNs timestamp, ParserOutput& out) {
    Message m;
    Error error;
    if (!Parse(text, m, error)) {
      out.CountAnomaly(ErrorName(error));
      return;
    }
    if (!seen_) {
      seen_ = true;
      out.SetApplication(kProtocol);
      out.MarkClinical();
    }
    const bool ack = !m.ack_code.empty();
    ReportParties(m, ack, out);
    for (int k = 0; k < kPhiKinds; ++k) {
      if (m.phi_segments[k] > 0) out.CountPhi(static_cast<PhiKind>(k + 1));
    }
    const int side = static_cast<int>(d);
    if (ack) {
      // The acknowledgment answers a message that went the other way.
      TimeNs response_time = -1;
      std::deque<Pending>& waiting = pending_[1 - side];
      for (auto it = waiting.begin(); it != waiting.end(); ++it) {
        if (it->control_id == m.ack_control_id) {
          response_time = std::max<TimeNs>(0, timestamp - it->sent);
          waiting.erase(it);
          break;
        }
      }
      // An acknowledgment proper ("ACK AA"), or a response that carries one ("RSP^K22 AA").
      const bool code_ok = m.ack_code.size() == 2 && NameLike(m.ack_code);
      const std::string_view type =
          m.message_type.starts_with("ACK") || !NameLike(m.message_type) ? std::string_view("ACK") : m.message_type;
      out.CountMessage(absl::StrCat(AsAbsl(type), " ", code_ok ? AsAbsl(m.ack_code) : "?"), response_time);
      return;
    }
    out.CountMessage(NameLike(m.message_type) ? m.message_type : std::string_view("other"));
    if (!m.control_id.empty() && m.control_id.size() <= kMaxControlId) {
      std::deque<Pending>& waiting = pending_[side];
      if (waiting.size() >= kMaxPending) waiting.pop_front();
      waiting.push_back({std::string(m.control_id), timestamp});
    }
  }

  // What the message says of its sender and its receiver.
  void ReportParties(const Message& m, bool ack, ParserOutput& out) {
    auto fact = [&](Party party, Attribute attribute, std::string_view value, std::string_view field,
                    float confidence) {
      if (Reportable(value)) out.AddFact(party, Fact{attribute, value, kProtocol, field, confidence});
    };
    // The sender names itself; the receiver is named by the sender, who may address an interface
    // engine that routes on for the application named: less sure.
    fact(Party::kSender, Attribute::kHl7Application, m.sending_application, "msh-3", 0.9f);
    fact(Party::kSender, Attribute::kHl7Facility, m.sending_facility, "msh-4", 0.8f);
    fact(Party::kReceiver, Attribute::kHl7Application, m.receiving_application, "msh-5", 0.6f);
    fact(Party::kReceiver, Attribute::kHl7Facility, m.receiving_facility, "msh-6", 0.5f);
    if (NameLike(m.message_type)) fact(Party::kSender, Attribute::kHl7MessageType, m.message_type, "msh-9", 0.9f);
    fact(Party::kSender, Attribute::kHl7Version, m.version, "msh-12", 0.9f);
    if (!ack) {
      fact(Party::kSender, Attribute::kClinicalRole, "hl7-sender", "msh", 0.9f);
      fact(Party::kReceiver, Attribute::kClinicalRole, "hl7-receiver", "msh", 0.9f);
    }
    // The equipment behind a device gateway's observations: an EUI-64 or a model (OBX-18).
    for (std::string_view equipment : m.equipment) {
      fact(Party::kSender, Attribute::kEquipmentId, equipment, "obx-18", 0.8f);
    }
  }

  Deframer deframers_[2] = {Deframer(kMaxMessage), Deframer(kMaxMessage)};
  std::deque<Pending> pending_[2];  // messages sent in each direction, awaiting acknowledgment
  bool stray_reported_[2] = {false, false};
  bool seen_ = false;
};

class ParserFactoryImpl : public ParserFactory {
 public:
  std::string_view name() const override { return kProtocol; }
  // An MLLP frame with MSH on any port; on 2575 any start block (a capture may begin between messages).
  bool Wants(const FlowContext& flow, Direction, std::span<const uint8_t> first) const override {
    if (flow.transport != kIpProtoTcp) return false;
    if (LooksLikeMllp(first)) return true;
    return EitherPort(flow, {kIanaPort}) && !first.empty() && first[0] == kStartBlock;
  }
  std::unique_ptr<FlowParser> Create(const FlowContext&) const override { return std::make_unique<Parser>(); }
  uint64_t byte_budget() const override { return kByteBudget; }
};

}  // namespace

const ParserFactory* Factory() {
  static const ParserFactoryImpl factory;
  return &factory;
}

}  // namespace auscult::sensor::hl7
