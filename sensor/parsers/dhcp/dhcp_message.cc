#include "sensor/parsers/dhcp/dhcp_message.h"

#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace auscult::sensor::dhcp {
namespace {

constexpr size_t kFixedLength = 236;  // through the file field
constexpr uint8_t kMagic[4] = {99, 130, 83, 99};

bool Printable(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return !s.empty();
}

// Option 81 (RFC 4702): | flags | rcode1 | rcode2 | name |, the name in DNS wire format when the E
// flag (0x04) is set, else ASCII.
std::string FqdnName(std::string_view v) {
  if (v.size() < 3) return "";
  const bool wire = (static_cast<uint8_t>(v[0]) & 0x04) != 0;
  std::string_view name = v.substr(3);
  if (!wire) return std::string(name);
  std::string out;
  for (size_t i = 0; i < name.size();) {
    const uint8_t len = static_cast<uint8_t>(name[i]);
    if (len == 0 || len > 63 || i + 1 + len > name.size()) break;
    if (!out.empty()) out += '.';
    out.append(name.substr(i + 1, len));
    i += 1 + len;
  }
  return out;
}

// Reads the options in [p, p + n). Returns false on an option that runs past the area. `overload`
// receives option 52.
bool ReadOptions(const uint8_t* p, size_t n, Message& m, uint8_t* overload) {
  for (size_t i = 0; i < n;) {
    const uint8_t code = p[i];
    if (code == 0) {
      ++i;
      continue;
    }
    if (code == 255) return true;
    if (i + 2 > n || i + 2 + p[i + 1] > n) return false;
    const uint8_t len = p[i + 1];
    const uint8_t* v = p + i + 2;
    const std::string_view text(reinterpret_cast<const char*>(v), len);
    switch (code) {
      case 12:
        m.hostname = std::string(text);
        break;
      case 43:
        if (Printable(text)) m.vendor_info = std::string(text);
        break;
      case 50:
        if (len == 4) m.requested_ip = IpAddress::V4(v);
        break;
      case 51:
        if (len == 4) m.lease_seconds = static_cast<uint32_t>(v[0]) << 24 | v[1] << 16 | v[2] << 8 | v[3];
        break;
      case 52:
        if (len == 1) *overload = v[0];
        break;
      case 53:
        if (len == 1) m.type = v[0];
        break;
      case 54:
        if (len == 4) m.server_id = IpAddress::V4(v);
        break;
      case 55: {
        std::string list;
        for (uint8_t k = 0; k < len; ++k) absl::StrAppend(&list, k ? "," : "", v[k]);
        m.parameter_list = list;
        break;
      }
      case 60:
        m.vendor_class = std::string(text);
        break;
      case 61:
        m.client_id = absl::BytesToHexString(absl::string_view(text.data(), text.size()));
        break;
      case 77:
        // RFC 3004 user class: | length | data | ... ; older clients send plain text.
        m.user_class = std::string(text);
        if (len > 1 && static_cast<uint8_t>(text[0]) == len - 1) m.user_class = std::string(text.substr(1));
        break;
      case 81:
        m.fqdn = FqdnName(text);
        break;
      default:
        break;
    }
    i += 2 + len;
  }
  return true;
}

}  // namespace

const char* ErrorName(Error e) {
  switch (e) {
    case Error::kNone:
      return "none";
    case Error::kTruncated:
      return "dhcp_truncated";
    case Error::kNotEthernet:
      return "dhcp_not_ethernet";
    case Error::kBadMagic:
      return "dhcp_bad_magic_cookie";
    case Error::kBadOption:
      return "dhcp_option_overrun";
  }
  return "unknown";
}

bool Parse(std::span<const uint8_t> payload, Message& m, Error& error) {
  error = Error::kNone;
  const uint8_t* p = payload.data();
  if (payload.size() < kFixedLength + 4) {
    error = Error::kTruncated;
    return false;
  }
  m.op = p[0];
  if (p[1] == 1 && p[2] == 6) {  // htype Ethernet, hlen 6
    m.has_client_mac = true;
    m.client_mac = MacAddress::FromBytes(p + 28);
  }
  m.client_ip = IpAddress::V4(p + 12);
  m.your_ip = IpAddress::V4(p + 16);
  m.relay_ip = IpAddress::V4(p + 24);
  if (std::memcmp(p + kFixedLength, kMagic, 4) != 0) {
    error = Error::kBadMagic;  // BOOTP without DHCP options
    return false;
  }
  uint8_t overload = 0;
  if (!ReadOptions(p + kFixedLength + 4, payload.size() - kFixedLength - 4, m, &overload) ||
      ((overload & 1) && !ReadOptions(p + 108, 128, m, &overload)) ||
      ((overload & 2) && !ReadOptions(p + 44, 64, m, &overload))) {
    error = Error::kBadOption;
    return false;
  }
  if (!m.has_client_mac) {
    error = Error::kNotEthernet;
    return false;
  }
  return true;
}

}  // namespace auscult::sensor::dhcp
