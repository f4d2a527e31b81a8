#ifndef AUSCULT_SENSOR_PARSERS_HTTP_HTTP_MESSAGE_H_
#define AUSCULT_SENSOR_PARSERS_HTTP_HTTP_MESSAGE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

namespace auscult::sensor::http {

// The head of an HTTP/1.x message (RFC 9112), also used by SSDP (HTTP over UDP):
//   request:  METHOD SP target SP HTTP/1.x CRLF     response: HTTP/1.x SP status SP reason CRLF
//   then header fields "name: value" CRLF ..., then an empty line.
// Views into the parsed bytes, valid as long as they are: nothing is copied (a request target may
// carry patient identifiers; it is never copied, let alone reported).
struct Head {
  static constexpr size_t kMaxHeaders = 64;  // later fields are ignored
  bool request = false;
  std::string_view method;  // requests
  std::string_view target;  // requests
  int status = 0;           // responses
  size_t header_count = 0;
  // A line that is not "name: value" ended the head early: what followed it is not read as fields
  // (RFC 9112 5 makes such a message invalid; Wireshark too reads no further).
  bool bad_field_line = false;
  std::array<std::pair<std::string_view, std::string_view>, kMaxHeaders> headers;  // name as sent, value trimmed

  // The first header of that name (compared without regard to case), if any.
  std::optional<std::string_view> Get(std::string_view name) const;
};

// Parses a complete head (without the final empty line). False when the start line is not HTTP.
bool ParseHead(std::string_view head, Head& out);

// Whether `bytes` begin like an HTTP/1.x request or response (a method token and a space, or "HTTP/").
bool LooksLikeHttp(std::string_view bytes);

}  // namespace auscult::sensor::http

#endif  // AUSCULT_SENSOR_PARSERS_HTTP_HTTP_MESSAGE_H_
