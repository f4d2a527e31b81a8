#ifndef AUSCULT_SENSOR_PARSERS_WSD_WSD_PARSER_H_
#define AUSCULT_SENSOR_PARSERS_WSD_WSD_PARSER_H_

#include "sensor/parsers/parser.h"

namespace auscult::sensor::wsd {

// WS-Discovery on UDP 3702: the types an endpoint announces for itself (Windows computers, WSD
// printers and scanners, ONVIF cameras) and, from ONVIF scopes, its model and device type.
// XAddrs (metadata URLs) are never followed: the sensor is passive.
const ParserFactory* Factory();

}  // namespace auscult::sensor::wsd

#endif  // AUSCULT_SENSOR_PARSERS_WSD_WSD_PARSER_H_
