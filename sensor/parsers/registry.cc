// The one list of parsers: a protocol is added by a line here (and its folder beside this file).
#include "sensor/parsers/registry.h"

#include "sensor/parsers/cdp/cdp.h"
#include "sensor/parsers/dhcp/dhcp_parser.h"
#include "sensor/parsers/http/http_parser.h"
#include "sensor/parsers/lldp/lldp.h"
#include "sensor/parsers/tls/tls_parser.h"

namespace auscult::sensor {

const std::vector<const ParserFactory*>& Parsers() {
  static const std::vector<const ParserFactory*> kParsers = {
      dhcp::Factory(),
      http::Factory(),
      tls::Factory(),
  };
  return kParsers;
}

}  // namespace auscult::sensor

namespace auscult::sensor {

const std::vector<FrameParser*>& FrameParsers() {
  static const std::vector<FrameParser*> kParsers = {
      lldp::Parser(),
      cdp::Parser(),
  };
  return kParsers;
}

}  // namespace auscult::sensor
