#include "sensor/parsers/dns/dns_message.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/byte_reader.h"
#include "common/logging.h"

namespace auscult::sensor::dns {
namespace {

constexpr size_t kMaxNameBytes = 255;  // RFC 1035 §3.1, on the wire
constexpr int kMaxPointers = 32;       // backwards-only pointers end anyway; this bounds the work
constexpr size_t kMaxTexts = 64;       // character-strings kept per TXT record

bool DecodeRdata(std::span<const uint8_t> message, size_t rdata_offset, Record& r) {
  ByteReader in(r.rdata);
  switch (r.type) {
    case kA:
      if (r.rdata.size() != 4) return false;
      r.address = IpAddress::V4(r.rdata.data());
      return true;
    case kAaaa:
      if (r.rdata.size() != 16) return false;
      r.address = IpAddress::V6(r.rdata.data());
      return true;
    case kPtr:
    case kCname:
    case kNs: {
      // Names in RDATA may point anywhere earlier in the message, so they are read from it.
      size_t offset = rdata_offset;
      return ReadName(message, offset, r.target) && offset == rdata_offset + r.rdata.size();
    }
    case kSrv: {
      in.Skip(4);  // priority, weight
      r.port = in.U16();
      if (!in.ok()) return false;
      size_t offset = rdata_offset + 6;
      return ReadName(message, offset, r.target) && offset == rdata_offset + r.rdata.size();
    }
    case kTxt:
    case kHinfo:
      while (in.ok() && in.remaining() > 0) {
        const uint8_t n = in.U8();
        const uint8_t* text = in.Bytes(n);
        if (text == nullptr) return false;
        if (r.texts.size() < kMaxTexts) r.texts.emplace_back(reinterpret_cast<const char*>(text), n);
      }
      return in.ok();
    default:
      return true;
  }
}

}  // namespace

const char* AnomalyName(Dialect dialect, Error e) {
  static constexpr const char* kNames[4][5] = {
      {"dns_ok", "dns_truncated", "dns_bad_name", "dns_bad_rdata", "dns_too_many_records"},
      {"mdns_ok", "mdns_truncated", "mdns_bad_name", "mdns_bad_rdata", "mdns_too_many_records"},
      {"llmnr_ok", "llmnr_truncated", "llmnr_bad_name", "llmnr_bad_rdata", "llmnr_too_many_records"},
      {"nbns_ok", "nbns_truncated", "nbns_bad_name", "nbns_bad_rdata", "nbns_too_many_records"},
  };
  return kNames[static_cast<int>(dialect)][static_cast<int>(e)];
}

bool ReadName(std::span<const uint8_t> message, size_t& offset, std::string& out) {
  out.clear();
  size_t pos = offset;
  size_t wire_bytes = 0;
  int pointers = 0;
  bool jumped = false;
  for (;;) {
    if (pos >= message.size()) return false;
    const uint8_t length = message[pos];
    if ((length & 0xc0) == 0xc0) {
      if (pos + 1 >= message.size()) return false;
      const size_t target = static_cast<size_t>(length & 0x3f) << 8 | message[pos + 1];
      // Only backwards: a pointer to itself or to what follows could loop.
      if (target >= pos || ++pointers > kMaxPointers) return false;
      if (!jumped) offset = pos + 2;
      jumped = true;
      pos = target;
      continue;
    }
    if ((length & 0xc0) != 0) return false;  // 01 and 10 prefixes: extended label types, obsolete
    if (length == 0) {
      if (!jumped) offset = pos + 1;
      return true;
    }
    wire_bytes += length + 1;
    if (wire_bytes > kMaxNameBytes || pos + 1 + length > message.size()) return false;
    if (!out.empty()) out += '.';
    out.append(reinterpret_cast<const char*>(message.data() + pos + 1), length);
    pos += 1 + length;
  }
}

bool Parse(std::span<const uint8_t> bytes, Message& out, Error& error, bool decode_rdata) {
  out = Message{};
  error = Error::kNone;
  ByteReader header(bytes);
  out.id = header.U16();
  out.flags = header.U16();
  const uint16_t counts[4] = {header.U16(), header.U16(), header.U16(), header.U16()};
  if (!header.ok()) {
    error = Error::kTruncated;
    return false;
  }
  out.response = (out.flags & 0x8000) != 0;
  out.opcode = (out.flags >> 11) & 0xf;
  out.rcode = out.flags & 0xf;
  if (size_t{counts[0]} + counts[1] + counts[2] + counts[3] > kMaxEntries) {
    error = Error::kTooManyRecords;
    return false;
  }
  size_t offset = 12;
  out.questions.resize(counts[0]);
  for (Question& q : out.questions) {
    if (!ReadName(bytes, offset, q.name)) {
      error = offset >= bytes.size() ? Error::kTruncated : Error::kBadName;
      return false;
    }
    ByteReader in(bytes.subspan(offset));
    q.type = in.U16();
    q.klass = in.U16() & 0x7fff;
    if (!in.ok()) {
      error = Error::kTruncated;
      return false;
    }
    offset += 4;
  }
  out.records.reserve(size_t{counts[1]} + counts[2] + counts[3]);
  for (int s = 1; s < 4; ++s) {
    for (uint16_t i = 0; i < counts[s]; ++i) {
      Record& r = out.records.emplace_back();
      r.section = static_cast<Section>(s - 1);
      if (!ReadName(bytes, offset, r.name)) {
        error = offset >= bytes.size() ? Error::kTruncated : Error::kBadName;
        return false;
      }
      ByteReader in(bytes.subspan(offset));
      r.type = in.U16();
      r.klass = in.U16() & 0x7fff;
      r.ttl = in.U32();
      const uint16_t length = in.U16();
      const uint8_t* rdata = in.Bytes(length);
      if (rdata == nullptr) {
        error = Error::kTruncated;
        return false;
      }
      r.rdata = std::span(rdata, length);
      if (decode_rdata && !DecodeRdata(bytes, offset + 10, r)) {
        error = Error::kBadRdata;
        return false;
      }
      offset += 10 + length;
    }
  }
  return true;
}

std::string_view HostPart(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.size() > 6 && absl::EqualsIgnoreCase(AsAbsl(name.substr(name.size() - 6)), ".local")) name.remove_suffix(6);
  return name;
}

std::string ServiceType(std::string_view name) {
  const std::string lower = absl::AsciiStrToLower(std::string(name));
  size_t proto = lower.rfind("._tcp");
  if (size_t udp = lower.rfind("._udp"); udp != std::string::npos && (proto == std::string::npos || udp > proto)) {
    proto = udp;
  }
  if (proto == std::string::npos || proto == 0) return {};
  const size_t end = proto + 5;  // after "._tcp"
  if (end != lower.size() && lower[end] != '.') return {};
  const size_t start = name.rfind('.', proto - 1);
  const size_t label = start == std::string_view::npos ? 0 : start + 1;
  if (name[label] != '_') return {};
  return std::string(name.substr(label, end - label));
}

IpAddress ReverseName(std::string_view name) {
  const std::string lower = absl::AsciiStrToLower(std::string(name));
  std::string_view n = lower;
  auto consume_suffix = [&n](std::string_view suffix) {
    if (!n.ends_with(suffix)) return false;
    n.remove_suffix(suffix.size());
    return true;
  };
  if (consume_suffix(".in-addr.arpa")) {
    const std::vector<std::string> parts = absl::StrSplit(AsAbsl(n), '.');
    if (parts.size() != 4) return {};
    uint8_t b[4];
    for (int i = 0; i < 4; ++i) {
      const std::string& p = parts[3 - i];
      if (p.empty() || p.size() > 3) return {};
      int v = 0;
      for (char c : p) {
        if (c < '0' || c > '9') return {};
        v = v * 10 + (c - '0');
      }
      if (v > 255) return {};
      b[i] = static_cast<uint8_t>(v);
    }
    return IpAddress::V4(b);
  }
  if (consume_suffix(".ip6.arpa")) {
    // 32 nibbles, least significant first: "b.a.9.8....ip6.arpa".
    if (n.size() != 63) return {};
    uint8_t b[16] = {};
    for (int i = 0; i < 32; ++i) {
      const char c = n[static_cast<size_t>(i) * 2];
      if (i < 31 && n[static_cast<size_t>(i) * 2 + 1] != '.') return {};
      int v;
      if (c >= '0' && c <= '9') {
        v = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        v = c - 'a' + 10;
      } else {
        return {};
      }
      const int nibble = 31 - i;  // position from the most significant nibble
      b[nibble / 2] |= static_cast<uint8_t>(nibble % 2 == 0 ? v << 4 : v);
    }
    return IpAddress::V6(b);
  }
  return {};
}

}  // namespace auscult::sensor::dns
