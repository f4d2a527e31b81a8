#ifndef AUSCULT_COMMON_IP_ADDRESS_H_
#define AUSCULT_COMMON_IP_ADDRESS_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace auscult {

// An IPv4 or IPv6 address. IPv4 is stored in the first four bytes with the rest zero, so that the
// family plus 16 bytes always identify the address and hashing/comparison need no branches.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  uint8_t version = 0;  // 4, 6, or 0 for "none"

  static IpAddress V4(const uint8_t* p) {
    IpAddress a;
    std::memcpy(a.bytes.data(), p, 4);
    a.version = 4;
    return a;
  }
  static IpAddress V6(const uint8_t* p) {
    IpAddress a;
    std::memcpy(a.bytes.data(), p, 16);
    a.version = 6;
    return a;
  }
  static std::optional<IpAddress> Parse(std::string_view text);

  bool IsSet() const { return version != 0; }
  bool IsV4() const { return version == 4; }
  bool IsV6() const { return version == 6; }
  // 0.0.0.0 or :: (DHCP clients before they have an address).
  bool IsUnspecified() const;
  bool IsMulticast() const;
  bool IsLinkLocal() const;  // 169.254/16, fe80::/10
  bool IsLimitedBroadcast() const {
    return version == 4 && bytes[0] == 255 && bytes[1] == 255 && bytes[2] == 255 && bytes[3] == 255;
  }
  // Canonical text (inet_ntop form).
  std::string ToString() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const IpAddress& a) {
    return H::combine(std::move(h), a.version, std::string_view(reinterpret_cast<const char*>(a.bytes.data()), 16));
  }
};

// An IP protocol number's name: "tcp", "udp", "icmp", "icmpv6", "sctp", else the number.
std::string TransportName(uint32_t transport);

}  // namespace auscult

#endif  // AUSCULT_COMMON_IP_ADDRESS_H_
