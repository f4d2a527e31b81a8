// The one list of parsers: a protocol is added by a line here (and its folder beside this file).
#include "sensor/parsers/registry.h"

namespace auscult::sensor {

const std::vector<const ParserFactory*>& Parsers() {
  static const std::vector<const ParserFactory*> kParsers = {
      // Parsers for identity (DHCP, DNS, LLDP, HTTP, TLS, ...) and clinical protocols (HL7, DICOM)
      // register here as they arrive.
  };
  return kParsers;
}

}  // namespace auscult::sensor
