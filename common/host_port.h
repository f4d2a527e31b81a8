#ifndef AUSCULT_COMMON_HOST_PORT_H_
#define AUSCULT_COMMON_HOST_PORT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace auscult {

struct HostPort {
  std::string host;  // name, IPv4, or IPv6 without brackets
  uint16_t port = 0;
  // "host:port" or "[v6]:port", as gRPC accepts it.
  std::string ToString() const;
};

// Parses "host:port", "[ipv6]:port" or "unix:/path" (port 0). `flag` names the flag in errors.
absl::StatusOr<HostPort> ParseHostPort(std::string_view text, std::string_view flag);

}  // namespace auscult

#endif  // AUSCULT_COMMON_HOST_PORT_H_
