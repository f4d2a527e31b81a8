#ifndef AUSCULT_SENSOR_PARSERS_SMB_SMB_MESSAGE_H_
#define AUSCULT_SENSOR_PARSERS_SMB_SMB_MESSAGE_H_

// SMB as far as device identity needs it: the NetBIOS session framing, the NEGOTIATE and
// SESSION_SETUP exchanges of SMB1 ([MS-CIFS], [MS-SMB]) and SMB2/3 ([MS-SMB2]), and the security
// blobs they carry (NTLMSSP is decoded by ntlmssp.h). Everything after the session is set up
// (file names, contents: possibly patient data) is never looked at.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace auscult::sensor::smb {

// NetBIOS session service framing (RFC 1002 4.3.1), on TCP 139 and, with the type always 0 and a
// 24-bit length, on TCP 445 ([MS-SMB2] 2.1):
//   | Type (1) | Flags (1, low bit: length bit 16) | Length (2) |   or   | 0x00 | Length (3) |
// Types: 0x00 session message, 0x81 session request, 0x82 positive response, 0x83 negative
// response, 0x84 retarget, 0x85 keepalive.
constexpr size_t kSessionHeaderSize = 4;
struct SessionHeader {
  uint8_t type = 0;
  uint32_t length = 0;
};
SessionHeader ReadSessionHeader(const uint8_t header[kSessionHeaderSize]);
bool KnownSessionType(uint8_t type);

// A session request (0x81): | called name | calling name |, NetBIOS names (smb_wire.h).
struct SessionRequest {
  std::string called;  // the server's name as the client calls it ("*SMBSERVER" for any)
  uint8_t called_suffix = 0;
  std::string calling;  // the client's own name
  uint8_t calling_suffix = 0;
};

enum class Error {
  kNone,
  kTruncated,       // shorter than its header or fields say
  kBadHeader,       // not an SMB header, or a header of the wrong size
  kBadStructure,    // a command body of unexpected WordCount or StructureSize
  kBadBuffer,       // a security buffer outside the message
  kBadCompound,     // an SMB2 NextCommand that does not point at the next header
  kBadSessionName,  // a session request whose names are not NetBIOS names
};
const char* ErrorName(Error e);

bool ParseSessionRequest(std::span<const uint8_t> payload, SessionRequest& out, Error& error);

// What one SMB command says about its sender (only NEGOTIATE and SESSION_SETUP are decoded; other
// commands keep only their header fields).
struct Command {
  int version = 0;  // 1 (SMB1) or 2 (SMB2/3)
  bool response = false;
  uint16_t command = 0;  // SMB1 0x72 NEGOTIATE, 0x73 SESSION_SETUP_ANDX; SMB2 0 NEGOTIATE, 1 SESSION_SETUP
  uint32_t status = 0;
  bool negotiate = false;
  bool session_setup = false;
  // SMB1 NEGOTIATE request: the dialect strings offered ("NT LM 0.12", "SMB 2.002", ...).
  std::vector<std::string> dialects;
  // SMB1 NEGOTIATE response: the index of the chosen one (0xFFFF: none), and without extended
  // security the server's domain and name.
  uint16_t dialect_index = 0xFFFF;
  // SMB2 NEGOTIATE response: the chosen dialect (0x0202 ... 0x0311; 0x02FF asks for an SMB2
  // NEGOTIATE to follow).
  uint16_t dialect_revision = 0;
  // SMB2 NEGOTIATE request: SMB2_NETNAME_NEGOTIATE_CONTEXT_ID, the server name the client uses.
  std::string netname;
  // SMB1 SESSION_SETUP_ANDX (and NEGOTIATE response for the domain and server).
  std::string native_os;
  std::string native_lanman;
  std::string primary_domain;
  std::string server_name;
  // The security blob of a NEGOTIATE response or SESSION_SETUP (a view into the message).
  std::span<const uint8_t> security_blob;
};

// SMB2 dialect revision as text: 0x0311 "SMB 3.1.1"; empty for the 0x02FF wildcard.
std::string DialectName(uint16_t revision);

// Parses one session message: an SMB1 message (its first command; AndX followers are not
// needed) or an SMB2 message with its compounded commands. Transform headers (encrypted or
// compressed SMB2) give no commands and `encrypted` true. False (and why) when malformed;
// commands read before the fault stay in `out`.
bool ParseMessage(std::span<const uint8_t> message, std::vector<Command>& out, bool& encrypted, Error& error);

// Whether a payload starts like SMB over NetBIOS framing (to recognise SMB off its ports).
bool LooksLikeSmb(std::span<const uint8_t> payload);

}  // namespace auscult::sensor::smb

#endif  // AUSCULT_SENSOR_PARSERS_SMB_SMB_MESSAGE_H_
