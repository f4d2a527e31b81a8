#ifndef AUSCULT_SENSOR_PARSERS_BROWSER_BROWSER_MESSAGE_H_
#define AUSCULT_SENSOR_PARSERS_BROWSER_BROWSER_MESSAGE_H_

// The Windows browser protocol ([MS-BRWS]) as it travels on UDP 138: a NetBIOS datagram
// (RFC 1002 4.4) carrying an SMB1 TRANSACTION that writes to the mailslot \MAILSLOT\BROWSE
// ([MS-MAIL]), whose data is a browser message. Hosts announce themselves this way every few
// minutes: their NetBIOS name, OS version, the roles they play, and their workgroup. Other
// mailslots (NETLOGON's carry account names) are never decoded.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/ip_address.h"

namespace auscult::sensor::browser {

struct Datagram {
  // The NetBIOS datagram header.
  uint8_t type = 0;         // 0x10 direct unique, 0x11 direct group, 0x12 broadcast
  IpAddress source_ip;      // the host that sent it (a datagram distributor may relay it)
  std::string source_name;  // its NetBIOS name
  uint8_t source_suffix = 0;
  std::string destination_name;  // the group it is for: WORKGROUP<1D> (master browser), <1E> (browsers)
  uint8_t destination_suffix = 0;
  bool first_fragment = false;
  // The SMB transaction inside.
  bool browser = false;  // written to \MAILSLOT\BROWSE; what follows is set only then
  uint8_t opcode = 0;
  // HostAnnouncement (0x01), LocalMasterAnnouncement (0x0F), DomainAnnouncement (0x0C): the host's
  // (or for DomainAnnouncement the workgroup's) name, OS version, server type bits and comment
  // (for DomainAnnouncement the local master browser's name).
  // RequestElection (0x08), AnnouncementRequest (0x02), MasterAnnouncement (0x0D): a name of the
  // sender's in `server_name`.
  std::string server_name;
  bool has_version = false;
  uint8_t os_major = 0;
  uint8_t os_minor = 0;
  uint32_t server_type = 0;
  std::string comment;
};

enum class Error { kNone, kTruncated, kBadDatagram, kBadTransaction };
const char* ErrorName(Error e);

// Parses a UDP 138 payload. Datagrams of other types (errors, name queries), later fragments
// and other mailslots parse as true with `browser` false. False (and why) when malformed;
// fields read before the fault stay in `out`.
bool Parse(std::span<const uint8_t> payload, Datagram& out, Error& error);

// SV_TYPE_* bits ([MS-RAP] 2.5.5.2.1) as capability names ("workstation", "master-browser", ...),
// without the bits that only mark how the announcement is listed.
std::vector<const char*> ServerTypeNames(uint32_t server_type);

constexpr uint32_t kServerTypeServer = 0x00000002;  // SV_TYPE_SERVER: shares files
constexpr uint32_t kServerTypeUnix = 0x00000800;    // SV_TYPE_SERVER_UNIX: Samba sets it
constexpr uint32_t kServerTypeOsf = 0x00100000;     // SV_TYPE_SERVER_OSF
constexpr uint32_t kServerTypeVms = 0x00200000;     // SV_TYPE_SERVER_VMS

}  // namespace auscult::sensor::browser

#endif  // AUSCULT_SENSOR_PARSERS_BROWSER_BROWSER_MESSAGE_H_
