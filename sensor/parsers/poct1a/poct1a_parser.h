#ifndef AUSCULT_SENSOR_PARSERS_POCT1A_POCT1A_PARSER_H_
#define AUSCULT_SENSOR_PARSERS_POCT1A_POCT1A_PARSER_H_

// POCT1-A (CLSI POCT01-A2): point-of-care devices (glucose meters, blood gas and coagulation
// analyzers) talking to a data manager. XML messages, one after another on a TCP connection the
// device opens to a site-configured port (there is no standard one), each a root element named
// by its type ("HEL.R01" hello, "DST.R01" device status, "OBS.R01" patient observations, "ACK.R01",
// "EOT.R01", ...) whose fields carry their value in a V attribute: <DEV.serial_id V="123"/>.
//
// Read: the message types, and from the hello the device's identity (DEV.device_id, vendor_id,
// model_id, serial_id, manufacturer_name, sw_version). Patient observations (OBS.R01, OBS.R02 is
// quality control) are counted as patient data and never read; a PT.patient_id in them marks
// demographics.

#include <cstddef>
#include <span>
#include <string_view>

#include "sensor/parsers/parser.h"

namespace auscult::sensor::poct1a {

// The type of a message root element at the start of `text` ("<HEL.R01>" or "<HEL.R01 ...>"): three
// capital letters, ".R" and two digits; empty if `text` does not start with one.
std::string_view RootType(std::string_view text);

// The V attribute of the first element named `element` in `text` ("" when absent).
std::string_view ValueOf(std::string_view text, std::string_view element);

// Whether a flow's first bytes look like POCT1-A: an XML declaration or a message root element,
// with a message type root within the first bytes.
bool LooksLikePoct1a(std::span<const uint8_t> first);

const ParserFactory* Factory();

}  // namespace auscult::sensor::poct1a

#endif  // AUSCULT_SENSOR_PARSERS_POCT1A_POCT1A_PARSER_H_
