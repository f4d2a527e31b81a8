#ifndef AUSCULT_SENSOR_PARSERS_REGISTRY_H_
#define AUSCULT_SENSOR_PARSERS_REGISTRY_H_

#include <vector>

#include "sensor/parsers/parser.h"

namespace auscult::sensor {

// Every application parser the sensor ships, in the order flows are offered to them.
const std::vector<const ParserFactory*>& Parsers();
// Every link-layer protocol parser (LLDP, CDP).
const std::vector<FrameParser*>& FrameParsers();

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_PARSERS_REGISTRY_H_
