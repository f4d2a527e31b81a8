#include "common/ip_address.h"

#include <arpa/inet.h>

#include "absl/strings/str_cat.h"

namespace auscult {

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
    a.version = 4;
    return a;
  }
  if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
    a.version = 6;
    return a;
  }
  return std::nullopt;
}

bool IpAddress::IsUnspecified() const {
  for (int i = 0; i < (version == 4 ? 4 : 16); ++i) {
    if (bytes[i] != 0) return false;
  }
  return version != 0;
}

bool IpAddress::IsMulticast() const {
  if (version == 4) return (bytes[0] & 0xf0) == 0xe0;
  if (version == 6) return bytes[0] == 0xff;
  return false;
}

bool IpAddress::IsLinkLocal() const {
  if (version == 4) return bytes[0] == 169 && bytes[1] == 254;
  if (version == 6) return bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
  return false;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  if (version == 4) {
    inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
  } else if (version == 6) {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  } else {
    return "";
  }
  return buf;
}

std::string TransportName(uint32_t transport) {
  switch (transport) {
    case 1:
      return "icmp";
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 58:
      return "icmpv6";
    case 132:
      return "sctp";
    default:
      return absl::StrCat(transport);
  }
}

}  // namespace auscult
