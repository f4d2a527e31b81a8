#include "sensor/parsers/ssdp/ssdp_message.h"

#include <string_view>

#include "absl/strings/ascii.h"
#include "sensor/parsers/http/http_message.h"

namespace auscult::sensor::ssdp {
namespace {

// An SSDP message fits one datagram; real ones are well under 1 KiB. The head is read no further.
constexpr size_t kMaxHead = 8 * 1024;

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace

const char* ErrorName(Error e) {
  switch (e) {
    case Error::kNone:
      return "none";
    case Error::kNotHttp:
      return "ssdp_not_http";
    case Error::kUnexpectedMethod:
      return "ssdp_unexpected_method";
    case Error::kHeadTooLarge:
      return "ssdp_head_too_large";
  }
  return "unknown";
}

bool LooksLikeSsdp(std::span<const uint8_t> bytes) {
  const std::string_view s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return StartsWith(s, "NOTIFY ") || StartsWith(s, "M-SEARCH ") || StartsWith(s, "HTTP/1.");
}

// "urn:" domain ":device:" or ":service:" type ":" version (§1.1.2 and §2.5: domain names of
// vendors replace schemas-upnp-org, with periods replaced by hyphens).
bool IsTypeUrn(std::string_view value) {
  std::string lower(value);
  absl::AsciiStrToLower(&lower);
  if (!StartsWith(lower, "urn:")) return false;
  const size_t kind = lower.find(':', 4);
  if (kind == std::string::npos || kind == 4) return false;
  const std::string_view rest = std::string_view(lower).substr(kind + 1);
  return (StartsWith(rest, "device:") && rest.size() > 7) || (StartsWith(rest, "service:") && rest.size() > 8);
}

bool Parse(std::span<const uint8_t> payload, Message& m, Error& error) {
  error = Error::kNone;
  std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
  // The head ends at the empty line; a sender that leaves it out ends it with the datagram.
  const size_t end = text.find("\r\n\r\n");
  if (end != std::string_view::npos) text = text.substr(0, end);
  if (text.size() > kMaxHead) {
    error = Error::kHeadTooLarge;
    return false;
  }
  http::Head head;
  if (!http::ParseHead(text, head)) {
    error = Error::kNotHttp;
    return false;
  }
  if (!head.request) {
    m.kind = Message::Kind::kResponse;
  } else if (head.method == "NOTIFY") {
    m.kind = Message::Kind::kNotify;
  } else if (head.method == "M-SEARCH") {
    m.kind = Message::Kind::kSearch;
  } else {
    error = Error::kUnexpectedMethod;
    return false;
  }
  auto get = [&](std::string_view name) { return std::string(head.Get(name).value_or("")); };
  switch (m.kind) {
    case Message::Kind::kNotify: {
      const auto nt = head.Get("nt");
      m.has_nt = nt.has_value();
      if (nt && IsTypeUrn(*nt)) m.device_or_service_type = std::string(*nt);
      m.server = get("server");
      break;
    }
    case Message::Kind::kSearch:
      // The ST of a search is what the searcher wants, not what it is.
      m.user_agent = get("user-agent");
      m.x_user_agent = get("x-user-agent");
      break;
    case Message::Kind::kResponse:
      if (const auto st = head.Get("st"); st && IsTypeUrn(*st)) m.device_or_service_type = std::string(*st);
      m.server = get("server");
      break;
  }
  return true;
}

}  // namespace auscult::sensor::ssdp
