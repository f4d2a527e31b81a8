#include "sensor/parsers/http/http_message.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"

namespace auscult::sensor::http {
namespace {

constexpr size_t kMaxHeaders = 64;

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
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
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
  std::vector<std::string_view> parts;
  for (absl::string_view p : absl::StrSplit(AsAbsl(start), absl::MaxSplits(' ', 2))) parts.push_back(AsStd(p));
  if (parts.size() < 2) return false;
  if (parts[0].rfind("HTTP/1.", 0) == 0) {
    out.request = false;
    if (!absl::SimpleAtoi(AsAbsl(parts[1]), &out.status) || out.status < 100 || out.status > 999) return false;
  } else if (IsToken(parts[0]) && parts.size() == 3 && parts[2].rfind("HTTP/1.", 0) == 0) {
    out.request = true;
    out.method = std::string(parts[0]);
    out.target = std::string(parts[1]);
  } else {
    return false;
  }
  while (eol != std::string_view::npos && out.headers.size() < kMaxHeaders) {
    const size_t begin = eol + 1;
    eol = head.find('\n', begin);
    const std::string_view line = head.substr(begin, eol == std::string_view::npos ? head.npos : eol - begin);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    std::string name(Trim(line.substr(0, colon)));
    absl::AsciiStrToLower(&name);
    out.headers.emplace_back(std::move(name), std::string(Trim(line.substr(colon + 1))));
  }
  return true;
}

}  // namespace auscult::sensor::http
