#include "sensor/parsers/ssdp/ssdp_parser.h"

#include "sensor/decode/packet_view.h"
#include "sensor/parsers/ssdp/ssdp_message.h"

namespace auscult::sensor::ssdp {
namespace {

constexpr std::string_view kProtocol = "ssdp";
constexpr uint16_t kPort = 1900;
// A device announces each of its devices and services two or three times per round (§1.2.2), so
// one round of a large device is some dozens of datagrams; after that it only repeats itself.
constexpr int kMaxMessages = 64;

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
    out.SetApplication(kProtocol);
    auto about_sender = [&](Attribute a, std::string_view value, std::string_view field, float confidence) {
      if (!value.empty()) out.AddFact(Party::kSender, Fact{a, value, kProtocol, field, confidence});
    };
    about_sender(Attribute::kServerSoftware, m.server, "server", 0.8f);
    about_sender(Attribute::kUserAgent, m.user_agent, "user_agent", 0.7f);
    about_sender(Attribute::kUserAgent, m.x_user_agent, "x_user_agent", 0.7f);
    about_sender(Attribute::kService, m.device_or_service_type, m.kind == Message::Kind::kNotify ? "nt" : "st", 0.8f);
    if (m.kind == Message::Kind::kNotify && !m.has_nt) out.CountAnomaly("ssdp_notify_without_nt");
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
    return flow.transport == kIpProtoUdp && EitherPort(flow, {kPort}) && LooksLikeSsdp(first);
  }
  std::unique_ptr<FlowParser> Create(const FlowContext&) const override { return std::make_unique<Parser>(); }
};

}  // namespace

const ParserFactory* Factory() {
  static const ParserFactoryImpl factory;
  return &factory;
}

}  // namespace auscult::sensor::ssdp
