#include "sensor/parsers/dns/dns_parser.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/logging.h"
#include "sensor/decode/packet_view.h"
#include "sensor/parsers/dns/dns_message.h"

namespace auscult::sensor::dns {
namespace {

constexpr std::string_view kDns = "dns";
constexpr std::string_view kMdns = "mdns";
constexpr std::string_view kLlmnr = "llmnr";

// TXT keys devices use for what they are (printers' IPP keys, AirPlay, Google Cast, HomeKit and
// many embedded stacks'): each gives an attribute of its own besides the TXT entry itself.
struct TxtKey {
  std::string_view key;  // lower case
  Attribute attribute;
  std::string_view field;
};
constexpr TxtKey kTxtKeys[] = {
    {"model", Attribute::kModel, "txt_model"},
    {"mdl", Attribute::kModel, "txt_mdl"},
    {"md", Attribute::kModel, "txt_md"},
    {"am", Attribute::kModel, "txt_am"},
    {"ty", Attribute::kModel, "txt_ty"},
    {"usb_mdl", Attribute::kModel, "txt_usb_mdl"},
    {"product", Attribute::kModel, "txt_product"},
    {"vendor", Attribute::kVendor, "txt_vendor"},
    {"manufacturer", Attribute::kVendor, "txt_manufacturer"},
    {"mfg", Attribute::kVendor, "txt_mfg"},
    {"usb_mfg", Attribute::kVendor, "txt_usb_mfg"},
    {"firmware", Attribute::kFirmwareVersion, "txt_firmware"},
    {"firmware_version", Attribute::kFirmwareVersion, "txt_firmware_version"},
    {"fwvers", Attribute::kFirmwareVersion, "txt_fwvers"},
    {"fw", Attribute::kFirmwareVersion, "txt_fw"},
    {"fv", Attribute::kFirmwareVersion, "txt_fv"},
    {"serial", Attribute::kSerialNumber, "txt_serial"},
    {"serialnumber", Attribute::kSerialNumber, "txt_serialnumber"},
};
constexpr size_t kMaxTxtEntries = 32;  // per record: a TXT record is a handful of keys

class Parser : public FlowParser {
 public:
  Parser(Dialect dialect, std::string_view protocol, const FlowContext& flow)
      : dialect_(dialect), protocol_(protocol), flow_(flow) {}

  void OnData(Direction d, std::span<const uint8_t> bytes, TimeNs, ParserOutput& out) override {
    if (flow_.transport == kIpProtoUdp) {
      Handle(d, bytes, out);
      return;
    }
    // DNS over TCP (RFC 1035 §4.2.2): | length (16) | message |, messages back to back.
    std::string& buffer = buffers_[static_cast<int>(d)];
    if (stopped_[static_cast<int>(d)]) return;
    buffer.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    while (buffer.size() >= 2) {
      const size_t length = static_cast<uint8_t>(buffer[0]) << 8 | static_cast<uint8_t>(buffer[1]);
      if (buffer.size() < 2 + length) break;
      Handle(d, std::span(reinterpret_cast<const uint8_t*>(buffer.data()) + 2, length), out);
      buffer.erase(0, 2 + length);
    }
  }

  void OnGap(Direction d, uint64_t, ParserOutput&) override {
    // Where the next length prefix is cannot be known.
    stopped_[static_cast<int>(d)] = true;
    buffers_[static_cast<int>(d)].clear();
  }

  bool Done() const override { return stopped_[0] && stopped_[1]; }

 private:
  void Handle(Direction d, std::span<const uint8_t> bytes, ParserOutput& out) {
    Message m;
    Error error;
    if (!Parse(bytes, m, error)) {
      out.CountAnomaly(AnomalyName(dialect_, error));
      return;
    }
    if (m.opcode != 0) return;  // updates, notifies: not about the sender's identity
    out.SetApplication(protocol_);
    const IpAddress& sender = d == Direction::kToResponder ? flow_.initiator.ip : flow_.responder.ip;
    if (!m.response) {
      // The names a device asks for (for mDNS: the services it browses for, the hosts it looks up).
      for (const Question& q : m.questions) Add(out, Party::kSender, Attribute::kDnsQuery, q.name, "qname", 0.9f);
    }
    switch (dialect_) {
      case Dialect::kDns:
        if (m.response) UnicastAnswers(m, out);
        break;
      case Dialect::kMdns:
        MulticastRecords(m, sender, out);
        break;
      case Dialect::kLlmnr:
        if (m.response && m.rcode == 0) {
          for (const Record& r : m.records) {
            if (r.section == Section::kAnswer) HostAddress(r.name, r, sender, out);
          }
        }
        break;
      case Dialect::kNbns:
        break;
    }
  }

  // A server's answers: names for addresses, which belong to whoever holds those addresses.
  void UnicastAnswers(const Message& m, ParserOutput& out) {
    Add(out, Party::kSender, Attribute::kService, "dns-server", "response", 0.8f);
    if (m.rcode != 0) return;
    for (const Record& r : m.records) {
      if (r.section != Section::kAnswer || r.name.empty()) continue;
      if (r.type == kA || r.type == kAaaa) {
        out.AddFactForAddress(
            r.address, Fact{Attribute::kFqdn, r.name, protocol_, r.type == kA ? "a_record" : "aaaa_record", 0.5f});
      } else if (r.type == kPtr && !r.target.empty()) {
        if (const IpAddress ip = ReverseName(r.name); ip.IsSet()) {
          out.AddFactForAddress(ip, Fact{Attribute::kFqdn, r.target, protocol_, "ptr_record", 0.6f});
        }
      }
    }
  }

  // mDNS: a response's records (all sections) are the sender's own: its host names, its services.
  // A query's authority section holds the records it is probing for (RFC 6762 §8.2), also its own;
  // a query's answers are known answers about others, and are left alone.
  void MulticastRecords(const Message& m, const IpAddress& sender, ParserOutput& out) {
    for (const Record& r : m.records) {
      if (!m.response && r.section != Section::kAuthority) continue;
      switch (r.type) {
        case kA:
        case kAaaa:
          HostAddress(HostPart(r.name), r, sender, out);
          break;
        case kPtr:
          if (IpAddress ip = ReverseName(r.name); ip.IsSet()) {
            Record forward = r;
            forward.address = ip;
            HostAddress(HostPart(r.target), forward, sender, out);
          } else if (absl::EqualsIgnoreCase(r.name, "_services._dns-sd._udp.local")) {
            Add(out, Party::kSender, Attribute::kService, ServiceType(r.target), "dns_sd_type", 0.8f);
          } else {
            Add(out, Party::kSender, Attribute::kService, ServiceType(r.name), "dns_sd_ptr", 0.8f);
          }
          break;
        case kSrv:
          Add(out, Party::kSender, Attribute::kService, ServiceType(r.name), "dns_sd_srv", 0.8f);
          break;
        case kTxt:
          ServiceText(r, out);
          break;
        case kHinfo:
          if (r.texts.size() == 2) Add(out, Party::kSender, Attribute::kOs, r.texts[1], "hinfo_os", 0.6f);
          break;
        default:
          break;
      }
    }
  }

  // A name bound to an address in the sender's own records: the sender's name when the address is
  // the one it sends from (or link-local, which only it can use here); otherwise the name of the
  // host that holds the address (a sleep proxy answering for a sleeping host).
  void HostAddress(std::string_view name, const Record& r, const IpAddress& sender, ParserOutput& out) {
    if (name.empty() || !r.address.IsSet()) return;
    const std::string_view field = r.type == kPtr ? "ptr_record" : r.type == kA ? "a_record" : "aaaa_record";
    if (r.address == sender) {
      Add(out, Party::kSender, Attribute::kHostname, name, field, 0.9f);
    } else if (!r.address.IsLinkLocal()) {
      out.AddFactForAddress(r.address, Fact{Attribute::kHostname, name, protocol_, field, 0.7f});
    }
  }

  void ServiceText(const Record& r, ParserOutput& out) {
    const std::string type = ServiceType(r.name);
    if (type.empty()) return;
    size_t entries = 0;
    for (const std::string& text : r.texts) {
      if (text.empty()) continue;  // a TXT record with no keys holds one empty string
      if (++entries > kMaxTxtEntries) break;
      Add(out, Party::kSender, Attribute::kServiceTxt, type + ": " + text, "txt", 0.8f);
      const size_t eq = text.find('=');
      if (eq == std::string::npos) continue;
      const std::string key = absl::AsciiStrToLower(text.substr(0, eq));
      std::string_view value = AsStd(absl::StripAsciiWhitespace(AsAbsl(std::string_view(text).substr(eq + 1))));
      if (key == "product" && value.size() >= 2 && value.front() == '(' && value.back() == ')') {
        value = value.substr(1, value.size() - 2);  // IPP's product=(HP LaserJet 400)
      }
      for (const TxtKey& k : kTxtKeys) {
        if (k.key == key) Add(out, Party::kSender, k.attribute, value, k.field, 0.8f);
      }
    }
  }

  void Add(ParserOutput& out, Party party, Attribute a, std::string_view value, std::string_view field,
           float confidence) {
    if (!value.empty()) out.AddFact(party, Fact{a, value, protocol_, field, confidence});
  }

  Dialect dialect_;
  std::string_view protocol_;
  FlowContext flow_;
  std::string buffers_[2];
  bool stopped_[2] = {false, false};
};

class Factory : public ParserFactory {
 public:
  Factory(Dialect dialect, std::string_view name, uint16_t port, bool tcp_too)
      : dialect_(dialect), name_(name), port_(port), tcp_too_(tcp_too) {}
  std::string_view name() const override { return name_; }
  bool Wants(const FlowContext& flow, Direction, std::span<const uint8_t>) const override {
    if (flow.transport != kIpProtoUdp && !(tcp_too_ && flow.transport == kIpProtoTcp)) return false;
    return EitherPort(flow, {port_});
  }
  std::unique_ptr<FlowParser> Create(const FlowContext& flow) const override {
    return std::make_unique<Parser>(dialect_, name_, flow);
  }
  // mDNS flows (a device to the group) live long and repeat themselves; the budget bounds the work
  // per flow, and a new flow after an idle timeout starts a new budget.
  uint64_t byte_budget() const override { return 256 * 1024; }

 private:
  Dialect dialect_;
  std::string_view name_;
  uint16_t port_;
  bool tcp_too_;
};

}  // namespace

const ParserFactory* DnsFactory() {
  static const Factory factory(Dialect::kDns, kDns, 53, true);
  return &factory;
}

const ParserFactory* MdnsFactory() {
  static const Factory factory(Dialect::kMdns, kMdns, 5353, false);
  return &factory;
}

const ParserFactory* LlmnrFactory() {
  static const Factory factory(Dialect::kLlmnr, kLlmnr, 5355, true);
  return &factory;
}

}  // namespace auscult::sensor::dns
