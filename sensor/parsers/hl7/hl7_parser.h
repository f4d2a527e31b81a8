#ifndef AUSCULT_SENSOR_PARSERS_HL7_HL7_PARSER_H_
#define AUSCULT_SENSOR_PARSERS_HL7_HL7_PARSER_H_

#include "sensor/parsers/parser.h"

namespace auscult::sensor::hl7 {

// HL7 v2 over MLLP on any TCP port, recognised by its first bytes (VT then "MSH"), or on the IANA
// port 2575. Tags the flow clinical; reports per message its type, the patient data kinds it
// carries (counted, never read) and each acknowledgment's code with its response time; reports
// about the devices the HL7 applications and facilities they send as or are addressed as, the
// message types and versions they send, their role (hl7-sender, hl7-receiver) and the equipment a
// device gateway's observations name (OBX-18, IHE PCD-01).
const ParserFactory* Factory();

}  // namespace auscult::sensor::hl7

#endif  // AUSCULT_SENSOR_PARSERS_HL7_HL7_PARSER_H_
