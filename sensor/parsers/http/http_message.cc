#include "sensor/parsers/http/http_message.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "common/logging.h"

namespace auscult::sensor::http {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool IsToken(std::string_view s) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (!absl::ascii_isupper(c) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

std::optional<std::string_view> Head::Get(std::string_view name) const {
  for (size_t i = 0; i < header_count; ++i) {
    if (absl::EqualsIgnoreCase(AsAbsl(headers[i].first), AsAbsl(name))) return headers[i].second;
  }
  return std::nullopt;
}

bool LooksLikeHttp(std::string_view b) {
  if (b.rfind("HTTP/1.", 0) == 0) return true;
  const size_t space = b.find(' ');
  return space != std::string_view::npos && space > 0 && IsToken(b.substr(0, space));
}

bool ParseHead(std::string_view head, Head& out) {
  size_t eol = head.find('\n');
  const std::string_view start = Trim(head.substr(0, eol));
  // Up to three space-separated parts; the third keeps any further spaces (a reason phrase).
  std::string_view parts[3];
  size_t count = 0;
  for (std::string_view rest = start; count < 3;) {
    const size_t space = count < 2 ? rest.find(' ') : std::string_view::npos;
    parts[count++] = rest.substr(0, space);
    if (space == std::string_view::npos) break;
    rest.remove_prefix(space + 1);
  }
  if (count < 2) return false;
  if (parts[0].rfind("HTTP/1.", 0) == 0) {
    out.request = false;
    if (!absl::SimpleAtoi(AsAbsl(parts[1]), &out.status) || out.status < 100 || out.status > 999) return false;
  } else if (IsToken(parts[0]) && count == 3 && parts[2].rfind("HTTP/1.", 0) == 0) {
    out.request = true;
    out.method = parts[0];
    out.target = parts[1];
  } else {
    return false;
  }
  out.header_count = 0;
  out.bad_field_line = false;
  while (eol != std::string_view::npos && out.header_count < Head::kMaxHeaders) {
    const size_t begin = eol + 1;
    eol = head.find('\n', begin);
    const std::string_view line = head.substr(begin, eol == std::string_view::npos ? head.npos : eol - begin);
    if (Trim(line).empty()) break;  // the empty line that ends the head: what follows is a body
    // Obsolete line folding (a continuation starting with a space or tab) is not a field; the
    // folded text is not appended (no value we report is ever folded).
    if (line.front() == ' ' || line.front() == '\t') continue;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      out.bad_field_line = true;
      break;
    }
    out.headers[out.header_count++] = {Trim(line.substr(0, colon)), Trim(line.substr(colon + 1))};
  }
  return true;
}

}  // namespace auscult::sensor::http
