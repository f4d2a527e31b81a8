// The one list of parsers: a protocol is added by a line here (and its folder beside this file).
#include "sensor/parsers/registry.h"

#include "sensor/parsers/browser/browser_parser.h"
#include "sensor/parsers/cdp/cdp.h"
#include "sensor/parsers/dhcp/dhcp_parser.h"
#include "sensor/parsers/dhcpv6/dhcpv6_parser.h"
#include "sensor/parsers/dicom/dicom_parser.h"
#include "sensor/parsers/dns/dns_parser.h"
#include "sensor/parsers/hl7/hl7_parser.h"
#include "sensor/parsers/http/http_parser.h"
#include "sensor/parsers/lldp/lldp.h"
#include "sensor/parsers/nbns/nbns.h"
#include "sensor/parsers/ntp/ntp_parser.h"
#include "sensor/parsers/poct1a/poct1a_parser.h"
#include "sensor/parsers/smb/smb_parser.h"
#include "sensor/parsers/snmp/snmp_parser.h"
#include "sensor/parsers/ssdp/ssdp_parser.h"
#include "sensor/parsers/ssh/ssh_parser.h"
#include "sensor/parsers/syslog/syslog_parser.h"
#include "sensor/parsers/tls/tls_parser.h"
#include "sensor/parsers/wsd/wsd_parser.h"

namespace auscult::sensor {

const std::vector<const ParserFactory*>& Parsers() {
  // One line per parser.
  // clang-format off
  static const std::vector<const ParserFactory*> kParsers = {
      dhcp::Factory(),
      dhcpv6::Factory(),
      dns::DnsFactory(),
      dns::MdnsFactory(),
      dns::LlmnrFactory(),
      nbns::Factory(),
      http::Factory(),
      ssdp::Factory(),
      wsd::Factory(),
      snmp::Factory(),
      syslog::Factory(),
      ntp::Factory(),
      ssh::Factory(),
      smb::Factory(),
      browser::Factory(),
      tls::Factory(),
      hl7::Factory(),
      dicom::Factory(),
      poct1a::Factory(),
  };
  // clang-format on
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
