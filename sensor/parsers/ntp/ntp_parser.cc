#include "sensor/parsers/ntp/ntp_parser.h"

#include <string>

#include "sensor/decode/packet_view.h"
#include "sensor/parsers/ntp/ntp_message.h"

namespace auscult::sensor::ntp {
namespace {

constexpr std::string_view kProtocol = "ntp";
constexpr uint16_t kPort = 123;
constexpr int kMaxDatagrams = 16;  // the roles show in the first exchange

enum Mode : uint8_t {
  kSymmetricActive = 1,
  kSymmetricPassive = 2,
  kClient = 3,
  kServer = 4,
  kBroadcast = 5,
  kControl = 6,
  kPrivate = 7,
};

class Parser : public FlowParser {
 public:
  explicit Parser(const FlowContext& flow) : flow_(flow) {}

  void OnData(Direction d, std::span<const uint8_t> bytes, TimeNs, ParserOutput& out) override {
    if (++datagrams_ >= kMaxDatagrams) done_ = true;
    Message m;
    Error error;
    if (!Parse(bytes, m, error)) {
      out.CountAnomaly(ErrorName(error));
      return;
    }
    out.SetApplication(kProtocol);
    const bool from_initiator = d == Direction::kToResponder;
    const FlowEndpoint& sender = from_initiator ? flow_.initiator : flow_.responder;
    const FlowEndpoint& receiver = from_initiator ? flow_.responder : flow_.initiator;
    uint8_t mode = m.mode;
    if (mode == 0 && m.version == 1) {  // NTPv1 has no mode: a request goes to port 123 from another
      if (receiver.port == kPort && sender.port != kPort) mode = kClient;
      if (sender.port == kPort && receiver.port != kPort) mode = kServer;
    }
    switch (mode) {
      case kClient:
        // The client takes its time from the receiver, which (if it answers) serves time.
        TimeSource(receiver, out, "mode3", 0.8f);
        out.AddFact(Party::kReceiver, Fact{Attribute::kService, "ntp-server", kProtocol, "mode3", 0.5f});
        break;
      case kSymmetricActive:
        // A configured peer (ntpd's "peer"): a time source the sender may follow.
        TimeSource(receiver, out, "mode1", 0.6f);
        break;
      case kServer:
        Serves(out, "mode4", 0.9f);
        break;
      case kSymmetricPassive:
        Serves(out, "mode2", 0.7f);
        break;
      case kBroadcast:
        Serves(out, "mode5", 0.8f);
        break;
      case kControl:
        if (m.response && m.error == 0) {
          Serves(out, "mode6", 0.8f);
          out.AddFact(Party::kSender, Fact{Attribute::kRisk, "ntp_mode6_control_exposed", kProtocol, "mode6", 0.9f});
        }
        break;
      case kPrivate:
        if (m.response && m.error == 0) {
          Serves(out, "mode7", 0.8f);
          out.AddFact(Party::kSender, Fact{Attribute::kRisk, "ntp_mode7_monlist_exposed", kProtocol, "mode7", 0.9f});
        }
        break;
      default:
        break;
    }
  }
  void OnGap(Direction, uint64_t, ParserOutput&) override {}
  bool Done() const override { return done_; }

 private:
  // The sender takes its time from `server` (by address: that is what its configuration names).
  static void TimeSource(const FlowEndpoint& server, ParserOutput& out, std::string_view field, float confidence) {
    // Manycast and broadcast clients ask a group, not a server.
    if (server.ip.IsMulticast() || server.ip.IsLimitedBroadcast() || server.ip.IsUnspecified()) return;
    const std::string address = server.ip.ToString();
    out.AddFact(Party::kSender, Fact{Attribute::kNtpServer, address, kProtocol, field, confidence});
  }
  static void Serves(ParserOutput& out, std::string_view field, float confidence) {
    out.AddFact(Party::kSender, Fact{Attribute::kService, "ntp-server", kProtocol, field, confidence});
  }

  const FlowContext flow_;
  int datagrams_ = 0;
  bool done_ = false;
};

class ParserFactoryImpl : public ParserFactory {
 public:
  std::string_view name() const override { return kProtocol; }
  bool Wants(const FlowContext& flow, Direction, std::span<const uint8_t>) const override {
    return flow.transport == kIpProtoUdp && EitherPort(flow, {kPort});
  }
  std::unique_ptr<FlowParser> Create(const FlowContext& flow) const override { return std::make_unique<Parser>(flow); }
};

}  // namespace

const ParserFactory* Factory() {
  static const ParserFactoryImpl factory;
  return &factory;
}

}  // namespace auscult::sensor::ntp
