#ifndef AUSCULT_SENSOR_PARSERS_DHCP_DHCP_MESSAGE_H_
#define AUSCULT_SENSOR_PARSERS_DHCP_DHCP_MESSAGE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/ip_address.h"
#include "common/mac_address.h"

namespace auscult::sensor::dhcp {

// A DHCPv4 message (RFC 2131, options RFC 2132), as far as device identity needs it.
//
//    0                   1                   2                   3
//   |     op (1)    |   htype (1)   |   hlen (1)    |   hops (1)    |
//   |                            xid (4)                            |
//   |           secs (2)            |           flags (2)           |
//   |                 ciaddr | yiaddr | siaddr | giaddr (4 each)    |
//   |                     chaddr (16), sname (64), file (128)       |
//   |               magic cookie 99.130.83.99 (4) | options ...     |
// Options: | code | length | value |, 0 is padding, 255 ends; option 52 moves more options into
// the file and sname fields.
struct Message {
  uint8_t op = 0;    // 1 request (client), 2 reply (server)
  uint8_t type = 0;  // option 53: 1 DISCOVER, 2 OFFER, 3 REQUEST, 5 ACK, 8 INFORM, ...
  bool has_client_mac = false;
  MacAddress client_mac;       // chaddr when htype is Ethernet
  IpAddress client_ip;         // ciaddr
  IpAddress your_ip;           // yiaddr: the address a server assigns
  IpAddress relay_ip;          // giaddr: set when a relay agent forwarded the message
  IpAddress requested_ip;      // option 50
  IpAddress server_id;         // option 54
  uint32_t lease_seconds = 0;  // option 51
  std::string hostname;        // option 12
  std::string vendor_class;    // option 60
  std::string parameter_list;  // option 55 as "1,3,6,15"
  std::string client_id;       // option 61, hex
  std::string user_class;      // option 77
  std::string fqdn;            // option 81, the name part
  std::string vendor_info;     // option 43, when it is printable text
};

enum class Error { kNone, kTruncated, kNotEthernet, kBadMagic, kBadOption };
const char* ErrorName(Error e);

// Parses a UDP payload. Returns false (and why) for anything that is not a well-formed message;
// what was read up to the fault is still in `out`.
bool Parse(std::span<const uint8_t> payload, Message& out, Error& error);

}  // namespace auscult::sensor::dhcp

#endif  // AUSCULT_SENSOR_PARSERS_DHCP_DHCP_MESSAGE_H_
