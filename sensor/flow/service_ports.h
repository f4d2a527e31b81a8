#ifndef AUSCULT_SENSOR_FLOW_SERVICE_PORTS_H_
#define AUSCULT_SENSOR_FLOW_SERVICE_PORTS_H_

#include <cstdint>
#include <string_view>

namespace auscult::sensor {

// The application protocol conventionally served on a TCP or UDP port, or empty. This is only a
// first guess from the port; parsers that recognise a protocol by content override it.
std::string_view ServiceForPort(uint8_t transport, uint16_t port);

// Application names are stored per flow as a small number: these map between the two. Names must
// outlive the process (string literals: port table entries and parser names). At most 255 names.
uint8_t ApplicationId(std::string_view name);
std::string_view ApplicationName(uint8_t id);
// The id of a name that need not outlive anything (read from a file): a copy is kept for the
// process. 0 when the names are full.
uint8_t InternApplication(std::string_view name);

// True for ports that identify a service (as opposed to ephemeral client ports).
bool IsServicePort(uint8_t transport, uint16_t port);

// True for the fixed client port of a protocol whose clients and servers both use well-known ports:
// DHCP's 68 (server 67) and DHCPv6's 546 (server 547). The client initiates, whichever number is lower.
bool IsClientPort(uint8_t transport, uint16_t port);

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_FLOW_SERVICE_PORTS_H_
