#ifndef AUSCULT_SENSOR_PARSERS_CDP_CDP_H_
#define AUSCULT_SENSOR_PARSERS_CDP_CDP_H_

#include <span>
#include <string>
#include <vector>

#include "common/ip_address.h"
#include "sensor/parsers/parser.h"

namespace auscult::sensor::cdp {

// Cisco Discovery Protocol, in SNAP with OUI 00-00-0c and protocol 0x2000:
//   | version | TTL | checksum (2) | TLVs: | type (2) | length (2, with these 4 bytes) | value |
// 1 device id, 2 addresses, 3 port id, 4 capabilities (4-byte bit mask), 5 software version,
// 6 platform, 10 native VLAN, 22 management addresses. An address list is
//   | count (4) | per address: protocol type | protocol length | protocol | length (2) | address |
// with protocol type 1 (NLPID), protocol 0xcc for IPv4.
struct Packet {
  uint8_t version = 0;
  std::string device_id;
  std::string port_id;
  std::string software_version;
  std::string platform;
  std::vector<std::string> capabilities;
  std::vector<IpAddress> addresses;
  uint16_t native_vlan = 0;
};

enum class Error { kNone, kTruncated, kBadTlv };
const char* ErrorName(Error e);

bool Parse(std::span<const uint8_t> payload, Packet& out, Error& error);

// The frame parser: facts about the CDP sender (Cisco switches, routers, IP phones).
FrameParser* Parser();

}  // namespace auscult::sensor::cdp

#endif  // AUSCULT_SENSOR_PARSERS_CDP_CDP_H_
