#include "sensor/parsers/cdp/cdp.h"

#include "absl/strings/str_cat.h"

namespace auscult::sensor::cdp {
namespace {

constexpr std::string_view kProtocol = "cdp";

uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

constexpr const char* kCapabilityNames[] = {"router",
                                            "transparent-bridge",
                                            "source-route-bridge",
                                            "switch",
                                            "host",
                                            "igmp",
                                            "repeater",
                                            "telephone",
                                            "remotely-managed",
                                            "cvta",
                                            "two-port-mac-relay"};

bool ReadAddresses(const uint8_t* v, size_t n, std::vector<IpAddress>& out) {
  if (n < 4) return false;
  const uint32_t count = static_cast<uint32_t>(v[0]) << 24 | v[1] << 16 | v[2] << 8 | v[3];
  size_t off = 4;
  for (uint32_t k = 0; k < count && k < 64; ++k) {
    if (off + 2 > n) return false;
    const uint8_t type = v[off];
    const uint8_t plen = v[off + 1];
    if (off + 2 + plen + 2 > n) return false;
    const uint8_t* proto = v + off + 2;
    const uint16_t alen = Be16(v + off + 2 + plen);
    const uint8_t* addr = v + off + 2 + plen + 2;
    if (off + 4 + plen + alen > n) return false;
    if (type == 1 && plen == 1 && proto[0] == 0xcc && alen == 4) out.push_back(IpAddress::V4(addr));
    // IPv6 comes as an 802.2 protocol (type 2) with an 8-byte protocol id ending in 0x86dd.
    if (type == 2 && plen == 8 && proto[6] == 0x86 && proto[7] == 0xdd && alen == 16)
      out.push_back(IpAddress::V6(addr));
    off += 4 + plen + alen;
  }
  return true;
}

class FrameParserImpl : public FrameParser {
 public:
  std::string_view name() const override { return kProtocol; }
  void OnFrame(const PacketView& view, FactSink& facts) override {
    if (view.snap_oui != 0x00000c || view.snap_protocol != 0x2000 || !view.has_mac) return;
    Packet c;
    Error error;
    if (!Parse(view.link_payload, c, error)) {
      facts.CountAnomaly(ErrorName(error));
      return;
    }
    const MacAddress& sender = view.src_mac;
    auto fact = [&](Attribute a, const std::string& value, std::string_view field, float confidence) {
      if (!value.empty())
        facts.OnFact(&sender, IpAddress{}, Fact{a, value, kProtocol, field, confidence}, view.timestamp);
    };
    fact(Attribute::kHostname, c.device_id, "device_id", 0.9f);
    fact(Attribute::kModel, c.platform, "platform", 0.9f);
    fact(Attribute::kSystemDescription, c.software_version, "software_version", 0.9f);
    fact(Attribute::kSwitchPort, c.port_id, "port_id", 0.9f);
    if (c.native_vlan != 0) fact(Attribute::kPortVlan, absl::StrCat(c.native_vlan), "native_vlan", 0.9f);
    for (const std::string& cap : c.capabilities) fact(Attribute::kCapability, cap, "capabilities", 0.9f);
    for (const IpAddress& ip : c.addresses) facts.OnBinding(sender, ip, AddressSource::kCdp, view.timestamp);
  }
};

}  // namespace

const char* ErrorName(Error e) {
  switch (e) {
    case Error::kNone:
      return "none";
    case Error::kTruncated:
      return "cdp_truncated";
    case Error::kBadTlv:
      return "cdp_bad_tlv";
  }
  return "unknown";
}

bool Parse(std::span<const uint8_t> payload, Packet& c, Error& error) {
  error = Error::kNone;
  const uint8_t* p = payload.data();
  const size_t n = payload.size();
  if (n < 4) {
    error = Error::kTruncated;
    return false;
  }
  c.version = p[0];
  for (size_t i = 4; i + 4 <= n;) {
    const uint16_t type = Be16(p + i);
    const uint16_t length = Be16(p + i + 2);
    if (length < 4 || i + length > n) {
      error = length < 4 ? Error::kBadTlv : Error::kTruncated;
      return false;
    }
    const uint8_t* v = p + i + 4;
    const size_t vn = length - 4u;
    const std::string text(reinterpret_cast<const char*>(v), vn);
    switch (type) {
      case 1:
        c.device_id = text;
        break;
      case 2:
      case 22:
        if (!ReadAddresses(v, vn, c.addresses)) {
          error = Error::kBadTlv;
          return false;
        }
        break;
      case 3:
        c.port_id = text;
        break;
      case 4:
        if (vn == 4) {
          const uint32_t caps = static_cast<uint32_t>(v[0]) << 24 | v[1] << 16 | v[2] << 8 | v[3];
          for (int bit = 0; bit < 11; ++bit) {
            if (caps & (1u << bit)) c.capabilities.push_back(kCapabilityNames[bit]);
          }
        }
        break;
      case 5:
        c.software_version = text;
        break;
      case 6:
        c.platform = text;
        break;
      case 10:
        if (vn == 2) c.native_vlan = Be16(v);
        break;
      default:
        break;
    }
    i += length;
  }
  return true;
}

FrameParser* Parser() {
  static FrameParserImpl parser;
  return &parser;
}

}  // namespace auscult::sensor::cdp
