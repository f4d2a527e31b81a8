#include "sensor/parsers/nbns/nbns.h"

#include "absl/strings/str_format.h"
#include "common/byte_reader.h"
#include "sensor/decode/packet_view.h"

namespace auscult::sensor::nbns {
namespace {

constexpr std::string_view kProtocol = "nbns";

// RFC 1002 §4.2.1.1 opcodes.
constexpr uint8_t kQuery = 0;
constexpr uint8_t kRegistration = 5;
constexpr uint8_t kRefresh = 8;
constexpr uint8_t kRefreshAlt = 9;  // as Windows sends it
constexpr uint8_t kMultiHomedRegistration = 15;

class Parser : public FlowParser {
 public:
  explicit Parser(const FlowContext& flow) : flow_(flow) {}

  void OnData(Direction d, std::span<const uint8_t> bytes, TimeNs, ParserOutput& out) override {
    dns::Message m;
    dns::Error error;
    if (!dns::Parse(bytes, m, error, /*decode_rdata=*/false)) {
      out.CountAnomaly(dns::AnomalyName(dns::Dialect::kNbns, error));
      return;
    }
    out.SetApplication(kProtocol);
    const IpAddress& sender = d == Direction::kToResponder ? flow_.initiator.ip : flow_.responder.ip;
    if (!m.response) {
      if (m.opcode == kQuery) {
        for (const dns::Question& q : m.questions) {
          Name n;
          if (!DecodeName(q.name, n)) {
            out.CountAnomaly("nbns_bad_name");
            continue;
          }
          if (n.name.empty() || n.name[0] == '*') continue;  // node status probe of whoever answers
          if (n.suffix == 0x03) continue;                    // the Messenger name: often a person's user name
          out.AddFact(Party::kSender, Fact{Attribute::kDnsQuery, NameText(n), kProtocol, "query", 0.9f});
        }
      } else if (m.opcode == kRegistration || m.opcode == kRefresh || m.opcode == kRefreshAlt ||
                 m.opcode == kMultiHomedRegistration) {
        Records(m, sender, out);  // the name being registered, with its address, is in ADDITIONAL
      }
      return;
    }
    if (m.opcode == kQuery && m.rcode == 0) Records(m, sender, out);
  }
  void OnGap(Direction, uint64_t, ParserOutput&) override {}
  bool Done() const override { return false; }

 private:
  void Records(const dns::Message& m, const IpAddress& sender, ParserOutput& out) {
    std::vector<NameEntry> entries;
    for (const dns::Record& r : m.records) {
      if (r.type != kTypeNb && r.type != kTypeNbstat) continue;
      Name owner;
      if (!DecodeName(r.name, owner)) {
        out.CountAnomaly("nbns_bad_name");
        continue;
      }
      entries.clear();
      const bool ok = r.type == kTypeNb ? DecodeNb(owner, r.rdata, entries) : DecodeNbstat(r.rdata, entries);
      if (!ok) out.CountAnomaly("nbns_bad_rdata");
      for (const NameEntry& e : entries) Claim(e, sender, out);
    }
  }

  // A name held by the device at e.address (the sender's own for node status entries).
  void Claim(const NameEntry& e, const IpAddress& sender, ParserOutput& out) {
    const std::string& name = e.name.name;
    if (name.empty() || name[0] == '*' || name.find("__MSBROWSE__") != std::string::npos) return;
    const bool own = !e.address.IsSet() || e.address == sender;
    auto add = [&](Attribute a, std::string_view value, std::string_view field, float confidence) {
      const Fact fact{a, value, kProtocol, field, confidence};
      if (own) {
        out.AddFact(Party::kSender, fact);
      } else if (!e.address.IsUnspecified()) {
        out.AddFactForAddress(e.address, fact);
      }
    };
    switch (e.name.suffix) {
      case 0x00:  // workstation; a group name of this kind is the workgroup or domain
        if (e.group) {
          add(Attribute::kDomain, name, "group_00", 0.8f);
        } else {
          add(Attribute::kHostname, name, "name_00", 0.9f);
        }
        break;
      case 0x20:  // file server service
        if (!e.group) {
          add(Attribute::kHostname, name, "name_20", 0.9f);
          add(Attribute::kService, "smb-server", "name_20", 0.7f);
        }
        break;
      case 0x1b:  // domain master browser
        add(Attribute::kDomain, name, "name_1b", 0.8f);
        add(Attribute::kService, "domain-master-browser", "name_1b", 0.7f);
        break;
      case 0x1c:  // domain controllers
        add(Attribute::kDomain, name, "group_1c", 0.8f);
        add(Attribute::kService, "domain-controller", "group_1c", 0.7f);
        break;
      case 0x1d:  // local master browser
        add(Attribute::kDomain, name, "name_1d", 0.8f);
        add(Attribute::kService, "master-browser", "name_1d", 0.6f);
        break;
      case 0x1e:  // browser elections
        add(Attribute::kDomain, name, "group_1e", 0.8f);
        break;
      default:  // 03 (messenger: may be a user's name) and the rest: nothing about the device
        break;
    }
  }

  FlowContext flow_;
};

class ParserFactoryImpl : public ParserFactory {
 public:
  std::string_view name() const override { return kProtocol; }
  bool Wants(const FlowContext& flow, Direction, std::span<const uint8_t>) const override {
    return flow.transport == kIpProtoUdp && EitherPort(flow, {137});
  }
  std::unique_ptr<FlowParser> Create(const FlowContext& flow) const override { return std::make_unique<Parser>(flow); }
  uint64_t byte_budget() const override { return 64 * 1024; }
};

}  // namespace

bool DecodeName(std::string_view encoded, Name& out) {
  const std::string_view label = encoded.substr(0, encoded.find('.'));  // the scope follows
  if (label.size() != 32) return false;
  char raw[16];
  for (int i = 0; i < 16; ++i) {
    const char hi = label[2 * i];
    const char lo = label[2 * i + 1];
    if (hi < 'A' || hi > 'P' || lo < 'A' || lo > 'P') return false;
    raw[i] = static_cast<char>((hi - 'A') << 4 | (lo - 'A'));
  }
  out.suffix = static_cast<uint8_t>(raw[15]);
  std::string_view name(raw, 15);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\0')) name.remove_suffix(1);
  out.name = std::string(name);
  return true;
}

std::string NameText(const Name& n) { return absl::StrFormat("%s<%02x>", n.name, n.suffix); }

bool DecodeNb(const Name& name, std::span<const uint8_t> rdata, std::vector<NameEntry>& out) {
  if (rdata.size() % 6 != 0) return false;
  ByteReader in(rdata);
  while (in.remaining() >= 6 && out.size() < 64) {
    NameEntry e;
    e.name = name;
    e.group = (in.U16() & 0x8000) != 0;
    e.address = IpAddress::V4(in.Bytes(4));
    out.push_back(std::move(e));
  }
  return true;
}

bool DecodeNbstat(std::span<const uint8_t> rdata, std::vector<NameEntry>& out) {
  ByteReader in(rdata);
  const uint8_t count = in.U8();
  for (uint8_t i = 0; i < count; ++i) {
    const uint8_t* raw = in.Bytes(16);
    const uint16_t flags = in.U16();
    if (!in.ok()) return false;
    NameEntry e;
    std::string_view name(reinterpret_cast<const char*>(raw), 15);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\0')) name.remove_suffix(1);
    e.name.name = std::string(name);
    e.name.suffix = raw[15];
    e.group = (flags & 0x8000) != 0;
    out.push_back(std::move(e));
  }
  return true;
}

const ParserFactory* Factory() {
  static const ParserFactoryImpl factory;
  return &factory;
}

}  // namespace auscult::sensor::nbns
