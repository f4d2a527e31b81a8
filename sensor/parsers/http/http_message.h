#ifndef AUSCULT_SENSOR_PARSERS_HTTP_HTTP_MESSAGE_H_
#define AUSCULT_SENSOR_PARSERS_HTTP_HTTP_MESSAGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace auscult::sensor::http {

// The head of an HTTP/1.x message (RFC 9112), also used by SSDP (HTTP over UDP):
//   request:  METHOD SP target SP HTTP/1.x CRLF     response: HTTP/1.x SP status SP reason CRLF
//   then header fields "name: value" CRLF ..., then an empty line.
struct Head {
  bool request = false;
  std::string method;                                        // requests
  std::string target;                                        // requests
  int status = 0;                                            // responses
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case, values trimmed

  // The first header of that (lower-case) name, if any.
  std::optional<std::string_view> Get(std::string_view name) const;
};

// Parses a complete head (without the final empty line). False when the start line is not HTTP.
bool ParseHead(std::string_view head, Head& out);

// Whether `bytes` begin like an HTTP/1.x request or response (a method token and a space, or "HTTP/").
bool LooksLikeHttp(std::string_view bytes);

}  // namespace auscult::sensor::http

#endif  // AUSCULT_SENSOR_PARSERS_HTTP_HTTP_MESSAGE_H_
