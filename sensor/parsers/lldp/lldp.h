#ifndef AUSCULT_SENSOR_PARSERS_LLDP_LLDP_H_
#define AUSCULT_SENSOR_PARSERS_LLDP_LLDP_H_

#include <span>
#include <string>
#include <vector>

#include "common/ip_address.h"
#include "sensor/parsers/parser.h"

namespace auscult::sensor::lldp {

// An LLDP data unit (IEEE 802.1AB, EtherType 0x88cc): a sequence of TLVs,
//   | type (7 bits) | length (9 bits) | value (length bytes) |
// 1 chassis id, 2 port id (both: subtype + id), 3 TTL, 4 port description, 5 system name,
// 6 system description, 7 capabilities (supported, enabled; 2 bytes each), 8 management address
// (| length | address family | address | interface subtype | interface (4) | OID length | OID |),
// 127 organisation specific (| OUI (3) | subtype | ... |): TIA's LLDP-MED inventory (00-12-bb,
// subtypes 5-10: hardware, firmware, software revision, serial, manufacturer, model) and IEEE
// 802.1's port VLAN (00-80-c2, subtype 1). Type 0 ends the unit.
struct Unit {
  std::string chassis_id;
  std::string port_id;
  std::string port_description;
  std::string system_name;
  std::string system_description;
  std::vector<std::string> capabilities;  // enabled ones, by name
  std::vector<IpAddress> management_addresses;
  std::string hardware_revision, firmware_revision, software_revision, serial_number, manufacturer, model;
  uint16_t port_vlan = 0;
};

enum class Error { kNone, kTruncated, kBadTlv, kMissingMandatory };
const char* ErrorName(Error e);

bool Parse(std::span<const uint8_t> payload, Unit& out, Error& error);

// The frame parser: facts about the LLDP sender (a switch, or a host that speaks LLDP: phones,
// printers, many medical devices' embedded stacks).
FrameParser* Parser();

}  // namespace auscult::sensor::lldp

#endif  // AUSCULT_SENSOR_PARSERS_LLDP_LLDP_H_
