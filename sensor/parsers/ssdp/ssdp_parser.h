#ifndef AUSCULT_SENSOR_PARSERS_SSDP_SSDP_PARSER_H_
#define AUSCULT_SENSOR_PARSERS_SSDP_SSDP_PARSER_H_

#include "sensor/parsers/parser.h"

namespace auscult::sensor::ssdp {

// SSDP on UDP 1900: the SERVER a UPnP device announces (OS, UPnP stack and product), the device and
// service types it offers, and the USER-AGENT of control points that search. Description URLs are
// never fetched: the sensor is passive.
const ParserFactory* Factory();

}  // namespace auscult::sensor::ssdp

#endif  // AUSCULT_SENSOR_PARSERS_SSDP_SSDP_PARSER_H_
