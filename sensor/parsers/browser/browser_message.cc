#include "sensor/parsers/browser/browser_message.h"

#include <string_view>

#include "common/byte_reader.h"
#include "sensor/parsers/smb/smb_wire.h"

namespace auscult::sensor::browser {
namespace {

using smb::Le16At;
using smb::Le32At;

constexpr int kMaxServerTypeBits = 32;

bool Fail(Error e, Error& error) {
  error = e;
  return false;
}

// A NUL-terminated (or field-filling) OEM string of at most `max` bytes.
std::string Oem(std::span<const uint8_t> bytes, size_t max) {
  size_t end = 0;
  while (end < bytes.size() && end < max && bytes[end] != 0) ++end;
  return smb::Trimmed(std::string_view(reinterpret_cast<const char*>(bytes.data()), end));
}

// The browser message ([MS-BRWS] 2.2), after its | Opcode (1) |:
//   0x01 HostAnnouncement, 0x0F LocalMasterAnnouncement, 0x0C DomainAnnouncement (2.2.1, 2.2.6, 2.2.7):
//     | UpdateCount (1) | Periodicity (4) | ServerName (16, NUL-padded) | OSVersionMajor (1) |
//     | OSVersionMinor (1) | ServerType (4) | BrowserVersionMajor (1) | BrowserVersionMinor (1) |
//     | Signature (2) | Comment (NUL-terminated, at most 43) |
//   0x02 AnnouncementRequest (2.2.2): | Unused (1) | ResponseName (NUL-terminated, at most 16) |
//   0x08 RequestElection (2.2.3): | Version (1) | Criteria (4) | Uptime (4) | Unused (4) | ServerName |
//   0x0D MasterAnnouncement (2.2.8): | MasterBrowserServerName (NUL-terminated) |
bool ParseBrowser(std::span<const uint8_t> data, Datagram& out, Error& error) {
  if (data.empty()) return Fail(Error::kTruncated, error);
  out.opcode = data[0];
  const std::span<const uint8_t> rest = data.subspan(1);
  switch (out.opcode) {
    case 0x01:
    case 0x0F:
    case 0x0C:
      if (rest.size() < 1 + 4 + 16 + 1 + 1 + 4 + 1 + 1 + 2) return Fail(Error::kTruncated, error);
      out.server_name = Oem(rest.subspan(5, 16), 16);
      out.has_version = true;
      out.os_major = rest[21];
      out.os_minor = rest[22];
      out.server_type = Le32At(rest, 23);
      out.comment = Oem(rest.subspan(31), 43);
      return true;
    case 0x02:
      if (rest.size() < 2) return Fail(Error::kTruncated, error);
      out.server_name = Oem(rest.subspan(1), 16);
      return true;
    case 0x08:
      if (rest.size() < 1 + 4 + 4 + 4 + 1) return Fail(Error::kTruncated, error);
      out.server_name = Oem(rest.subspan(13), 16);
      return true;
    case 0x0D:
      out.server_name = Oem(rest, 16);
      return true;
    default:  // backup lists, reset, become-backup: about other hosts, or nobody
      return true;
  }
}

// SMB_COM_TRANSACTION request ([MS-CIFS] 2.2.4.33.1) as a mailslot write ([MS-MAIL] 2.2.1):
//   words | TotalParameterCount (2) | TotalDataCount (2) | MaxParameterCount (2) | MaxDataCount (2) |
//         | MaxSetupCount (1) | Reserved1 (1) | Flags (2) | Timeout (4) | Reserved2 (2) |
//         | ParameterCount (2) | ParameterOffset (2) | DataCount (2) | DataOffset (2) |
//         | SetupCount (1) | Reserved3 (1) | Setup (2 each: opcode 1 write, priority, class) |
//   bytes | Name ("\MAILSLOT\BROWSE") | Pad | Parameters | Pad | Data |
// DataOffset counts from the SMB header.
bool ParseTransaction(std::span<const uint8_t> smb_message, Datagram& out, Error& error) {
  smb::Smb1Message m;
  switch (smb::ParseSmb1Message(smb_message, m)) {
    case smb::Smb1Result::kOk:
      break;
    case smb::Smb1Result::kNotSmb1:
      return Fail(Error::kBadTransaction, error);
    case smb::Smb1Result::kTruncated:
      return Fail(Error::kTruncated, error);
  }
  if (m.command != 0x25 || m.response()) return true;  // not a mailslot write
  if (m.words.size() < 28) return Fail(Error::kBadTransaction, error);
  const uint16_t data_count = Le16At(m.words, 22);
  const uint16_t data_offset = Le16At(m.words, 24);
  size_t pos = 0;
  const std::string name = smb::ReadSmbString(m.bytes, pos, m.bytes_offset, m.unicode(), true);
  if (name != "\\MAILSLOT\\BROWSE") return true;
  out.browser = true;
  if (data_offset > smb_message.size() || smb_message.size() - data_offset < data_count) {
    return Fail(Error::kBadTransaction, error);
  }
  return ParseBrowser(smb_message.subspan(data_offset, data_count), out, error);
}

}  // namespace

const char* ErrorName(Error e) {
  switch (e) {
    case Error::kNone:
      return "smb_browser_none";
    case Error::kTruncated:
      return "smb_browser_truncated";
    case Error::kBadDatagram:
      return "smb_browser_bad_datagram";
    case Error::kBadTransaction:
      return "smb_browser_bad_transaction";
  }
  return "smb_browser_bad_datagram";
}

// NetBIOS datagram header (RFC 1002 4.4.1, 4.4.2), for DIRECT_UNIQUE, DIRECT_GROUP and BROADCAST:
//   | MSG_TYPE (1) | FLAGS (1: 0x01 more, 0x02 first, 0x0C node type) | DGM_ID (2) |
//   | SOURCE_IP (4) | SOURCE_PORT (2) | DGM_LENGTH (2) | PACKET_OFFSET (2) |
//   | SOURCE_NAME | DESTINATION_NAME | USER_DATA |
bool Parse(std::span<const uint8_t> payload, Datagram& out, Error& error) {
  error = Error::kNone;
  ByteReader r(payload);
  out.type = r.U8();
  const uint8_t flags = r.U8();
  r.Skip(2);
  const uint8_t* ip = r.Bytes(4);
  if (!r.ok()) return Fail(Error::kTruncated, error);
  if (out.type < 0x10 || out.type > 0x16) return Fail(Error::kBadDatagram, error);
  if (out.type > 0x12) return true;  // error, query request, responses: no user data
  out.source_ip = IpAddress::V4(ip);
  r.Skip(2);
  r.Skip(2);  // DGM_LENGTH: the UDP length says as much
  const uint16_t packet_offset = r.U16();
  if (!r.ok()) return Fail(Error::kTruncated, error);
  if (!smb::ReadNetbiosName(r, out.source_name, out.source_suffix) ||
      !smb::ReadNetbiosName(r, out.destination_name, out.destination_suffix)) {
    return Fail(r.ok() ? Error::kBadDatagram : Error::kTruncated, error);
  }
  out.first_fragment = (flags & 0x02) && packet_offset == 0;
  if (!out.first_fragment) return true;  // the SMB header is in the first fragment only
  return ParseTransaction(r.Rest(), out, error);
}

std::vector<const char*> ServerTypeNames(uint32_t server_type) {
  static constexpr const char* kNames[kMaxServerTypeBits] = {
      "workstation",               // SV_TYPE_WORKSTATION
      "server",                    // SV_TYPE_SERVER
      "sql-server",                // SV_TYPE_SQLSERVER
      "domain-controller",         // SV_TYPE_DOMAIN_CTRL
      "backup-domain-controller",  // SV_TYPE_DOMAIN_BAKCTRL
      "time-source",               // SV_TYPE_TIME_SOURCE
      "apple-file-server",         // SV_TYPE_AFP
      "novell-server",             // SV_TYPE_NOVELL
      "domain-member",             // SV_TYPE_DOMAIN_MEMBER
      "print-server",              // SV_TYPE_PRINTQ_SERVER
      "dial-in-server",            // SV_TYPE_DIALIN_SERVER
      "unix-server",               // SV_TYPE_SERVER_UNIX (XENIX)
      "windows-nt",                // SV_TYPE_NT
      "windows-for-workgroups",    // SV_TYPE_WFW
      "netware-file-print",        // SV_TYPE_SERVER_MFPN
      "windows-nt-server",         // SV_TYPE_SERVER_NT
      "potential-browser",         // SV_TYPE_POTENTIAL_BROWSER
      "backup-browser",            // SV_TYPE_BACKUP_BROWSER
      "master-browser",            // SV_TYPE_MASTER_BROWSER
      "domain-master-browser",     // SV_TYPE_DOMAIN_MASTER
      "osf-server",                // SV_TYPE_SERVER_OSF
      "vms-server",                // SV_TYPE_SERVER_VMS
      "windows-9x",                // SV_TYPE_WINDOWS
      "dfs-root",                  // SV_TYPE_DFS
      "cluster",                   // SV_TYPE_CLUSTER_NT
      "terminal-server",           // SV_TYPE_TERMINALSERVER
      "cluster-virtual-server",    // SV_TYPE_CLUSTER_VS_NT
      nullptr,                     // 0x08000000: unused
      "dce-server",                // SV_TYPE_DCE
      nullptr,                     // SV_TYPE_ALTERNATE_XPORT: how it is reached, not what it is
      nullptr,                     // SV_TYPE_LOCAL_LIST_ONLY: how it is listed
      nullptr,                     // SV_TYPE_DOMAIN_ENUM: marks a workgroup entry
  };
  std::vector<const char*> names;
  for (int bit = 0; bit < kMaxServerTypeBits; ++bit) {
    if ((server_type & (1u << bit)) && kNames[bit] != nullptr) names.push_back(kNames[bit]);
  }
  return names;
}

}  // namespace auscult::sensor::browser
