#include "sensor/parsers/syslog/syslog_message.h"

#include <array>
#include <cctype>

#include "common/ip_address.h"

namespace auscult::sensor::syslog {
namespace {

constexpr size_t kMaxHostname = 255;  // RFC 5424 §6.2.4
constexpr size_t kMaxAppName = 48;    // RFC 5424 §6.2.5; longer than 3164's 32, which devices exceed

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsPrintable(char c) { return c >= 33 && c <= 126; }  // PRINTUSASCII, no space

// The next space-delimited token; `s` advances past it and one following space.
std::string_view Token(std::string_view& s) {
  const size_t end = s.find(' ');
  const std::string_view token = s.substr(0, end);
  s.remove_prefix(end == std::string_view::npos ? s.size() : end + 1);
  return token;
}

bool AllPrintable(std::string_view s) {
  for (char c : s) {
    if (!IsPrintable(c)) return false;
  }
  return true;
}

// RFC 3339 as 5424 §6.2.3 restricts it: "2003-10-11T22:14:15.003Z", "...+04:00". Checked as far
// as telling it from other text: date digits, 'T', time digits.
bool IsRfc3339(std::string_view t) {
  if (t.size() < 19) return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
    if (!IsDigit(t[i])) return false;
  }
  return t[4] == '-' && t[7] == '-' && t[10] == 'T' && t[13] == ':' && t[16] == ':';
}

// "Mmm dd hh:mm:ss" (RFC 3164 §4.1.2); a zero-padded day ("Jan 01") is tolerated, as devices send it.
bool IsBsdTimestamp(std::string_view t) {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (t.size() != 15) return false;
  bool month = false;
  for (std::string_view m : kMonths) month = month || t.substr(0, 3) == m;
  if (!month || t[3] != ' ' || !(t[4] == ' ' || IsDigit(t[4])) || !IsDigit(t[5]) || t[6] != ' ') return false;
  for (size_t i : {7, 8, 10, 11, 13, 14}) {
    if (!IsDigit(t[i])) return false;
  }
  return t[9] == ':' && t[12] == ':';
}

bool Nil(std::string_view s) { return s == "-"; }

// RFC 5424, from VERSION on (the caller has read PRI).
bool Parse5424(std::string_view s, Message& m) {
  if (Token(s) != "1") return false;
  const std::string_view timestamp = Token(s);
  if (!Nil(timestamp) && !IsRfc3339(timestamp)) return false;
  const std::string_view hostname = Token(s);
  const std::string_view app = Token(s);
  if (hostname.empty() || hostname.size() > kMaxHostname || !AllPrintable(hostname)) return false;
  m.version = 1;
  if (!Nil(hostname)) m.hostname = std::string(hostname);
  if (!Nil(app) && !app.empty() && app.size() <= kMaxAppName && AllPrintable(app)) m.app_name = std::string(app);
  return true;
}

// RFC 3164 (and rsyslog's RFC 3339 variant), from TIMESTAMP on.
void Parse3164(std::string_view s, Message& m) {
  if (s.size() >= 15 && IsBsdTimestamp(s.substr(0, 15))) {
    s.remove_prefix(15);
    if (s.empty() || s[0] != ' ') return;
    s.remove_prefix(1);
  } else if (!IsRfc3339(Token(s))) {
    return;
  }
  const std::string_view hostname = Token(s);
  // A token ending in ':' or holding '[' is a TAG: the sender left its HOSTNAME out.
  if (hostname.empty() || hostname.size() > kMaxHostname || !AllPrintable(hostname) || hostname.back() == ':' ||
      hostname.find('[') != std::string_view::npos) {
    return;
  }
  m.hostname = std::string(hostname);
  // TAG: alphanumerics (and the - _ . / that daemons' names hold), ended by '[' or ':'.
  size_t n = 0;
  while (n < s.size() && n <= kMaxAppName &&
         (std::isalnum(static_cast<unsigned char>(s[n])) || s[n] == '-' || s[n] == '_' || s[n] == '.' || s[n] == '/')) {
    ++n;
  }
  if (n > 0 && n <= kMaxAppName && n < s.size() && (s[n] == '[' || s[n] == ':'))
    m.app_name = std::string(s.substr(0, n));
}

}  // namespace

const char* ErrorName(Error e) {
  switch (e) {
    case Error::kNone:
      return "none";
    case Error::kNoPriority:
      return "syslog_no_priority";
  }
  return "syslog_unknown";
}

bool Parse(std::string_view s, Message& m, Error& error) {
  error = Error::kNone;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == '\0')) s.remove_suffix(1);
  // PRI (RFC 5424 §6.2.1): '<', 1-3 digits (no leading zero but "0" itself), '>', at most 191.
  size_t digits = 0;
  int priority = 0;
  while (digits < 4 && 1 + digits < s.size() && IsDigit(s[1 + digits])) {
    priority = priority * 10 + (s[1 + digits] - '0');
    ++digits;
  }
  if (s.empty() || s[0] != '<' || digits == 0 || digits > 3 || 1 + digits >= s.size() || s[1 + digits] != '>' ||
      priority > 191 || (digits > 1 && s[1] == '0')) {
    error = Error::kNoPriority;
    return false;
  }
  m.priority = priority;
  s.remove_prefix(2 + digits);
  if (!s.empty() && IsDigit(s[0]) && Parse5424(s, m)) return true;
  Parse3164(s, m);
  return true;
}

bool IsIpAddress(std::string_view s) { return IpAddress::Parse(s).has_value(); }

}  // namespace auscult::sensor::syslog
