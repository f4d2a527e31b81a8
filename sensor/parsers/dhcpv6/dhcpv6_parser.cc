#include "sensor/parsers/dhcpv6/dhcpv6_parser.h"

#include "sensor/decode/packet_view.h"
#include "sensor/parsers/dhcpv6/dhcpv6_message.h"

namespace auscult::sensor::dhcpv6 {
namespace {

constexpr std::string_view kProtocol = "dhcpv6";

class Parser : public FlowParser {
 public:
  explicit Parser(const FlowContext& flow) : flow_(flow) {}

  void OnData(Direction direction, std::span<const uint8_t> bytes, TimeNs, ParserOutput& out) override {
    Message m;
    Error error;
    if (!Parse(bytes, m, error)) {
      out.CountAnomaly(ErrorName(error));
      return;
    }
    out.SetApplication(kProtocol);
    if (m.user_class_unframed) out.CountAnomaly("dhcpv6_user_class_unframed");
    const bool relayed = m.relay_depth > 0;
    if (IsClientMessage(m.type)) {
      ClientFacts(m, relayed, out);
      if (relayed) out.AddFact(Party::kSender, Fact{Attribute::kService, "dhcpv6-relay", kProtocol, "msg_type", 0.8f});
    } else if (IsServerMessage(m.type)) {
      // Direct or in a RELAY-REPL to the relay, the sender is the server.
      out.AddFact(Party::kSender, Fact{Attribute::kService, "dhcpv6-server", kProtocol, "msg_type", 0.9f});
      ServerFacts(m, direction, relayed, out);
    }
  }
  void OnGap(Direction, uint64_t, ParserOutput&) override {}
  bool Done() const override { return false; }

 private:
  // What a client says of itself. Sent directly, the frame's source MAC is the client's (its DUID
  // may name another interface, or none); through relays, the client is known only by the MAC a
  // relay adds (RFC 6939) or the one in its DUID.
  void ClientFacts(const Message& m, bool relayed, ParserOutput& out) const {
    const MacAddress* mac = nullptr;
    if (relayed) {
      if (m.has_relay_client_mac) {
        mac = &m.relay_client_mac;
      } else if (m.has_duid_mac) {
        mac = &m.duid_mac;
      } else {
        return;
      }
    }
    auto about_client = [&](Attribute a, std::string_view value, std::string_view field, float confidence) {
      if (value.empty()) return;
      const Fact fact{a, value, kProtocol, field, confidence};
      if (mac != nullptr) {
        out.AddFactForMac(*mac, fact);
      } else {
        out.AddFact(Party::kSender, fact);
      }
    };
    about_client(Attribute::kDhcpClientId, m.client_duid, "duid", 0.8f);
    about_client(Attribute::kDhcpFingerprint, m.oro, "oro", 0.8f);
    about_client(Attribute::kFqdn, m.fqdn, "client_fqdn", 0.8f);
    about_client(Attribute::kDhcpUserClass, m.user_class, "user_class", 0.7f);
    for (const std::string& v : m.vendor_classes) about_client(Attribute::kDhcpVendorClass, v, "vendor_class", 0.8f);
  }

  // A REPLY assigns addresses (an ADVERTISE only offers them, as a DHCPv4 OFFER does: the client
  // may take another server's). The client is the frame's receiver when the reply comes to it
  // directly: servers answer on the link, to the client's link-local address (RFC 8415 §18.3);
  // through a relay, only its DUID may name its MAC.
  void ServerFacts(const Message& m, Direction direction, bool relayed, ParserOutput& out) const {
    const MacAddress* client = nullptr;
    const FlowEndpoint& receiver = direction == Direction::kToResponder ? flow_.responder : flow_.initiator;
    if (!relayed && !receiver.mac.IsZero() && !receiver.mac.IsGroup()) {
      client = &receiver.mac;
    } else if (m.has_duid_mac) {
      client = &m.duid_mac;
    }
    if (client == nullptr) return;
    if (m.type == kReply) {
      for (const IaAddress& a : m.addresses) {
        if (a.valid_lifetime > 0 && !a.address.IsUnspecified())
          out.BindAddress(*client, a.address, AddressSource::kDhcp);
      }
    }
    // A server names the client only by echoing (or overriding) what the client asked for.
    if (!m.fqdn.empty()) out.AddFactForMac(*client, Fact{Attribute::kFqdn, m.fqdn, kProtocol, "client_fqdn", 0.6f});
  }

  FlowContext flow_;
};

class ParserFactoryImpl : public ParserFactory {
 public:
  std::string_view name() const override { return kProtocol; }
  bool Wants(const FlowContext& flow, Direction, std::span<const uint8_t>) const override {
    return flow.transport == kIpProtoUdp && EitherPort(flow, {546, 547});
  }
  std::unique_ptr<FlowParser> Create(const FlowContext& flow) const override { return std::make_unique<Parser>(flow); }
};

}  // namespace

const ParserFactory* Factory() {
  static const ParserFactoryImpl factory;
  return &factory;
}

}  // namespace auscult::sensor::dhcpv6
