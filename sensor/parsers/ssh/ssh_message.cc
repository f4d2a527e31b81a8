#include "sensor/parsers/ssh/ssh_message.h"

namespace auscult::sensor::ssh {

const char* ErrorName(Error e) {
  switch (e) {
    case Error::kNone:
      return "none";
    case Error::kNotIdentification:
      return "ssh_no_identification";
    case Error::kTooLong:
      return "ssh_identification_too_long";
    case Error::kMalformed:
      return "ssh_bad_identification";
  }
  return "ssh_unknown";
}

bool ParseIdentification(std::string_view line, Identification& out, Error& error) {
  error = Error::kNone;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!line.starts_with("SSH-")) {
    error = Error::kNotIdentification;
    return false;
  }
  if (line.size() + 2 > kMaxIdentification) {
    error = Error::kTooLong;
    return false;
  }
  for (char c : line) {
    // Printable US-ASCII and space; a NUL or control byte means this is not the text it claims.
    if (c < 0x20 || c > 0x7e) {
      error = Error::kMalformed;
      return false;
    }
  }
  std::string_view rest = line.substr(4);
  const size_t dash = rest.find('-');
  if (dash == 0 || dash == std::string_view::npos) {
    error = Error::kMalformed;
    return false;
  }
  const std::string_view protocol = rest.substr(0, dash);
  for (char c : protocol) {
    if (!((c >= '0' && c <= '9') || c == '.')) {
      error = Error::kMalformed;
      return false;
    }
  }
  rest.remove_prefix(dash + 1);
  const size_t space = rest.find(' ');
  const std::string_view software = rest.substr(0, space);
  if (software.empty()) {
    error = Error::kMalformed;
    return false;
  }
  while (line.back() == ' ') line.remove_suffix(1);  // stops at the software version at the latest
  out.line = std::string(line);
  out.protocol_version = std::string(protocol);
  out.software_version = std::string(software);
  out.comments = space == std::string_view::npos ? "" : std::string(rest.substr(space + 1));
  return true;
}

}  // namespace auscult::sensor::ssh
