#ifndef AUSCULT_SENSOR_PARSERS_DHCPV6_DHCPV6_MESSAGE_H_
#define AUSCULT_SENSOR_PARSERS_DHCPV6_DHCPV6_MESSAGE_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/ip_address.h"
#include "common/mac_address.h"

namespace auscult::sensor::dhcpv6 {

// A DHCPv6 message (RFC 8415), as far as device identity needs it.
//
// Client/server messages (§8):            Relay agent/server messages (§9):
//    0               1               2               3
//   |   msg-type    |        transaction-id (3)       |   | msg-type | hop-count | link-address (16) |
//   |                 options ...                     |   | peer-address (16) | options ...           |
//
// Options (§21.1), also nested inside IA_NA, IA_TA, IA Address and Relay Message:
//   |        option-code (2)        |        option-len (2)         |  option-data (option-len)  |
//
// A relay's RELAY-FORW (12) carries the client's message, a server's RELAY-REPL (13) the reply to
// it, in option 9 (Relay Message); relays may relay relays (§19.1.2, at most HOP_COUNT_LIMIT 8
// deep). The decoder unwraps them and describes the innermost message.
struct IaAddress {
  IpAddress address;
  uint32_t valid_lifetime = 0;  // seconds; 0: the address is no longer valid (§21.6)
};

struct Message {
  uint8_t type = 0;         // the innermost message's type: 1 SOLICIT, 2 ADVERTISE, 3 REQUEST, 7 REPLY, ...
  uint8_t outer_type = 0;   // the message as sent: 12 RELAY-FORW or 13 RELAY-REPL when relayed, else `type`
  int relay_depth = 0;      // relay headers unwrapped
  std::string client_duid;  // option 1, hex
  bool has_duid_mac = false;
  MacAddress duid_mac;               // the link-layer address in a DUID-LLT or DUID-LL of hardware type 1 (Ethernet)
  std::string server_duid;           // option 2, hex
  std::string oro;                   // option 6 as "23,24,39"
  std::string user_class;            // option 15, items joined by ","
  bool user_class_unframed = false;  // option 15 as plain text, without RFC 8415 item lengths
  std::vector<std::string> vendor_classes;  // option 16, each item as "enterprise N: text"
  std::string fqdn;                         // option 39 (RFC 4704), the name
  std::vector<IaAddress> addresses;         // option 5 inside options 3 (IA_NA) and 4 (IA_TA)
  bool has_relay_client_mac = false;        // option 79 (RFC 6939) in a RELAY-FORW: the client's MAC
  MacAddress relay_client_mac;
};

// Message types (RFC 8415 §7.3).
inline bool IsClientMessage(uint8_t type) {
  return type == 1 || type == 3 || type == 4 || type == 5 || type == 6 || type == 8 || type == 9 || type == 11;
}
inline bool IsServerMessage(uint8_t type) { return type == 2 || type == 7 || type == 10; }
constexpr uint8_t kReply = 7;
constexpr uint8_t kRelayForw = 12;
constexpr uint8_t kRelayRepl = 13;

enum class Error { kNone, kTruncated, kBadType, kOptionOverrun, kBadOption, kRelayWithoutMessage, kRelayTooDeep };
const char* ErrorName(Error e);

// Parses a UDP payload. Returns false (and why) for anything that is not a well-formed message.
bool Parse(std::span<const uint8_t> payload, Message& out, Error& error);

}  // namespace auscult::sensor::dhcpv6

#endif  // AUSCULT_SENSOR_PARSERS_DHCPV6_DHCPV6_MESSAGE_H_
