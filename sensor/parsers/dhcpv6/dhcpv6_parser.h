#ifndef AUSCULT_SENSOR_PARSERS_DHCPV6_DHCPV6_PARSER_H_
#define AUSCULT_SENSOR_PARSERS_DHCPV6_DHCPV6_PARSER_H_

#include "sensor/parsers/parser.h"

namespace auscult::sensor::dhcpv6 {

// DHCPv6 on UDP 546/547: the client's DUID, vendor class, user class, FQDN and option request list
// (a fingerprint of its DHCPv6 stack); the addresses a server assigns it; that the sender is a
// DHCPv6 server or relay agent.
const ParserFactory* Factory();

}  // namespace auscult::sensor::dhcpv6

#endif  // AUSCULT_SENSOR_PARSERS_DHCPV6_DHCPV6_PARSER_H_
