#ifndef AUSCULT_SENSOR_PARSERS_SMB_NTLMSSP_H_
#define AUSCULT_SENSOR_PARSERS_SMB_NTLMSSP_H_

// NTLMSSP messages ([MS-NLMP] 2.2.1), as SMB carries them in its security blobs: what the server
// says of itself in the CHALLENGE (its NetBIOS and DNS names and domain, its OS version) and what
// the client says in the NEGOTIATE and AUTHENTICATE (its workstation name and domain, its OS
// version). The user name and the challenge responses (password hashes) are never read.

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace auscult::sensor::smb {

// [MS-NLMP] 2.2.2.10 VERSION, present when NTLMSSP_NEGOTIATE_VERSION is set:
//   | ProductMajorVersion (1) | ProductMinorVersion (1) | ProductBuild (2) | Reserved (3) |
//   | NTLMRevisionCurrent (1) |
struct NtlmVersion {
  bool present = false;
  uint8_t major = 0;
  uint8_t minor = 0;
  uint16_t build = 0;
};

struct NtlmMessage {
  uint32_t type = 0;  // 1 NEGOTIATE, 2 CHALLENGE, 3 AUTHENTICATE
  uint32_t flags = 0;
  NtlmVersion version;
  // NEGOTIATE (when the client supplies them, OEM) and AUTHENTICATE: the client's names.
  std::string workstation;
  std::string domain;
  // CHALLENGE: TargetName (the server's domain or its own name, by flags) and the AV pairs of
  // TargetInfo ([MS-NLMP] 2.2.2.1).
  std::string target_name;
  std::string nb_computer;   // MsvAvNbComputerName (1)
  std::string nb_domain;     // MsvAvNbDomainName (2)
  std::string dns_computer;  // MsvAvDnsComputerName (3)
  std::string dns_domain;    // MsvAvDnsDomainName (4)
  std::string dns_tree;      // MsvAvDnsTreeName (5)

  bool target_is_domain() const { return flags & 0x00010000; }  // NTLMSSP_TARGET_TYPE_DOMAIN
  bool target_is_server() const { return flags & 0x00020000; }  // NTLMSSP_TARGET_TYPE_SERVER
};

enum class NtlmError { kNone, kTruncated, kBadMessage, kBadField, kBadAvPair };
const char* NtlmErrorName(NtlmError e);

// The NTLMSSP message inside a security blob: found by its signature "NTLMSSP\0" rather than by
// decoding SPNEGO (RFC 4178) ASN.1 around it; when the signature sits in a DER OCTET STRING, the
// view ends with that string, otherwise at the end of the blob. Nullopt when there is none.
std::optional<std::span<const uint8_t>> FindNtlmssp(std::span<const uint8_t> blob);

// Parses an NTLMSSP message that starts at its signature. Every (length, offset) field is
// checked against the message. False (and why) when it is malformed; fields read before the
// fault stay in `out`.
bool ParseNtlmssp(std::span<const uint8_t> message, NtlmMessage& out, NtlmError& error);

// "Windows 10.0 build 19041".
std::string VersionText(const NtlmVersion& v);

}  // namespace auscult::sensor::smb

#endif  // AUSCULT_SENSOR_PARSERS_SMB_NTLMSSP_H_
