#ifndef AUSCULT_SENSOR_PARSERS_NTP_NTP_PARSER_H_
#define AUSCULT_SENSOR_PARSERS_NTP_NTP_PARSER_H_

#include "sensor/parsers/parser.h"

namespace auscult::sensor::ntp {

// NTP v1-v4 on UDP 123: which server each device takes its time from (a clinical record's
// timestamps are only as good as that), which devices serve time, and servers that answer the
// control (mode 6) and private (mode 7, "monlist") queries that make them amplifiers.
const ParserFactory* Factory();

}  // namespace auscult::sensor::ntp

#endif  // AUSCULT_SENSOR_PARSERS_NTP_NTP_PARSER_H_
