#include "sensor/parsers/wsd/wsd_parser.h"

#include "sensor/decode/packet_view.h"
#include "sensor/parsers/wsd/wsd_message.h"

namespace auscult::sensor::wsd {
namespace {

constexpr std::string_view kProtocol = "ws_discovery";
// The flow's application name, as the port table already calls it.
constexpr std::string_view kApplication = "ws-discovery";
constexpr uint16_t kPort = 3702;
// SOAP-over-UDP repeats each multicast message up to four times (MULTICAST_UDP_REPEAT, §3.4);
// a device says what it is in its first Hello or match.
constexpr int kMaxMessages = 32;

class Parser : public FlowParser {
 public:
  void OnData(Direction, std::span<const uint8_t> bytes, TimeNs, ParserOutput& out) override {
    ++messages_;
    Message m;
    Error error;
    if (!Parse(bytes, m, error)) {
      out.CountAnomaly(ErrorName(error));
      return;
    }
    out.SetApplication(kApplication);
    auto about_sender = [&](Attribute a, std::string_view value, std::string_view field, float confidence) {
      if (!value.empty()) out.AddFact(Party::kSender, Fact{a, value, kProtocol, field, confidence});
    };
    // IEEE 11073 SDC: a medical device announcing itself, or a consumer looking for one. A patient's
    // identifier in the scopes (of any message: a Probe may look for a patient's devices) is
    // counted, never kept.
    const Sdc sdc = ReadSdc(m);
    if (sdc.medical_device || sdc.patient) out.MarkClinical();
    if (sdc.patient) out.CountPhi(PhiKind::kDemographics);
    if (sdc.medical_device && m.kind == Message::Kind::kProbe) {
      about_sender(Attribute::kClinicalRole, "sdc-consumer", sdc.evidence, 0.6f);
    }
    // A Probe's types and scopes are what the prober looks for, not what it is.
    if (!m.AboutSender()) return;
    if (sdc.medical_device) about_sender(Attribute::kClinicalRole, "sdc-medical-device", sdc.evidence, 0.9f);
    for (const std::string& type : m.types) about_sender(Attribute::kService, type, "types", 0.8f);
    for (const std::string& scope : m.scopes) {
      const OnvifScope s = ParseOnvifScope(scope);
      if (s.key == "hardware") about_sender(Attribute::kModel, s.value, "scopes", 0.8f);
      if (s.key == "type") about_sender(Attribute::kDeviceType, s.value, "scopes", 0.6f);
      // "name" is whatever the installer called the camera (or the vendor's default): neither a
      // host name nor reliably a vendor, so it is left out.
    }
  }
  void OnGap(Direction, uint64_t, ParserOutput&) override {}
  bool Done() const override { return messages_ >= kMaxMessages; }

 private:
  int messages_ = 0;
};

class ParserFactoryImpl : public ParserFactory {
 public:
  std::string_view name() const override { return kProtocol; }
  bool Wants(const FlowContext& flow, Direction, std::span<const uint8_t> first) const override {
    return flow.transport == kIpProtoUdp && EitherPort(flow, {kPort}) && LooksLikeXml(first);
  }
  std::unique_ptr<FlowParser> Create(const FlowContext&) const override { return std::make_unique<Parser>(); }
};

}  // namespace

const ParserFactory* Factory() {
  static const ParserFactoryImpl factory;
  return &factory;
}

}  // namespace auscult::sensor::wsd
