#ifndef AUSCULT_SENSOR_PARSERS_SMB_SMB_WIRE_H_
#define AUSCULT_SENSOR_PARSERS_SMB_SMB_WIRE_H_

// Building blocks shared by the SMB and browser decoders: little-endian fields (SMB, NTLMSSP and
// the browser protocol are little-endian, unlike the network-order ByteReader), UTF-16LE text,
// NetBIOS names, and the SMB1 header with its word and byte blocks.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/byte_reader.h"

namespace auscult::sensor::smb {

inline uint16_t Le16(ByteReader& r) {
  const uint8_t* p = r.Bytes(2);
  return p ? static_cast<uint16_t>(p[0] | p[1] << 8) : 0;
}
inline uint32_t Le32(ByteReader& r) {
  const uint8_t* p = r.Bytes(4);
  return p ? static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
                 static_cast<uint32_t>(p[3]) << 24
           : 0;
}
// A field at `offset` of `s`, or 0 when it lies outside.
inline uint16_t Le16At(std::span<const uint8_t> s, size_t offset) {
  return offset <= s.size() && s.size() - offset >= 2 ? static_cast<uint16_t>(s[offset] | s[offset + 1] << 8) : 0;
}
inline uint32_t Le32At(std::span<const uint8_t> s, size_t offset) {
  return offset <= s.size() && s.size() - offset >= 4
             ? static_cast<uint32_t>(Le16At(s, offset)) | static_cast<uint32_t>(Le16At(s, offset + 2)) << 16
             : 0;
}

// UTF-16LE code units as UTF-8 (surrogate pairs joined, a lone surrogate becomes U+FFFD; an odd
// last byte is dropped). Windows puts host, domain and OS names on the wire in UTF-16LE.
std::string Utf16LeToUtf8(std::span<const uint8_t> bytes);

// Surrounding ASCII whitespace removed.
std::string Trimmed(std::string_view s);

// A NetBIOS name in first-level encoding (RFC 1001 section 14.1, RFC 1002 section 4.1), as in
// NetBIOS session requests and datagram headers:
//   | 0x20 | 32 bytes 'A'..'P', each pair one nibble pair of the 16-byte name | scope labels | 0 |
// The 16-byte name is 15 characters padded with spaces plus a suffix byte (0x00 workstation,
// 0x20 file server, 0x1D master browser, ...). Reads it from `r`; `name` is trimmed of the
// padding. False when the encoding is broken (a label past the end, compression, bad letters).
bool ReadNetbiosName(ByteReader& r, std::string& name, uint8_t& suffix);

// An SMB1 message ([MS-CIFS] 2.2.3.1), its header then a parameter and a data block:
//   | 0xFF 'S' 'M' 'B' | Command (1) | Status (4) | Flags (1) | Flags2 (2) | PIDHigh (2) |
//   | SecurityFeatures (8) | Reserved (2) | TID (2) | PIDLow (2) | UID (2) | MID (2) |   32 bytes
//   | WordCount (1) | Words (2 * WordCount) | ByteCount (2) | Bytes (ByteCount) |
struct Smb1Message {
  uint8_t command = 0;
  uint32_t status = 0;
  uint8_t flags = 0;
  uint16_t flags2 = 0;
  std::span<const uint8_t> words;
  std::span<const uint8_t> bytes;
  size_t bytes_offset = 0;  // of `bytes` from the header's start: Unicode strings align on it

  bool response() const { return flags & 0x80; }    // SMB_FLAGS_REPLY
  bool unicode() const { return flags2 & 0x8000; }  // SMB_FLAGS2_UNICODE
  bool extended_security() const { return flags2 & 0x0800; }
};
constexpr size_t kSmb1HeaderSize = 32;

enum class Smb1Result { kOk, kNotSmb1, kTruncated };
// Splits an SMB1 message into its header fields and blocks (views into `message`).
Smb1Result ParseSmb1Message(std::span<const uint8_t> message, Smb1Message& out);

// Reads an SMB_STRING from `bytes` at `pos` and moves `pos` past it: Unicode (aligned to an even
// offset from the SMB header when `align`; `base` is the offset of `bytes` from it) or OEM,
// ended by a NUL or the end of the block (some senders leave the last string unterminated).
std::string ReadSmbString(std::span<const uint8_t> bytes, size_t& pos, size_t base, bool unicode, bool align);

}  // namespace auscult::sensor::smb

#endif  // AUSCULT_SENSOR_PARSERS_SMB_SMB_WIRE_H_
