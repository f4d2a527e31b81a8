#ifndef AUSCULT_SENSOR_PARSERS_SYSLOG_SYSLOG_MESSAGE_H_
#define AUSCULT_SENSOR_PARSERS_SYSLOG_SYSLOG_MESSAGE_H_

#include <string>
#include <string_view>

namespace auscult::sensor::syslog {

// The header of a syslog message; the message text itself may carry patient data and is never
// kept.
//
// RFC 5424 §6:
//   <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]
//   PRI 0..191 in 1-3 digits; VERSION 1; TIMESTAMP RFC 3339 or "-"; HOSTNAME 1-255 printable
//   US-ASCII or "-"; APP-NAME 1-48 printable or "-".
// RFC 3164 §4.1 (BSD syslog, what most devices still send):
//   <PRI>TIMESTAMP SP HOSTNAME SP TAG[pid]: CONTENT
//   TIMESTAMP "Mmm dd hh:mm:ss" (dd space-padded); TAG up to 32 alphanumerics, ended by '[', ':'
//   or a space. rsyslog's variant puts an RFC 3339 timestamp in place of the BSD one.
// Without a timestamp there is no hostname either (RFC 3164 §4.3.2): the rest is content.
struct Message {
  int priority = -1;
  int version = 0;       // 1 for RFC 5424, 0 for RFC 3164
  std::string hostname;  // "" when absent or "-"
  std::string app_name;  // 5424 APP-NAME, or 3164 TAG; "" when absent or "-"
};

enum class Error { kNone, kNoPriority };
const char* ErrorName(Error e);

// Parses one message (without framing; trailing CR, LF and NUL are ignored). Only a message
// without a valid <PRI> is an error: everything after it is free-form to the RFCs' relays.
bool Parse(std::string_view text, Message& out, Error& error);

// Whether `s` is a textual IPv4 or IPv6 address (a HOSTNAME field may hold one).
bool IsIpAddress(std::string_view s);

}  // namespace auscult::sensor::syslog

#endif  // AUSCULT_SENSOR_PARSERS_SYSLOG_SYSLOG_MESSAGE_H_
