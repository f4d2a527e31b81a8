#include "sensor/parsers/browser/browser_parser.h"

#include <string>

#include "absl/strings/str_format.h"
#include "sensor/decode/packet_view.h"
#include "sensor/parsers/browser/browser_message.h"

namespace auscult::sensor::browser {
namespace {

constexpr std::string_view kProtocol = "smb_browser";

class Parser : public FlowParser {
 public:
  explicit Parser(const FlowContext& flow) : flow_(flow) {}

  void OnData(Direction d, std::span<const uint8_t> bytes, TimeNs, ParserOutput& out) override {
    Datagram g;
    Error error;
    if (!Parse(bytes, g, error)) out.CountAnomaly(ErrorName(error));
    // The datagram names the host it comes from; a NetBIOS datagram distributor relaying it is
    // not that host.
    const IpAddress& sender = d == Direction::kToResponder ? flow_.initiator.ip : flow_.responder.ip;
    const bool relayed = g.source_ip.IsSet() && !(g.source_ip == sender);
    auto add = [&](Attribute a, const std::string& value, std::string_view field, float confidence) {
      if (value.empty()) return;
      const Fact fact{a, value, kProtocol, field, confidence};
      if (relayed) {
        out.AddFactForAddress(g.source_ip, fact);
      } else {
        out.AddFact(Party::kSender, fact);
      }
    };
    add(Attribute::kHostname, g.source_name, "nbdgm_source_name", 0.8f);
    if (!g.browser) return;
    out.SetApplication(kProtocol);
    switch (g.opcode) {
      case 0x01:    // HostAnnouncement
      case 0x0F: {  // LocalMasterAnnouncement
        add(Attribute::kHostname, g.server_name, "server_name", 0.9f);
        add(Attribute::kSystemDescription, g.comment, "comment", 0.6f);
        if (g.destination_suffix == 0x1D || g.destination_suffix == 0x1E) {
          add(Attribute::kDomain, g.destination_name, "workgroup", 0.7f);
        }
        if (g.server_type & (kServerTypeUnix | kServerTypeOsf | kServerTypeVms)) {
          // Samba announces a fixed version (4.9 by default), not its OS's: only the family is known.
          if (g.server_type & kServerTypeUnix) add(Attribute::kOsFamily, "Unix", "server_type", 0.6f);
        } else if (g.has_version && (g.os_major != 0 || g.os_minor != 0)) {
          add(Attribute::kOsVersion, absl::StrFormat("Windows %d.%d", g.os_major, g.os_minor), "os_version", 0.7f);
        }
        for (const char* name : ServerTypeNames(g.server_type)) add(Attribute::kCapability, name, "server_type", 0.8f);
        if (g.server_type & kServerTypeServer) add(Attribute::kService, "smb-server", "server_type", 0.7f);
        break;
      }
      case 0x0C:  // DomainAnnouncement: the workgroup, and the local master browser's name
        add(Attribute::kDomain, g.server_name, "workgroup", 0.8f);
        add(Attribute::kHostname, g.comment, "master_browser_name", 0.8f);
        break;
      case 0x08:
        add(Attribute::kHostname, g.server_name, "election_name", 0.8f);
        break;
      case 0x02:
        add(Attribute::kHostname, g.server_name, "response_name", 0.7f);
        break;
      case 0x0D:
        add(Attribute::kHostname, g.server_name, "master_browser_name", 0.8f);
        break;
      default:
        break;
    }
  }
  void OnGap(Direction, uint64_t, ParserOutput&) override {}
  bool Done() const override { return false; }  // announcements repeat; each is one datagram

 private:
  FlowContext flow_;
};

class ParserFactoryImpl : public ParserFactory {
 public:
  std::string_view name() const override { return kProtocol; }
  bool Wants(const FlowContext& flow, Direction, std::span<const uint8_t>) const override {
    return flow.transport == kIpProtoUdp && EitherPort(flow, {138});
  }
  std::unique_ptr<FlowParser> Create(const FlowContext& flow) const override { return std::make_unique<Parser>(flow); }
};

}  // namespace

const ParserFactory* Factory() {
  static const ParserFactoryImpl factory;
  return &factory;
}

}  // namespace auscult::sensor::browser
