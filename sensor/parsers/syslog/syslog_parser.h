#ifndef AUSCULT_SENSOR_PARSERS_SYSLOG_SYSLOG_PARSER_H_
#define AUSCULT_SENSOR_PARSERS_SYSLOG_SYSLOG_PARSER_H_

#include "sensor/parsers/parser.h"

namespace auscult::sensor::syslog {

// Syslog (RFC 3164, RFC 5424) on UDP 514 and on TCP 514/601 (RFC 6587 framing, octet counting or
// newline): the HOSTNAME and APP-NAME/TAG a sender puts in its headers, and that the receiver
// collects logs. Message text can hold patient data and is never reported.
const ParserFactory* Factory();

}  // namespace auscult::sensor::syslog

#endif  // AUSCULT_SENSOR_PARSERS_SYSLOG_SYSLOG_PARSER_H_
