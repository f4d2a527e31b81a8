#ifndef AUSCULT_SENSOR_PARSERS_NBNS_NBNS_H_
#define AUSCULT_SENSOR_PARSERS_NBNS_NBNS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_address.h"
#include "sensor/parsers/dns/dns_message.h"
#include "sensor/parsers/parser.h"

namespace auscult::sensor::nbns {

// NetBIOS name service (RFC 1001/1002, UDP 137): DNS's message format (see dns_message.h) with
// names in "first-level encoding" (RFC 1001 §14.1): the 16-byte NetBIOS name (15 characters padded
// with spaces, then a suffix byte naming the service: 00 workstation, 20 file server, 1C domain
// controllers, ...) as 32 letters 'A'..'P', one per half-byte, optionally followed by a scope.
struct Name {
  std::string name;    // the 15 characters, trailing spaces removed
  uint8_t suffix = 0;  // the 16th byte
};
bool DecodeName(std::string_view encoded, Name& out);
// tshark's way of writing a name: "WORKGROUP<1d>".
std::string NameText(const Name& n);

// What a name record says: the name, whether it is a group name, and an address (NB records).
struct NameEntry {
  Name name;
  bool group = false;
  IpAddress address;  // unset for node status entries
};

// The name entries of an NB record (RFC 1002 §4.2.2: | NB_FLAGS (16; G = top bit) | NB_ADDRESS (32) | ...)
// or an NBSTAT record (§4.2.18: | NUM_NAMES (8) | NAME (16) NAME_FLAGS (16) ... | statistics |).
// False when the RDATA is malformed.
bool DecodeNb(const Name& name, std::span<const uint8_t> rdata, std::vector<NameEntry>& out);
bool DecodeNbstat(std::span<const uint8_t> rdata, std::vector<NameEntry>& out);

constexpr uint16_t kTypeNb = 0x20;
constexpr uint16_t kTypeNbstat = 0x21;

// The parser: names Windows hosts and printers register, the names they answer for (and list in
// node status replies), and the names they look up. Names with suffix 03 (the messenger service)
// are never reported: Windows registers the logged-on user's name under it.
const ParserFactory* Factory();

}  // namespace auscult::sensor::nbns

#endif  // AUSCULT_SENSOR_PARSERS_NBNS_NBNS_H_
