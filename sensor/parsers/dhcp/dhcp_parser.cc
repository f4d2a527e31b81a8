#include "sensor/parsers/dhcp/dhcp_parser.h"

#include "sensor/decode/packet_view.h"
#include "sensor/parsers/dhcp/dhcp_message.h"

namespace auscult::sensor::dhcp {
namespace {

constexpr std::string_view kProtocol = "dhcp";

class Parser : public FlowParser {
 public:
  void OnData(Direction, std::span<const uint8_t> bytes, TimeNs, ParserOutput& out) override {
    Message m;
    Error error;
    if (!Parse(bytes, m, error)) {
      out.CountAnomaly(ErrorName(error));
      if (error != Error::kNotEthernet) return;
      return;
    }
    out.SetApplication(kProtocol);
    const MacAddress& client = m.client_mac;
    auto about_client = [&](Attribute a, const std::string& value, std::string_view field, float confidence) {
      if (!value.empty()) out.AddFactForMac(client, Fact{a, value, kProtocol, field, confidence});
    };
    if (m.op == 1) {  // from the client (or its relay): what the client says of itself
      about_client(Attribute::kHostname, m.hostname, "option12", 0.8f);
      about_client(Attribute::kDhcpVendorClass, m.vendor_class, "option60", 0.8f);
      about_client(Attribute::kDhcpFingerprint, m.parameter_list, "option55", 0.8f);
      about_client(Attribute::kDhcpClientId, m.client_id, "option61", 0.8f);
      about_client(Attribute::kDhcpUserClass, m.user_class, "option77", 0.7f);
      about_client(Attribute::kFqdn, m.fqdn, "option81", 0.8f);
      about_client(Attribute::kDhcpVendorInfo, m.vendor_info, "option43", 0.5f);
      if (m.type == 8 && m.client_ip.IsSet() && !m.client_ip.IsUnspecified()) {  // INFORM: it has this address
        out.BindAddress(client, m.client_ip, AddressSource::kDhcp);
      }
      return;
    }
    if (m.op == 2) {  // from a server: the lease it gives, and what it says of itself
      if (m.type == 5 && !m.your_ip.IsUnspecified()) out.BindAddress(client, m.your_ip, AddressSource::kDhcp);
      // A server names the client in its reply only by echoing; that is the client's name.
      about_client(Attribute::kHostname, m.hostname, "option12", 0.6f);
      about_client(Attribute::kFqdn, m.fqdn, "option81", 0.6f);
      if (m.relay_ip.IsUnspecified()) {  // replies through a relay come from the relay, not the server
        out.AddFact(Party::kSender, Fact{Attribute::kService, "dhcp-server", kProtocol, "op", 0.9f});
        if (!m.vendor_class.empty()) {
          out.AddFact(Party::kSender, Fact{Attribute::kDhcpVendorClass, m.vendor_class, kProtocol, "option60", 0.6f});
        }
      } else {
        out.AddFact(Party::kSender, Fact{Attribute::kService, "dhcp-relay", kProtocol, "giaddr", 0.8f});
      }
    }
  }
  void OnGap(Direction, uint64_t, ParserOutput&) override {}
  bool Done() const override { return false; }
};

class ParserFactoryImpl : public ParserFactory {
 public:
  std::string_view name() const override { return kProtocol; }
  bool Wants(const FlowContext& flow, Direction, std::span<const uint8_t>) const override {
    return flow.transport == kIpProtoUdp && EitherPort(flow, {67, 68});
  }
  std::unique_ptr<FlowParser> Create(const FlowContext&) const override { return std::make_unique<Parser>(); }
};

}  // namespace

const ParserFactory* Factory() {
  static const ParserFactoryImpl factory;
  return &factory;
}

}  // namespace auscult::sensor::dhcp
