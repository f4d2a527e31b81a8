#ifndef AUSCULT_COMMON_CIDR_H_
#define AUSCULT_COMMON_CIDR_H_

#include <optional>
#include <string>
#include <string_view>

#include "common/ip_address.h"

namespace auscult {

// An IPv4 or IPv6 network, e.g. 10.20.0.0/16 or fd00:1::/64.
struct Cidr {
  IpAddress network;  // host bits cleared
  uint8_t prefix_length = 0;

  // "10.20.0.0/16"; host bits may be set ("10.20.1.1/16" is 10.20.0.0/16). A bare address is a /32
  // or /128.
  static std::optional<Cidr> Parse(std::string_view text);
  static Cidr Of(const IpAddress& address, uint8_t prefix_length);
  bool Contains(const IpAddress& address) const;
  std::string ToString() const;

  friend bool operator==(const Cidr&, const Cidr&) = default;
};

}  // namespace auscult

#endif  // AUSCULT_COMMON_CIDR_H_
