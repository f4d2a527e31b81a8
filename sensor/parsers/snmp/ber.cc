#include "sensor/parsers/snmp/ber.h"

#include "absl/strings/str_cat.h"

namespace auscult::sensor::snmp::ber {

bool Reader::Next(Tlv& out) {
  if (error_ != Error::kNone) return false;
  const size_t n = bytes_.size();
  if (n - pos_ < 2) return Fail(Error::kTruncated);
  const uint8_t tag = bytes_[pos_];
  if ((tag & 0x1f) == 0x1f) return Fail(Error::kBadTag);  // high-tag-number form
  uint64_t length = bytes_[pos_ + 1];
  size_t at = pos_ + 2;
  if (length & 0x80) {
    const size_t count = length & 0x7f;
    // 0x80: indefinite form; more than 4 length bytes: longer than any datagram.
    if (count == 0 || count > 4) return Fail(Error::kBadLength);
    if (n - at < count) return Fail(Error::kTruncated);
    length = 0;
    for (size_t i = 0; i < count; ++i) length = length << 8 | bytes_[at + i];
    at += count;
  }
  if (length > n - at) return Fail(Error::kTruncated);
  out.tag = tag;
  out.value = bytes_.subspan(at, static_cast<size_t>(length));
  pos_ = at + static_cast<size_t>(length);
  return true;
}

bool Reader::Expect(uint8_t tag, Tlv& out) {
  if (!Next(out)) return false;
  if (out.tag != tag) return Fail(Error::kBadTag);
  return true;
}

bool Reader::Integer(int64_t& out) {
  Tlv t;
  if (!Expect(kInteger, t)) return false;
  if (!DecodeInteger(t.value, out)) return Fail(Error::kBadInteger);
  return true;
}

bool Reader::OctetString(std::span<const uint8_t>& out) {
  Tlv t;
  if (!Expect(kOctetString, t)) return false;
  out = t.value;
  return true;
}

bool ClippedContent(std::span<const uint8_t> bytes, uint8_t tag, std::span<const uint8_t>& content) {
  if (bytes.size() < 2 || bytes[0] != tag) return false;
  size_t header = 2;
  if (bytes[1] & 0x80) header += bytes[1] & 0x7f;
  if (header > bytes.size()) return false;
  content = bytes.subspan(header);
  return true;
}

bool DecodeInteger(std::span<const uint8_t> content, int64_t& out) {
  if (content.empty() || content.size() > 8) return false;
  // Sign-extend from the first byte, then shift the rest in.
  uint64_t v = (content[0] & 0x80) ? ~uint64_t{0} : 0;
  for (uint8_t b : content) v = v << 8 | b;
  out = static_cast<int64_t>(v);
  return true;
}

bool DecodeOid(std::span<const uint8_t> content, std::string& dotted) {
  dotted.clear();
  if (content.empty()) return false;
  uint64_t value = 0;
  int count = 0;
  bool open = false;  // a sub-identifier has begun and not ended
  for (uint8_t b : content) {
    if (value > (~uint64_t{0} >> 7)) return false;  // seven more bits would not fit in 64
    value = value << 7 | (b & 0x7f);
    open = true;
    if (b & 0x80) continue;
    if (count == 0) {
      // The first sub-identifier is 40 * X + Y with X in 0..2 (X = 2 takes every value from 80).
      const uint64_t first = value < 80 ? value / 40 : 2;
      absl::StrAppend(&dotted, first, ".", value - 40 * first);
      count = 2;
    } else {
      if (++count > 128) return false;
      absl::StrAppend(&dotted, ".", value);
    }
    value = 0;
    open = false;
  }
  return !open;  // the last byte must close its sub-identifier
}

}  // namespace auscult::sensor::snmp::ber
