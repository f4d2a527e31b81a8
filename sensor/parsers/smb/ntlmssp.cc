#include "sensor/parsers/smb/ntlmssp.h"

#include <algorithm>
#include <string_view>

#include "absl/strings/str_format.h"
#include "sensor/parsers/smb/smb_wire.h"

namespace auscult::sensor::smb {
namespace {

constexpr uint8_t kSignature[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};
constexpr uint32_t kNegotiateUnicode = 0x00000001;
constexpr uint32_t kNegotiateOemDomainSupplied = 0x00001000;
constexpr uint32_t kNegotiateOemWorkstationSupplied = 0x00002000;
constexpr uint32_t kNegotiateVersion = 0x02000000;
constexpr int kMaxAvPairs = 64;

// A payload reference ([MS-NLMP] 2.2: DomainNameFields, TargetInfoFields, ...):
//   | Len (2) | MaxLen (2) | BufferOffset (4), from the start of the message |
struct Field {
  uint16_t length = 0;
  uint32_t offset = 0;
};

Field FieldAt(std::span<const uint8_t> m, size_t at) { return Field{Le16At(m, at), Le32At(m, at + 4)}; }

// The bytes a field points at; false when they lie outside the message.
bool Payload(std::span<const uint8_t> m, const Field& f, std::span<const uint8_t>& out) {
  if (f.length == 0) {
    out = {};
    return true;
  }
  if (f.offset > m.size() || m.size() - f.offset < f.length) return false;
  out = m.subspan(f.offset, f.length);
  return true;
}

std::string Text(std::span<const uint8_t> bytes, bool unicode) {
  if (unicode) return Trimmed(Utf16LeToUtf8(bytes));
  return Trimmed(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

// The VERSION structure sits at `at` when the flag says so and no payload field begins before
// its end (messages from before the structure existed put their payload there).
void ReadVersion(std::span<const uint8_t> m, uint32_t flags, size_t at, std::initializer_list<Field> fields,
                 NtlmVersion& v) {
  if (!(flags & kNegotiateVersion) || m.size() < at + 8) return;
  for (const Field& f : fields) {
    if (f.length > 0 && f.offset < at + 8) return;
  }
  v.present = true;
  v.major = m[at];
  v.minor = m[at + 1];
  v.build = Le16At(m, at + 2);
}

// TargetInfo: AV_PAIRs ([MS-NLMP] 2.2.2.1) up to MsvAvEOL.
//   | AvId (2) | AvLen (2) | Value (AvLen) |
bool ParseTargetInfo(std::span<const uint8_t> info, NtlmMessage& out) {
  ByteReader r(info);
  for (int i = 0; i < kMaxAvPairs && r.remaining() >= 4; ++i) {
    const uint16_t id = Le16(r);
    const uint16_t len = Le16(r);
    const uint8_t* value = r.Bytes(len);
    if (value == nullptr) return false;
    if (id == 0) return true;  // MsvAvEOL
    const std::span<const uint8_t> v(value, len);
    switch (id) {
      case 1:
        out.nb_computer = Text(v, true);
        break;
      case 2:
        out.nb_domain = Text(v, true);
        break;
      case 3:
        out.dns_computer = Text(v, true);
        break;
      case 4:
        out.dns_domain = Text(v, true);
        break;
      case 5:
        out.dns_tree = Text(v, true);
        break;
      default:  // flags, timestamp, restrictions, target name, channel bindings: not identity
        break;
    }
  }
  return true;
}

}  // namespace

const char* NtlmErrorName(NtlmError e) {
  switch (e) {
    case NtlmError::kNone:
      return "ntlmssp_none";
    case NtlmError::kTruncated:
      return "ntlmssp_truncated";
    case NtlmError::kBadMessage:
      return "ntlmssp_bad_message";
    case NtlmError::kBadField:
      return "ntlmssp_bad_field";
    case NtlmError::kBadAvPair:
      return "ntlmssp_bad_av_pair";
  }
  return "ntlmssp_bad_message";
}

std::optional<std::span<const uint8_t>> FindNtlmssp(std::span<const uint8_t> blob) {
  const auto it = std::search(blob.begin(), blob.end(), std::begin(kSignature), std::end(kSignature));
  if (it == blob.end()) return std::nullopt;
  const size_t at = static_cast<size_t>(it - blob.begin());
  // The DER OCTET STRING header before it, if any: | 0x04 | len | or | 0x04 0x81 len | or
  // | 0x04 0x82 len-hi len-lo |.
  size_t length = blob.size() - at;
  size_t declared = 0;
  if (at >= 4 && blob[at - 4] == 0x04 && blob[at - 3] == 0x82) {
    declared = static_cast<size_t>(blob[at - 2]) << 8 | blob[at - 1];
  } else if (at >= 3 && blob[at - 3] == 0x04 && blob[at - 2] == 0x81) {
    declared = blob[at - 1];
  } else if (at >= 2 && blob[at - 2] == 0x04 && blob[at - 1] < 0x80) {
    declared = blob[at - 1];
  }
  if (declared >= 16 && declared <= length) length = declared;
  return blob.subspan(at, length);
}

bool ParseNtlmssp(std::span<const uint8_t> m, NtlmMessage& out, NtlmError& error) {
  error = NtlmError::kNone;
  if (m.size() < 12) {
    error = NtlmError::kTruncated;
    return false;
  }
  if (!std::equal(std::begin(kSignature), std::end(kSignature), m.begin())) {
    error = NtlmError::kBadMessage;
    return false;
  }
  out.type = Le32At(m, 8);
  std::span<const uint8_t> bytes;
  switch (out.type) {
    case 1: {
      // NEGOTIATE_MESSAGE (2.2.1.1):
      //   | Signature (8) | MessageType (4) | NegotiateFlags (4) | DomainNameFields (8) |
      //   | WorkstationFields (8) | Version (8) | Payload |
      // Early clients end the message after the flags, or after the two fields.
      if (m.size() < 16) {
        error = NtlmError::kTruncated;
        return false;
      }
      out.flags = Le32At(m, 12);
      if (m.size() < 32) return true;
      const Field domain = FieldAt(m, 16);
      const Field workstation = FieldAt(m, 24);
      // Both are OEM, and meaningful only when the client says it supplied them.
      if (out.flags & kNegotiateOemDomainSupplied) {
        if (!Payload(m, domain, bytes)) {
          error = NtlmError::kBadField;
          return false;
        }
        out.domain = Text(bytes, false);
      }
      if (out.flags & kNegotiateOemWorkstationSupplied) {
        if (!Payload(m, workstation, bytes)) {
          error = NtlmError::kBadField;
          return false;
        }
        out.workstation = Text(bytes, false);
      }
      ReadVersion(m, out.flags, 32, {domain, workstation}, out.version);
      return true;
    }
    case 2: {
      // CHALLENGE_MESSAGE (2.2.1.2):
      //   | Signature (8) | MessageType (4) | TargetNameFields (8) | NegotiateFlags (4) |
      //   | ServerChallenge (8) | Reserved (8) | TargetInfoFields (8) | Version (8) | Payload |
      // Servers from before TargetInfo end the message after the challenge.
      if (m.size() < 32) {
        error = NtlmError::kTruncated;
        return false;
      }
      const Field target_name = FieldAt(m, 12);
      out.flags = Le32At(m, 20);
      if (!Payload(m, target_name, bytes)) {
        error = NtlmError::kBadField;
        return false;
      }
      out.target_name = Text(bytes, out.flags & kNegotiateUnicode);
      if (m.size() < 48) return true;
      const Field target_info = FieldAt(m, 40);
      if (!Payload(m, target_info, bytes)) {
        error = NtlmError::kBadField;
        return false;
      }
      if (!ParseTargetInfo(bytes, out)) {
        error = NtlmError::kBadAvPair;
        return false;
      }
      ReadVersion(m, out.flags, 48, {target_name, target_info}, out.version);
      return true;
    }
    case 3: {
      // AUTHENTICATE_MESSAGE (2.2.1.3):
      //   | Signature (8) | MessageType (4) | LmChallengeResponseFields (8) |
      //   | NtChallengeResponseFields (8) | DomainNameFields (8) | UserNameFields (8) |
      //   | WorkstationFields (8) | EncryptedRandomSessionKeyFields (8) | NegotiateFlags (4) |
      //   | Version (8) | MIC (16) | Payload |
      // Only the domain and workstation are read: the user name and responses stay untouched
      // (their fields only bound where the Version may sit).
      if (m.size() < 52) {
        error = NtlmError::kTruncated;
        return false;
      }
      const Field lm = FieldAt(m, 12);
      const Field nt = FieldAt(m, 20);
      const Field domain = FieldAt(m, 28);
      const Field user = FieldAt(m, 36);
      const Field workstation = FieldAt(m, 44);
      Field session_key;
      if (m.size() >= 64) {
        session_key = FieldAt(m, 52);
        out.flags = Le32At(m, 60);
      }
      const bool unicode = out.flags & kNegotiateUnicode;
      if (!Payload(m, domain, bytes)) {
        error = NtlmError::kBadField;
        return false;
      }
      out.domain = Text(bytes, unicode);
      if (!Payload(m, workstation, bytes)) {
        error = NtlmError::kBadField;
        return false;
      }
      out.workstation = Text(bytes, unicode);
      ReadVersion(m, out.flags, 64, {lm, nt, domain, user, workstation, session_key}, out.version);
      return true;
    }
    default:
      error = NtlmError::kBadMessage;
      return false;
  }
}

std::string VersionText(const NtlmVersion& v) {
  return absl::StrFormat("Windows %d.%d build %d", v.major, v.minor, v.build);
}

}  // namespace auscult::sensor::smb
