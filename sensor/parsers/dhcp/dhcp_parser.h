#ifndef AUSCULT_SENSOR_PARSERS_DHCP_DHCP_PARSER_H_
#define AUSCULT_SENSOR_PARSERS_DHCP_DHCP_PARSER_H_

#include "sensor/parsers/parser.h"

namespace auscult::sensor::dhcp {

// DHCPv4 on UDP 67/68: the client's host name, vendor class, parameter request list (a fingerprint
// of its DHCP stack), client id, FQDN, user class and vendor information, on the client's MAC
// (chaddr, even behind a relay); the address a server assigns it; that the sender is a DHCP server.
const ParserFactory* Factory();

}  // namespace auscult::sensor::dhcp

#endif  // AUSCULT_SENSOR_PARSERS_DHCP_DHCP_PARSER_H_
