#include "common/host_port.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace auscult {

std::string HostPort::ToString() const {
  if (host.rfind("unix:", 0) == 0) return host;
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<HostPort> ParseHostPort(std::string_view text, std::string_view flag) {
  auto fail = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("--", AsAbsl(flag), "='", AsAbsl(text), "': ", AsAbsl(why)));
  };
  if (text.rfind("unix:", 0) == 0) {
    if (text.size() <= 5) return fail("unix socket path is empty");
    return HostPort{std::string(text), 0};
  }
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return fail("expected [IPv6]:PORT");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("expected HOST:PORT");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return fail("write IPv6 addresses as [ADDR]:PORT");
  }
  if (host.empty()) return fail("host is empty");
  uint32_t p = 0;
  if (!absl::SimpleAtoi(AsAbsl(port), &p) || p > 65535) return fail("port must be a number from 0 to 65535");
  return HostPort{std::string(host), static_cast<uint16_t>(p)};
}

}  // namespace auscult
