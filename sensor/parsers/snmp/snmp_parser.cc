#include "sensor/parsers/snmp/snmp_parser.h"

#include <string>

#include "sensor/decode/packet_view.h"
#include "sensor/parsers/snmp/ber.h"
#include "sensor/parsers/snmp/snmp_message.h"

namespace auscult::sensor::snmp {
namespace {

constexpr std::string_view kProtocol = "snmp";
constexpr uint16_t kAgentPort = 161;
constexpr uint16_t kTrapPort = 162;

// MIB-II system group (RFC 1213 §6.4), instance 0.
constexpr std::string_view kSysDescr = "1.3.6.1.2.1.1.1.0";
constexpr std::string_view kSysObjectId = "1.3.6.1.2.1.1.2.0";
constexpr std::string_view kSysName = "1.3.6.1.2.1.1.5.0";
// snmpTrapEnterprise.0 (RFC 3584 §3.1): a v2 notification's counterpart of the v1 enterprise.
constexpr std::string_view kSnmpTrapEnterprise = "1.3.6.1.6.3.1.1.4.3.0";
// Vendors' subtree (iso.org.dod.internet.private.enterprises). Enterprise OIDs outside it are the
// generic ones (snmpTraps, 1.3.6.1.6.3.1.1.5, for coldStart and linkDown) and name no product.
constexpr std::string_view kEnterprises = "1.3.6.1.4.1.";

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

class Parser : public FlowParser {
 public:
  explicit Parser(const FlowContext& flow) : flow_(flow) {}

  void OnData(Direction direction, std::span<const uint8_t> bytes, TimeNs, ParserOutput& out) override {
    Message m;
    Error error;
    if (!Parse(bytes, m, error)) {
      // v3 is read only to see who the agent is; its variants are not ours to judge.
      if (m.version != 3) out.CountAnomaly(ErrorName(error));
      return;
    }
    out.SetApplication(kProtocol);
    const bool from_initiator = direction == Direction::kToResponder;
    const uint16_t sender_port = from_initiator ? flow_.initiator.port : flow_.responder.port;
    const uint16_t receiver_port = from_initiator ? flow_.responder.port : flow_.initiator.port;

    if (!m.has_pdu) {  // v3, encrypted: only the ports tell who the agent is
      if (sender_port == kAgentPort || receiver_port == kTrapPort) Agent(out, 0.7f);
      return;
    }
    switch (m.pdu_type) {
      case kResponse:
      case kReport:
        // A Response from the trap port acknowledges an InformRequest: that is a manager.
        if (sender_port == kTrapPort) return;
        Agent(out, 0.9f);
        if (m.default_community) Risk(out);
        SystemGroup(m, out, 0.9f);
        return;
      case kTrapV1:
        Agent(out, 0.8f);
        if (m.default_community) Risk(out);
        if (m.enterprise.starts_with(kEnterprises)) {
          out.AddFact(Party::kSender, Fact{Attribute::kSnmpObjectId, m.enterprise, kProtocol, "enterprise", 0.6f});
        }
        SystemGroup(m, out, 0.7f);
        return;
      case kTrapV2:
      case kInformRequest:
        Agent(out, 0.8f);
        if (m.default_community) Risk(out);
        for (const VarBind& b : m.bindings) {
          if (b.name == kSnmpTrapEnterprise && b.value_tag == ber::kObjectIdentifier &&
              b.value.starts_with(kEnterprises)) {
            out.AddFact(Party::kSender, Fact{Attribute::kSnmpObjectId, b.value, kProtocol, "snmpTrapEnterprise", 0.6f});
          }
        }
        SystemGroup(m, out, 0.7f);
        return;
      default:  // requests: the receiver may be an agent, but only its answer shows it
        return;
    }
  }
  void OnGap(Direction, uint64_t, ParserOutput&) override {}
  bool Done() const override { return false; }

 private:
  static void Agent(ParserOutput& out, float confidence) {
    out.AddFact(Party::kSender, Fact{Attribute::kService, "snmp-agent", kProtocol, "pdu", confidence});
  }
  // The agent took a factory-default community (it answered, or it sends traps with it). The
  // string itself is never reported.
  static void Risk(ParserOutput& out) {
    out.AddFact(Party::kSender, Fact{Attribute::kRisk, "snmp_default_community", kProtocol, "community", 0.9f});
  }
  // sysDescr, sysObjectID and sysName as the agent states them about itself.
  static void SystemGroup(const Message& m, ParserOutput& out, float confidence) {
    for (const VarBind& b : m.bindings) {
      if (b.name == kSysDescr && b.value_tag == ber::kOctetString) {
        Add(out, Attribute::kSystemDescription, b.value, "sysDescr", confidence);
      } else if (b.name == kSysObjectId && b.value_tag == ber::kObjectIdentifier) {
        Add(out, Attribute::kSnmpObjectId, b.value, "sysObjectID", confidence);
      } else if (b.name == kSysName && b.value_tag == ber::kOctetString) {
        Add(out, Attribute::kHostname, b.value, "sysName", confidence);
      }
    }
  }
  static void Add(ParserOutput& out, Attribute a, std::string_view value, std::string_view field, float confidence) {
    while (!value.empty() && IsSpace(value.front())) value.remove_prefix(1);
    while (!value.empty() && IsSpace(value.back())) value.remove_suffix(1);
    if (!value.empty()) out.AddFact(Party::kSender, Fact{a, value, kProtocol, field, confidence});
  }

  const FlowContext flow_;
};

class ParserFactoryImpl : public ParserFactory {
 public:
  std::string_view name() const override { return kProtocol; }
  bool Wants(const FlowContext& flow, Direction, std::span<const uint8_t> first) const override {
    if (flow.transport != kIpProtoUdp || first.empty() || first[0] != 0x30) return false;
    return EitherPort(flow, {kAgentPort, kTrapPort});
  }
  std::unique_ptr<FlowParser> Create(const FlowContext& flow) const override { return std::make_unique<Parser>(flow); }
};

}  // namespace

const ParserFactory* Factory() {
  static const ParserFactoryImpl factory;
  return &factory;
}

}  // namespace auscult::sensor::snmp
