#include "sensor/parsers/dhcpv6/dhcpv6_message.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/byte_reader.h"

namespace auscult::sensor::dhcpv6 {
namespace {

constexpr size_t kRelayHeader = 34;  // msg-type, hop-count, link-address, peer-address
constexpr int kMaxRelayDepth = 8;    // HOP_COUNT_LIMIT (§7.6)
constexpr uint8_t kLastType = 37;    // the highest message type IANA has assigned

// Option codes (§21 and the RFCs named).
enum : uint16_t {
  kClientId = 1,
  kServerId = 2,
  kIaNa = 3,
  kIaTa = 4,
  kIaAddr = 5,
  kOro = 6,
  kRelayMsg = 9,
  kUserClass = 15,
  kVendorClass = 16,
  kClientFqdn = 39,       // RFC 4704
  kClientLinkLayer = 79,  // RFC 6939
};

bool Printable(absl::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return !s.empty();
}

absl::string_view Text(std::span<const uint8_t> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// Calls fn(code, data) for each option in `area`; false when one runs past it.
template <typename Fn>
bool ForEachOption(std::span<const uint8_t> area, Fn&& fn) {
  ByteReader r(area);
  while (r.remaining() > 0) {  // every pass consumes at least the 4-byte header
    const uint16_t code = r.U16();
    const uint16_t len = r.U16();
    const uint8_t* data = r.Bytes(len);
    if (!r.ok()) return false;
    if (!fn(code, std::span<const uint8_t>(data, len))) return false;
  }
  return true;
}

// DUID (§11): | type (2) | ... |; DUID-LLT (1): | hardware type (2) | time (4) | link-layer address |,
// DUID-LL (3): | hardware type (2) | link-layer address |. Hardware type 1 is Ethernet.
void DuidMac(std::span<const uint8_t> duid, Message& m) {
  ByteReader r(duid);
  const uint16_t type = r.U16();
  const uint16_t hardware = r.U16();
  if (type == 1) r.Skip(4);
  if (!r.ok() || (type != 1 && type != 3) || hardware != 1 || r.remaining() != 6) return;
  m.has_duid_mac = true;
  m.duid_mac = MacAddress::FromBytes(r.Rest().data());
}

// Client FQDN (RFC 4704 §4.1): | flags (1) | domain name (DNS wire format, RFC 1035 §3.1) |; a
// client may send a partial name, without the closing zero-length label.
bool FqdnName(std::span<const uint8_t> v, std::string& out) {
  if (v.empty()) return false;
  ByteReader r(v.subspan(1));
  std::string name;
  while (r.remaining() > 0) {
    const uint8_t len = r.U8();
    if (len == 0) break;
    if (len > 63) return false;  // compression pointers are not allowed here
    const uint8_t* label = r.Bytes(len);
    if (label == nullptr) return false;
    if (!name.empty()) name += '.';
    name.append(reinterpret_cast<const char*>(label), len);
  }
  out = std::move(name);
  return true;
}

// Vendor Class (§21.16): | enterprise-number (4) | vendor-class-data |, the data a sequence of
// | length (2) | opaque |.
bool VendorClass(std::span<const uint8_t> v, Message& m) {
  ByteReader r(v);
  const uint32_t enterprise = r.U32();
  if (!r.ok()) return false;
  while (r.remaining() > 0) {
    const uint16_t len = r.U16();
    const uint8_t* data = r.Bytes(len);
    if (!r.ok()) return false;
    m.vendor_classes.push_back(absl::StrCat("enterprise ", enterprise, ": ", Text({data, len})));
  }
  return true;
}

// User Class (§21.15): a sequence of | length (2) | opaque |. Some clients (Cisco IOS XR's
// "exr-config") send the text alone; it is kept as such.
void UserClass(std::span<const uint8_t> v, Message& m) {
  ByteReader r(v);
  std::string items;
  while (r.ok() && r.remaining() > 0) {
    const uint16_t len = r.U16();
    const uint8_t* data = r.Bytes(len);
    if (data != nullptr) absl::StrAppend(&items, items.empty() ? "" : ",", Text({data, len}));
  }
  if (r.ok()) {
    m.user_class = std::move(items);
  } else if (Printable(Text(v))) {
    m.user_class = std::string(Text(v));
    m.user_class_unframed = true;
  }
}

// IA_NA (§21.4): | IAID (4) | T1 (4) | T2 (4) | IA_NA-options |; IA_TA (§21.5): | IAID (4) | options |.
// IA Address (§21.6): | IPv6 address (16) | preferred-lifetime (4) | valid-lifetime (4) | options |.
bool IdentityAssociation(std::span<const uint8_t> v, size_t fixed, Message& m) {
  if (v.size() < fixed) return false;
  return ForEachOption(v.subspan(fixed), [&](uint16_t code, std::span<const uint8_t> data) {
    if (code != kIaAddr) return true;  // status codes and the like
    if (data.size() < 24) return false;
    ByteReader r(data);
    IaAddress a;
    a.address = IpAddress::V6(r.Bytes(16));
    r.Skip(4);
    a.valid_lifetime = r.U32();
    m.addresses.push_back(a);
    return true;
  });
}

bool ClientServerOptions(std::span<const uint8_t> area, Message& m, Error& error) {
  bool bad = false;
  const bool whole = ForEachOption(area, [&](uint16_t code, std::span<const uint8_t> v) {
    switch (code) {
      case kClientId:
        m.client_duid = absl::BytesToHexString(Text(v));
        DuidMac(v, m);
        break;
      case kServerId:
        m.server_duid = absl::BytesToHexString(Text(v));
        break;
      case kIaNa:
        bad = !IdentityAssociation(v, 12, m);
        break;
      case kIaTa:
        bad = !IdentityAssociation(v, 4, m);
        break;
      case kOro: {
        if (v.size() % 2 != 0) bad = true;
        std::string list;
        for (size_t i = 0; i + 1 < v.size(); i += 2) absl::StrAppend(&list, i ? "," : "", v[i] << 8 | v[i + 1]);
        m.oro = std::move(list);
        break;
      }
      case kUserClass:
        UserClass(v, m);
        break;
      case kVendorClass:
        bad = !VendorClass(v, m);
        break;
      case kClientFqdn:
        bad = !FqdnName(v, m.fqdn);
        break;
      default:
        break;
    }
    return !bad;
  });
  if (!whole) error = bad ? Error::kBadOption : Error::kOptionOverrun;
  return whole;
}

}  // namespace

const char* ErrorName(Error e) {
  switch (e) {
    case Error::kNone:
      return "none";
    case Error::kTruncated:
      return "dhcpv6_truncated";
    case Error::kBadType:
      return "dhcpv6_bad_message_type";
    case Error::kOptionOverrun:
      return "dhcpv6_option_overrun";
    case Error::kBadOption:
      return "dhcpv6_bad_option";
    case Error::kRelayWithoutMessage:
      return "dhcpv6_relay_without_message";
    case Error::kRelayTooDeep:
      return "dhcpv6_relay_too_deep";
  }
  return "unknown";
}

bool Parse(std::span<const uint8_t> payload, Message& m, Error& error) {
  error = Error::kNone;
  // Each pass unwraps one relay header; the loop, not recursion, bounds the depth.
  for (int depth = 0;; ++depth) {
    if (payload.empty()) {
      error = Error::kTruncated;
      return false;
    }
    const uint8_t type = payload[0];
    if (depth == 0) m.outer_type = type;
    m.type = type;
    m.relay_depth = depth;
    if (type == 0 || type > kLastType) {
      error = Error::kBadType;
      return false;
    }
    if (type != kRelayForw && type != kRelayRepl) {
      if (payload.size() < 4) {
        error = Error::kTruncated;
        return false;
      }
      return ClientServerOptions(payload.subspan(4), m, error);
    }
    if (depth == kMaxRelayDepth) {
      error = Error::kRelayTooDeep;
      return false;
    }
    if (payload.size() < kRelayHeader) {
      error = Error::kTruncated;
      return false;
    }
    std::span<const uint8_t> inner;
    bool has_inner = false;
    const bool whole = ForEachOption(payload.subspan(kRelayHeader), [&](uint16_t code, std::span<const uint8_t> v) {
      if (code == kRelayMsg) {
        inner = v;
        has_inner = true;
      } else if (code == kClientLinkLayer && type == kRelayForw) {
        // | link-layer type (2) | link-layer address |, added by the relay nearest the client, whose
        // header is the innermost: a deeper one overrides.
        if (v.size() == 8 && v[0] == 0 && v[1] == 1) {
          m.has_relay_client_mac = true;
          m.relay_client_mac = MacAddress::FromBytes(v.data() + 2);
        }
      }
      return true;
    });
    if (!whole) {
      error = Error::kOptionOverrun;
      return false;
    }
    if (!has_inner) {
      error = Error::kRelayWithoutMessage;
      return false;
    }
    payload = inner;
  }
}

}  // namespace auscult::sensor::dhcpv6
