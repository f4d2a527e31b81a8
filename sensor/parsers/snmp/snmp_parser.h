#ifndef AUSCULT_SENSOR_PARSERS_SNMP_SNMP_PARSER_H_
#define AUSCULT_SENSOR_PARSERS_SNMP_SNMP_PARSER_H_

#include "sensor/parsers/parser.h"

namespace auscult::sensor::snmp {

// SNMP v1, v2c and v3 on UDP 161/162: what an agent says of itself in its responses (sysDescr,
// sysObjectID, sysName), the enterprise its traps name, that it is an SNMP agent, and whether it
// answers to a factory-default community ("public", "private"). Community strings themselves are
// passwords and never leave the parser.
const ParserFactory* Factory();

}  // namespace auscult::sensor::snmp

#endif  // AUSCULT_SENSOR_PARSERS_SNMP_SNMP_PARSER_H_
