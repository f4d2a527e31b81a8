#include "sensor/parsers/smb/smb_wire.h"

namespace auscult::sensor::smb {

namespace {

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | cp >> 6));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | cp >> 12));
    out.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | cp >> 18));
    out.push_back(static_cast<char>(0x80 | (cp >> 12 & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

std::string Utf16LeToUtf8(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() / 2);
  const size_t units = bytes.size() / 2;
  for (size_t i = 0; i < units; ++i) {
    const uint32_t u = static_cast<uint32_t>(bytes[2 * i] | bytes[2 * i + 1] << 8);
    if (u >= 0xD800 && u < 0xDC00 && i + 1 < units) {
      const uint32_t low = static_cast<uint32_t>(bytes[2 * i + 2] | bytes[2 * i + 3] << 8);
      if (low >= 0xDC00 && low < 0xE000) {
        AppendUtf8(out, 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00));
        ++i;
        continue;
      }
    }
    AppendUtf8(out, u >= 0xD800 && u < 0xE000 ? 0xFFFD : u);
  }
  return out;
}

std::string Trimmed(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

bool ReadNetbiosName(ByteReader& r, std::string& name, uint8_t& suffix) {
  if (r.U8() != 32) return false;
  const uint8_t* encoded = r.Bytes(32);
  if (encoded == nullptr) return false;
  std::string raw(16, '\0');
  for (int i = 0; i < 16; ++i) {
    const uint8_t hi = encoded[2 * i] - 'A';
    const uint8_t lo = encoded[2 * i + 1] - 'A';
    if (hi > 15 || lo > 15) return false;
    raw[i] = static_cast<char>(hi << 4 | lo);
  }
  suffix = static_cast<uint8_t>(raw[15]);
  raw.resize(15);
  name = Trimmed(raw.substr(0, raw.find('\0')));
  // The scope: DNS-style labels up to an empty one (at most 255 bytes in all, RFC 1002 4.1).
  for (int labels = 0; labels < 128; ++labels) {
    const uint8_t len = r.U8();
    if (!r.ok() || len >= 64) return false;  // 0xC0: compression, not allowed here
    if (len == 0) return true;
    r.Skip(len);
  }
  return false;
}

Smb1Result ParseSmb1Message(std::span<const uint8_t> message, Smb1Message& out) {
  ByteReader r(message);
  const uint8_t* magic = r.Bytes(4);
  if (magic == nullptr) return Smb1Result::kTruncated;
  if (magic[0] != 0xFF || magic[1] != 'S' || magic[2] != 'M' || magic[3] != 'B') return Smb1Result::kNotSmb1;
  out.command = r.U8();
  out.status = Le32(r);
  out.flags = r.U8();
  out.flags2 = Le16(r);
  r.Skip(kSmb1HeaderSize - 12);  // PIDHigh, SecurityFeatures, Reserved, TID, PIDLow, UID, MID
  const uint8_t word_count = r.U8();
  const uint8_t* words = r.Bytes(2 * size_t{word_count});
  const uint16_t byte_count = Le16(r);
  if (!r.ok()) return Smb1Result::kTruncated;
  out.words = {words, 2 * size_t{word_count}};
  out.bytes_offset = r.offset();
  const uint8_t* bytes = r.Bytes(byte_count);
  if (bytes == nullptr) return Smb1Result::kTruncated;
  out.bytes = {bytes, byte_count};
  return Smb1Result::kOk;
}

std::string ReadSmbString(std::span<const uint8_t> bytes, size_t& pos, size_t base, bool unicode, bool align) {
  if (pos >= bytes.size()) return {};
  if (unicode) {
    if (align && (base + pos) % 2 == 1) ++pos;
    size_t end = pos;
    while (end + 1 < bytes.size() && (bytes[end] != 0 || bytes[end + 1] != 0)) end += 2;
    std::string s = end > pos ? Utf16LeToUtf8(bytes.subspan(pos, end - pos)) : std::string();
    pos = end + 1 < bytes.size() ? end + 2 : bytes.size();
    return Trimmed(s);
  }
  size_t end = pos;
  while (end < bytes.size() && bytes[end] != 0) ++end;
  std::string s(reinterpret_cast<const char*>(bytes.data()) + pos, end - pos);
  pos = end < bytes.size() ? end + 1 : bytes.size();
  return Trimmed(s);
}

}  // namespace auscult::sensor::smb
