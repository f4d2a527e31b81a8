#ifndef AUSCULT_SENSOR_PARSERS_DNS_DNS_PARSER_H_
#define AUSCULT_SENSOR_PARSERS_DNS_DNS_PARSER_H_

#include "sensor/parsers/parser.h"

namespace auscult::sensor::dns {

// Unicast DNS (UDP and TCP port 53): the names each device asks for; the names a server's answers
// bind to addresses (A, AAAA, PTR), placed on the devices that hold those addresses.
const ParserFactory* DnsFactory();

// Multicast DNS and DNS-SD (UDP 5353): the host names a device claims for its addresses, the
// services it advertises (DNS-SD types) and their TXT entries (model=, vendor=, firmware=, ...),
// and what it browses for.
const ParserFactory* MdnsFactory();

// LLMNR (UDP and TCP 5355): the names Windows hosts ask their segment for, and the names they
// answer for.
const ParserFactory* LlmnrFactory();

}  // namespace auscult::sensor::dns

#endif  // AUSCULT_SENSOR_PARSERS_DNS_DNS_PARSER_H_
