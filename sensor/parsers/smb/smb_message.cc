#include "sensor/parsers/smb/smb_message.h"

#include "absl/strings/str_format.h"
#include "common/byte_reader.h"
#include "sensor/parsers/smb/smb_wire.h"

namespace auscult::sensor::smb {
namespace {

constexpr uint32_t kStatusMoreProcessingRequired = 0xC0000016;
constexpr uint32_t kCapExtendedSecurity = 0x80000000;
constexpr size_t kSmb2HeaderSize = 64;
constexpr int kMaxCompounded = 16;  // SMB2 commands in one message that are looked at
constexpr int kMaxDialects = 64;
constexpr int kMaxNegotiateContexts = 32;

bool Fail(Error e, Error& error) {
  error = e;
  return false;
}

// ---- SMB1 ----

// SMB_COM_NEGOTIATE request ([MS-CIFS] 2.2.4.52.1): no words; bytes are dialects, each
//   | BufferFormat 0x02 | DialectString (OEM, NUL-terminated) |
void Smb1NegotiateRequest(const Smb1Message& m, Command& c) {
  size_t pos = 0;
  for (int i = 0; i < kMaxDialects && pos < m.bytes.size(); ++i) {
    if (m.bytes[pos] != 0x02) break;
    ++pos;
    c.dialects.push_back(ReadSmbString(m.bytes, pos, m.bytes_offset, false, false));
  }
}

// SMB_COM_NEGOTIATE response for NT LM 0.12 ([MS-CIFS] 2.2.4.52.2, [MS-SMB] 2.2.4.5.2), 17 words:
//   | DialectIndex (2) | SecurityMode (1) | MaxMpxCount (2) | MaxNumberVcs (2) | MaxBufferSize (4) |
//   | MaxRawSize (4) | SessionKey (4) | Capabilities (4) | SystemTime (8) | ServerTimeZone (2) |
//   | ChallengeLength (1) |
// bytes, without CAP_EXTENDED_SECURITY: | Challenge | DomainName | ServerName | (strings not
// aligned: Windows puts DomainName right after the 8-byte challenge, at an odd offset);
// with it: | ServerGUID (16) | SecurityBlob |.
// Older dialects answer with 1 word (the index) or 13 (LANMAN, nothing of identity).
bool Smb1NegotiateResponse(const Smb1Message& m, Command& c, Error& error) {
  if (m.words.empty()) return true;  // an error response
  c.dialect_index = Le16At(m.words, 0);
  if (m.words.size() != 34) return true;
  const uint32_t capabilities = Le32At(m.words, 19);
  const uint8_t challenge_length = m.words[33];
  if (capabilities & kCapExtendedSecurity) {
    if (m.bytes.size() < 16) return Fail(Error::kTruncated, error);
    c.security_blob = m.bytes.subspan(16);
    return true;
  }
  if (m.bytes.size() < challenge_length) return Fail(Error::kTruncated, error);
  size_t pos = challenge_length;
  c.primary_domain = ReadSmbString(m.bytes, pos, m.bytes_offset, m.unicode(), false);
  c.server_name = ReadSmbString(m.bytes, pos, m.bytes_offset, m.unicode(), false);
  return true;
}

// SMB_COM_SESSION_SETUP_ANDX request ([MS-CIFS] 2.2.4.53.1, [MS-SMB] 2.2.4.6.1). Words start
//   | AndXCommand (1) | AndXReserved (1) | AndXOffset (2) | MaxBufferSize (2) | MaxMpxCount (2) |
//   | VcNumber (2) | SessionKey (4) | ...
// then by WordCount:
//   13 (NT LM 0.12): | OEMPasswordLen (2) | UnicodePasswordLen (2) | Reserved (4) | Capabilities (4) |
//       bytes | OEMPassword | UnicodePassword | Pad | AccountName | PrimaryDomain | NativeOS | NativeLanMan |
//   12 (extended security): | SecurityBlobLength (2) | Reserved (4) | Capabilities (4) |
//       bytes | SecurityBlob | Pad | NativeOS | NativeLanMan |
//   10 (LANMAN): | PasswordLength (2) | Reserved (4) |
//       bytes | Password | AccountName | PrimaryDomain | NativeOS | NativeLanMan |
// Unicode strings are aligned to an even offset from the SMB header. The account name and the
// passwords are stepped over, never kept.
bool Smb1SessionSetupRequest(const Smb1Message& m, Command& c, Error& error) {
  const size_t words = m.words.size() / 2;
  size_t pos = 0;
  const bool u = m.unicode();
  auto names = [&](bool with_domain) {
    if (with_domain) {
      ReadSmbString(m.bytes, pos, m.bytes_offset, u, true);  // AccountName: skipped
      c.primary_domain = ReadSmbString(m.bytes, pos, m.bytes_offset, u, true);
    }
    c.native_os = ReadSmbString(m.bytes, pos, m.bytes_offset, u, true);
    c.native_lanman = ReadSmbString(m.bytes, pos, m.bytes_offset, u, true);
  };
  if (words == 12) {
    const uint16_t blob_length = Le16At(m.words, 14);
    if (blob_length > m.bytes.size()) return Fail(Error::kBadBuffer, error);
    c.security_blob = m.bytes.first(blob_length);
    pos = blob_length;
    names(false);
    return true;
  }
  if (words == 13) {
    pos = size_t{Le16At(m.words, 14)} + Le16At(m.words, 16);
    if (pos > m.bytes.size()) return Fail(Error::kTruncated, error);
    names(true);
    return true;
  }
  if (words == 10) {
    pos = Le16At(m.words, 14);
    if (pos > m.bytes.size()) return Fail(Error::kTruncated, error);
    names(true);
    return true;
  }
  return Fail(Error::kBadStructure, error);
}

// SMB_COM_SESSION_SETUP_ANDX response ([MS-CIFS] 2.2.4.53.2, [MS-SMB] 2.2.4.6.2):
//   3 words | AndX (4) | Action (2) |  bytes | Pad | NativeOS | NativeLanMan | PrimaryDomain |
//   4 words | AndX (4) | Action (2) | SecurityBlobLength (2) |
//           bytes | SecurityBlob | Pad | NativeOS | NativeLanMan | (PrimaryDomain, rarely) |
//   0 words: an error.
bool Smb1SessionSetupResponse(const Smb1Message& m, Command& c, Error& error) {
  const size_t words = m.words.size() / 2;
  if (words == 0) return true;
  size_t pos = 0;
  if (words == 4) {
    const uint16_t blob_length = Le16At(m.words, 6);
    if (blob_length > m.bytes.size()) return Fail(Error::kBadBuffer, error);
    c.security_blob = m.bytes.first(blob_length);
    pos = blob_length;
  } else if (words != 3) {
    return Fail(Error::kBadStructure, error);
  }
  c.native_os = ReadSmbString(m.bytes, pos, m.bytes_offset, m.unicode(), true);
  c.native_lanman = ReadSmbString(m.bytes, pos, m.bytes_offset, m.unicode(), true);
  c.primary_domain = ReadSmbString(m.bytes, pos, m.bytes_offset, m.unicode(), true);
  return true;
}

bool ParseSmb1(std::span<const uint8_t> message, std::vector<Command>& out, Error& error) {
  Smb1Message m;
  switch (ParseSmb1Message(message, m)) {
    case Smb1Result::kOk:
      break;
    case Smb1Result::kNotSmb1:
      return Fail(Error::kBadHeader, error);
    case Smb1Result::kTruncated:
      return Fail(Error::kTruncated, error);
  }
  Command& c = out.emplace_back();
  c.version = 1;
  c.response = m.response();
  c.command = m.command;
  c.status = m.status;
  if (m.command == 0x72) {
    c.negotiate = true;
    if (!c.response) {
      Smb1NegotiateRequest(m, c);
      return true;
    }
    return Smb1NegotiateResponse(m, c, error);
  }
  if (m.command == 0x73) {
    c.session_setup = true;
    return c.response ? Smb1SessionSetupResponse(m, c, error) : Smb1SessionSetupRequest(m, c, error);
  }
  return true;
}

// ---- SMB2 ----

// A security buffer at an offset from the SMB2 header, inside the command's own bytes.
bool SecurityBuffer(std::span<const uint8_t> command, uint16_t offset, uint16_t length, Command& c, Error& error) {
  if (length == 0) return true;
  if (offset < kSmb2HeaderSize || offset > command.size() || command.size() - offset < length) {
    return Fail(Error::kBadBuffer, error);
  }
  c.security_blob = command.subspan(offset, length);
  return true;
}

// NEGOTIATE request ([MS-SMB2] 2.2.3):
//   | StructureSize 36 (2) | DialectCount (2) | SecurityMode (2) | Reserved (2) | Capabilities (4) |
//   | ClientGuid (16) | NegotiateContextOffset (4) | NegotiateContextCount (2) | Reserved2 (2) |
//   | Dialects (2 each) | Padding | NegotiateContextList (8-byte aligned) |
// A context ([MS-SMB2] 2.2.3.1): | ContextType (2) | DataLength (2) | Reserved (4) | Data |; type
// 5 (NETNAME) holds the server name the client connects to, in UTF-16LE.
bool Smb2NegotiateRequest(std::span<const uint8_t> command, Command& c, Error& error) {
  ByteReader r(command.subspan(kSmb2HeaderSize));
  if (Le16(r) != 36) return Fail(Error::kBadStructure, error);
  const uint16_t dialect_count = Le16(r);
  r.Skip(2 + 2 + 4 + 16);
  const uint32_t context_offset = Le32(r);
  const uint16_t context_count = Le16(r);
  r.Skip(2);
  bool smb311 = false;
  for (int i = 0; i < dialect_count && i < kMaxDialects; ++i) {
    smb311 = Le16(r) == 0x0311 || smb311;
  }
  if (!r.ok()) return Fail(Error::kTruncated, error);
  if (!smb311 || context_count == 0) return true;  // the offset means something else before 3.1.1
  if (context_offset > command.size()) return Fail(Error::kBadBuffer, error);
  ByteReader contexts(command.subspan(context_offset));
  for (int i = 0; i < context_count && i < kMaxNegotiateContexts; ++i) {
    const size_t start = contexts.offset();
    const uint16_t type = Le16(contexts);
    const uint16_t length = Le16(contexts);
    contexts.Skip(4);
    const uint8_t* data = contexts.Bytes(length);
    if (data == nullptr) return Fail(Error::kTruncated, error);
    if (type == 5) c.netname = Trimmed(Utf16LeToUtf8({data, length}));
    const size_t used = contexts.offset() - start;
    if (i + 1 < context_count && used % 8 != 0) contexts.Skip(8 - used % 8);
  }
  return true;
}

// NEGOTIATE response ([MS-SMB2] 2.2.4):
//   | StructureSize 65 (2) | SecurityMode (2) | DialectRevision (2) | NegotiateContextCount (2) |
//   | ServerGuid (16) | Capabilities (4) | MaxTransactSize (4) | MaxReadSize (4) | MaxWriteSize (4) |
//   | SystemTime (8) | ServerStartTime (8) | SecurityBufferOffset (2) | SecurityBufferLength (2) |
//   | NegotiateContextOffset (4) | Buffer |
bool Smb2NegotiateResponse(std::span<const uint8_t> command, Command& c, Error& error) {
  ByteReader r(command.subspan(kSmb2HeaderSize));
  if (Le16(r) != 65) return Fail(Error::kBadStructure, error);
  r.Skip(2);
  c.dialect_revision = Le16(r);
  r.Skip(2 + 16 + 4 + 4 + 4 + 4 + 8 + 8);
  const uint16_t offset = Le16(r);
  const uint16_t length = Le16(r);
  if (!r.ok()) return Fail(Error::kTruncated, error);
  return SecurityBuffer(command, offset, length, c, error);
}

// SESSION_SETUP request ([MS-SMB2] 2.2.5):
//   | StructureSize 25 (2) | Flags (1) | SecurityMode (1) | Capabilities (4) | Channel (4) |
//   | SecurityBufferOffset (2) | SecurityBufferLength (2) | PreviousSessionId (8) | Buffer |
// SESSION_SETUP response ([MS-SMB2] 2.2.6):
//   | StructureSize 9 (2) | SessionFlags (2) | SecurityBufferOffset (2) | SecurityBufferLength (2) | Buffer |
bool Smb2SessionSetup(std::span<const uint8_t> command, bool response, Command& c, Error& error) {
  ByteReader r(command.subspan(kSmb2HeaderSize));
  const uint16_t structure_size = Le16(r);
  if (structure_size != (response ? 9 : 25)) return Fail(Error::kBadStructure, error);
  r.Skip(response ? 2 : 1 + 1 + 4 + 4);
  const uint16_t offset = Le16(r);
  const uint16_t length = Le16(r);
  if (!r.ok()) return Fail(Error::kTruncated, error);
  return SecurityBuffer(command, offset, length, c, error);
}

// The SMB2 header ([MS-SMB2] 2.2.1):
//   | ProtocolId 0xFE 'S' 'M' 'B' | StructureSize 64 (2) | CreditCharge (2) | Status (4) |
//   | Command (2) | CreditRequest/Response (2) | Flags (4) | NextCommand (4) | MessageId (8) |
//   | Reserved/AsyncId (8) | TreeId... | SessionId (8) | Signature (16) |          64 bytes
// Compounded commands follow at NextCommand (8-byte aligned) from this header's start.
bool ParseSmb2(std::span<const uint8_t> message, std::vector<Command>& out, Error& error) {
  size_t start = 0;
  for (int i = 0; i < kMaxCompounded; ++i) {
    std::span<const uint8_t> rest = message.subspan(start);
    ByteReader r(rest);
    const uint8_t* magic = r.Bytes(4);
    if (magic == nullptr) return Fail(Error::kTruncated, error);
    if (magic[0] != 0xFE || magic[1] != 'S' || magic[2] != 'M' || magic[3] != 'B') {
      return Fail(Error::kBadHeader, error);
    }
    const uint16_t structure_size = Le16(r);
    r.Skip(2);
    const uint32_t status = Le32(r);
    const uint16_t command = Le16(r);
    r.Skip(2);
    const uint32_t flags = Le32(r);
    const uint32_t next = Le32(r);
    if (!r.Has(kSmb2HeaderSize - 24)) return Fail(Error::kTruncated, error);
    if (structure_size != kSmb2HeaderSize) return Fail(Error::kBadHeader, error);
    if (next != 0 && (next < kSmb2HeaderSize || next % 8 != 0 || next > rest.size())) {
      return Fail(Error::kBadCompound, error);
    }
    const std::span<const uint8_t> body = next != 0 ? rest.first(next) : rest;
    Command& c = out.emplace_back();
    c.version = 2;
    c.response = flags & 0x00000001;  // SMB2_FLAGS_SERVER_TO_REDIR
    c.command = command;
    c.status = status;
    // A response with an error status carries an ERROR response ([MS-SMB2] 2.2.2), not the
    // command's own structure; an interim (STATUS_PENDING) one likewise.
    const bool error_body = c.response && status != 0 && status != kStatusMoreProcessingRequired;
    if (command == 0 && !error_body) {
      c.negotiate = true;
      if (!(c.response ? Smb2NegotiateResponse(body, c, error) : Smb2NegotiateRequest(body, c, error))) return false;
    } else if (command == 1) {
      c.session_setup = true;
      if (!error_body && !Smb2SessionSetup(body, c.response, c, error)) return false;
    }
    if (next == 0) return true;
    start += next;
  }
  return true;
}

}  // namespace

SessionHeader ReadSessionHeader(const uint8_t h[kSessionHeaderSize]) {
  // On 139 the flags byte holds only the 17th length bit; on 445 the same byte is the length's
  // top octet. Reading three bytes of length covers both.
  return SessionHeader{h[0], static_cast<uint32_t>(h[1]) << 16 | static_cast<uint32_t>(h[2]) << 8 | h[3]};
}

bool KnownSessionType(uint8_t type) { return type == 0x00 || (type >= 0x81 && type <= 0x85); }

const char* ErrorName(Error e) {
  switch (e) {
    case Error::kNone:
      return "smb_none";
    case Error::kTruncated:
      return "smb_truncated";
    case Error::kBadHeader:
      return "smb_bad_header";
    case Error::kBadStructure:
      return "smb_bad_structure";
    case Error::kBadBuffer:
      return "smb_bad_buffer";
    case Error::kBadCompound:
      return "smb_bad_compound";
    case Error::kBadSessionName:
      return "smb_bad_session_name";
  }
  return "smb_bad_header";
}

bool ParseSessionRequest(std::span<const uint8_t> payload, SessionRequest& out, Error& error) {
  error = Error::kNone;
  ByteReader r(payload);
  if (!ReadNetbiosName(r, out.called, out.called_suffix) || !ReadNetbiosName(r, out.calling, out.calling_suffix)) {
    return Fail(r.ok() ? Error::kBadSessionName : Error::kTruncated, error);
  }
  return true;
}

std::string DialectName(uint16_t revision) {
  switch (revision) {
    case 0x0202:
      return "SMB 2.0.2";
    case 0x0210:
      return "SMB 2.1";
    case 0x0300:
      return "SMB 3.0";
    case 0x0302:
      return "SMB 3.0.2";
    case 0x0311:
      return "SMB 3.1.1";
    case 0x02FF:
      return "";
    default:
      return absl::StrFormat("SMB2 dialect 0x%04x", revision);
  }
}

bool ParseMessage(std::span<const uint8_t> message, std::vector<Command>& out, bool& encrypted, Error& error) {
  error = Error::kNone;
  encrypted = false;
  if (message.size() < 4) return Fail(Error::kTruncated, error);
  if (message[1] != 'S' || message[2] != 'M' || message[3] != 'B') return Fail(Error::kBadHeader, error);
  switch (message[0]) {
    case 0xFF:
      return ParseSmb1(message, out, error);
    case 0xFE:
      return ParseSmb2(message, out, error);
    case 0xFD:  // TRANSFORM_HEADER ([MS-SMB2] 2.2.41): encrypted
    case 0xFC:  // COMPRESSION_TRANSFORM_HEADER (2.2.42): compressed, only after the session is set up
      encrypted = true;
      return true;
    default:
      return Fail(Error::kBadHeader, error);
  }
}

bool LooksLikeSmb(std::span<const uint8_t> p) {
  if (p.size() < 8 || p[0] != 0x00) return false;
  return (p[4] == 0xFF || p[4] == 0xFE || p[4] == 0xFD) && p[5] == 'S' && p[6] == 'M' && p[7] == 'B';
}

}  // namespace auscult::sensor::smb
