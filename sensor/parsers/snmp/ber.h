#ifndef AUSCULT_SENSOR_PARSERS_SNMP_BER_H_
#define AUSCULT_SENSOR_PARSERS_SNMP_BER_H_

// The part of ASN.1 BER (X.690) that SNMP messages use, read from untrusted bytes: one TLV at a
// time, definite lengths only, single-byte tags. There is no generic recursive walk: callers
// descend into the constructed values they expect (a fixed schema, so the depth is fixed by the
// caller's code) and skip the rest by length, which needs no look inside.
//
//   | tag (1) | length (1, or 0x80|n then n bytes, n <= 4) | value (length bytes) |
//   tag: | class (2) | constructed (1) | number (5) |; number 31 means "more tag bytes follow"
//   (high-tag-number form), which SNMP never uses and we reject. Length 0x80 alone is the
//   indefinite form, which SNMP forbids (RFC 3417 §8: definite length only) and we reject.

#include <cstdint>
#include <span>
#include <string>

namespace auscult::sensor::snmp::ber {

// Universal and SNMP application tags (RFC 1157 §4, RFC 2578 §7.1, RFC 3416 §3).
inline constexpr uint8_t kInteger = 0x02;
inline constexpr uint8_t kOctetString = 0x04;
inline constexpr uint8_t kNull = 0x05;
inline constexpr uint8_t kObjectIdentifier = 0x06;
inline constexpr uint8_t kSequence = 0x30;
inline constexpr uint8_t kIpAddress = 0x40;
inline constexpr uint8_t kTimeTicks = 0x43;

enum class Error { kNone, kTruncated, kBadLength, kBadTag, kBadInteger, kBadOid };

struct Tlv {
  uint8_t tag = 0;
  std::span<const uint8_t> value;
};

// A cursor over a run of TLVs (a message, or the inside of a constructed value). Sticky error:
// once a read fails, every later read fails with the first error.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  bool AtEnd() const { return pos_ >= bytes_.size(); }
  Error error() const { return error_; }
  std::span<const uint8_t> Rest() const { return bytes_.subspan(pos_); }

  // The next TLV, whatever its tag.
  bool Next(Tlv& out);
  // The next TLV, which must carry `tag`.
  bool Expect(uint8_t tag, Tlv& out);
  // An INTEGER of at most 8 bytes (two's complement).
  bool Integer(int64_t& out);
  // An OCTET STRING's bytes.
  bool OctetString(std::span<const uint8_t>& out);

  bool Fail(Error e) {
    if (error_ == Error::kNone) error_ = e;
    return false;
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
  Error error_ = Error::kNone;
};

// The content of a TLV with `tag` at the start of `bytes`, clipped to the bytes there are: lets a
// message cut short by the capture still be recognised by its first fields. False if the tag
// differs or the header itself is incomplete.
bool ClippedContent(std::span<const uint8_t> bytes, uint8_t tag, std::span<const uint8_t>& content);

// Decodes an INTEGER's content octets (1 to 8 bytes).
bool DecodeInteger(std::span<const uint8_t> content, int64_t& out);

// Decodes an OBJECT IDENTIFIER's content octets to dotted text ("1.3.6.1.2.1.1.1.0"), as X.690
// §8.19 encodes it: sub-identifiers in base 128, high bit set on all but their last byte; the
// first one stands for the first two arcs (40 * X + Y). At most 128 sub-identifiers (RFC 2578
// §3.5), each below 2^64.
bool DecodeOid(std::span<const uint8_t> content, std::string& dotted);

}  // namespace auscult::sensor::snmp::ber

#endif  // AUSCULT_SENSOR_PARSERS_SNMP_BER_H_
