#include "sensor/parsers/tls/tls_message.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/byte_reader.h"

namespace auscult::sensor::tls {
namespace {

// RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest (SHA-256 of the text
// "HelloRetryRequest").
constexpr uint8_t kHelloRetryRandom[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
                                           0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
                                           0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

constexpr uint16_t kExtServerName = 0;
constexpr uint16_t kExtSupportedGroups = 10;
constexpr uint16_t kExtEcPointFormats = 11;
constexpr uint16_t kExtAlpn = 16;
constexpr uint16_t kExtSupportedVersions = 43;

// At most this many names or protocols are kept from one extension: the identity is in the first.
constexpr size_t kMaxListed = 32;

uint32_t U24(ByteReader& r) {
  const uint32_t hi = r.U8();
  return hi << 16 | r.U16();
}

// A sub-reader over the next `n` bytes of `r` (and `r` moved past them); not ok() when `r` is short.
ByteReader Sub(ByteReader& r, size_t n) {
  const uint8_t* p = r.Bytes(n);
  if (p == nullptr) {
    ByteReader bad(nullptr, 0);
    bad.U8();  // sets the error flag
    return bad;
  }
  return ByteReader(p, n);
}

std::string Text(const uint8_t* p, size_t n) { return std::string(reinterpret_cast<const char*>(p), n); }

// server_name (RFC 6066 §3):
//   ServerNameList: | list length (2) | then | name_type (1) | HostName <1..2^16-1> (2-byte length) |...
bool ServerName(ByteReader r, std::string& out) {
  ByteReader list = Sub(r, r.U16());
  if (!list.ok() || r.remaining() != 0) return false;
  for (size_t i = 0; list.remaining() > 0 && i < kMaxListed; ++i) {
    const uint8_t type = list.U8();
    const uint16_t len = list.U16();
    const uint8_t* name = list.Bytes(len);
    if (!list.ok()) return false;
    if (type == 0 && out.empty()) out = Text(name, len);  // host_name; other types are unassigned
  }
  return true;
}

// ALPN (RFC 7301 §3.1): | list length (2) | then | name length (1) | name | ...
bool ProtocolNames(ByteReader r, std::vector<std::string>& out) {
  ByteReader list = Sub(r, r.U16());
  if (!list.ok() || r.remaining() != 0) return false;
  while (list.remaining() > 0) {
    const uint8_t len = list.U8();
    const uint8_t* name = list.Bytes(len);
    if (!list.ok() || len == 0) return false;
    if (out.size() < kMaxListed) out.push_back(Text(name, len));
  }
  return true;
}

// A list of 16-bit values behind a length of `length_size` bytes.
bool U16List(ByteReader r, int length_size, std::vector<uint16_t>& out) {
  const size_t n = length_size == 1 ? r.U8() : r.U16();
  ByteReader list = Sub(r, n);
  if (!list.ok() || r.remaining() != 0 || n % 2 != 0) return false;
  while (list.remaining() > 0) out.push_back(list.U16());
  return true;
}

// The extensions block: | length (2) | then | type (2) | data <0..2^16-1> (2-byte length) | ...
// `on_extension(type, data)` returns false for data that does not match its own lengths.
template <typename Fn>
bool Extensions(ByteReader& r, std::vector<uint16_t>& types, Error& error, Fn&& on_extension) {
  if (r.remaining() == 0) return true;  // no extensions at all (allowed before TLS 1.3)
  ByteReader block = Sub(r, r.U16());
  if (!block.ok()) {
    error = Error::kTruncated;
    return false;
  }
  while (block.remaining() > 0) {  // each pass consumes at least 4 bytes
    const uint16_t type = block.U16();
    const uint16_t len = block.U16();
    const uint8_t* data = block.Bytes(len);
    if (!block.ok()) {
      error = Error::kBadExtension;
      return false;
    }
    types.push_back(type);
    if (!on_extension(type, ByteReader(data, len))) {
      error = Error::kBadExtension;
      return false;
    }
  }
  if (r.remaining() != 0) {
    error = Error::kTrailingBytes;
    return false;
  }
  return true;
}

void AppendValues(std::string& out, const std::vector<uint16_t>& values) {
  bool first = true;
  for (uint16_t v : values) {
    if (IsGrease(v)) continue;
    if (!first) out += '-';
    absl::StrAppend(&out, v);
    first = false;
  }
}

// Orders versions for "highest": SSL 3.0 < TLS 1.0 < ... < TLS 1.2 < TLS 1.3 drafts < TLS 1.3.
// Zero for values that are no known version (GREASE, private experiments).
uint32_t VersionRank(uint16_t v) {
  if (v >= 0x0300 && v <= 0x0304) return static_cast<uint32_t>(v) << 8;
  if ((v & 0xff00) == 0x7f00) return 0x0303u << 8 | (v & 0xff);  // TLS 1.3 draft-NN
  return 0;
}

}  // namespace

const char* ErrorName(Error e) {
  switch (e) {
    case Error::kNone:
      return "tls_none";
    case Error::kTruncated:
      return "tls_bad_handshake";
    case Error::kBadRecord:
      return "tls_bad_record";
    case Error::kRecordTooLarge:
      return "tls_record_too_large";
    case Error::kBadExtension:
      return "tls_bad_extension";
    case Error::kTrailingBytes:
      return "tls_handshake_trailing_bytes";
    case Error::kBadCertificateList:
      return "tls_bad_certificate_list";
  }
  return "tls_unknown_error";
}

bool ParseRecordHeader(std::span<const uint8_t> bytes, RecordHeader& out, Error& error) {
  ByteReader r(bytes);
  out.type = r.U8();
  out.version = r.U16();
  out.length = r.U16();
  if (!r.ok()) {
    error = Error::kTruncated;
    return false;
  }
  // 0x0300 (SSL 3.0) up to 0x0304, the highest version there is. TLS 1.3 itself writes 0x0303
  // here (RFC 8446 §5.1); anything else in the first byte is not TLS (SSL 2.0's header differs).
  if (out.type < kChangeCipherSpec || out.type > kHeartbeat || out.version < 0x0300 || out.version > 0x0304) {
    error = Error::kBadRecord;
    return false;
  }
  if (out.length > kMaxRecordLength) {
    error = Error::kRecordTooLarge;
    return false;
  }
  error = Error::kNone;
  return true;
}

bool LooksLikeHello(std::span<const uint8_t> bytes) {
  RecordHeader h;
  Error e;
  if (bytes.size() < kRecordHeaderSize + kHandshakeHeaderSize || !ParseRecordHeader(bytes, h, e)) return false;
  if (h.type != kHandshake || h.length < kHandshakeHeaderSize || h.length > (1 << 14)) return false;
  const uint8_t msg = bytes[5];
  // A hello is far shorter than 2^16 bytes, so its 24-bit length starts with a zero byte.
  return (msg == kClientHello || msg == kServerHello) && bytes[6] == 0;
}

bool ParseClientHello(std::span<const uint8_t> body, ClientHello& out, Error& error) {
  ByteReader r(body);
  out.legacy_version = r.U16();
  r.Skip(32);  // random
  const uint8_t session_len = r.U8();
  r.Skip(session_len);
  ByteReader suites = Sub(r, r.U16());
  const uint8_t compression_len = r.U8();
  r.Skip(compression_len);
  if (!r.ok() || !suites.ok() || suites.remaining() % 2 != 0) {
    error = Error::kTruncated;
    return false;
  }
  while (suites.remaining() > 0) out.cipher_suites.push_back(suites.U16());
  const bool ok = Extensions(r, out.extensions, error, [&](uint16_t type, ByteReader data) {
    switch (type) {
      case kExtServerName:
        return ServerName(data, out.server_name);
      case kExtAlpn:
        return ProtocolNames(data, out.alpn);
      case kExtSupportedVersions:
        return U16List(data, 1, out.supported_versions);
      case kExtSupportedGroups:
        return U16List(data, 2, out.supported_groups);
      case kExtEcPointFormats: {
        const uint8_t n = data.U8();
        const uint8_t* p = data.Bytes(n);
        if (!data.ok() || data.remaining() != 0) return false;
        out.ec_point_formats.assign(p, p + n);
        return true;
      }
      default:
        return true;
    }
  });
  if (!ok) return false;
  error = Error::kNone;
  return true;
}

bool ParseServerHello(std::span<const uint8_t> body, ServerHello& out, Error& error) {
  ByteReader r(body);
  out.legacy_version = r.U16();
  const uint8_t* random = r.Bytes(32);
  const uint8_t session_len = r.U8();
  r.Skip(session_len);
  out.cipher_suite = r.U16();
  r.U8();  // compression method
  if (!r.ok()) {
    error = Error::kTruncated;
    return false;
  }
  out.hello_retry_request = std::memcmp(random, kHelloRetryRandom, sizeof(kHelloRetryRandom)) == 0;
  const bool ok = Extensions(r, out.extensions, error, [&](uint16_t type, ByteReader data) {
    switch (type) {
      case kExtSupportedVersions:
        out.selected_version = data.U16();
        return data.ok() && data.remaining() == 0;
      case kExtAlpn: {
        std::vector<std::string> names;
        if (!ProtocolNames(data, names) || names.size() != 1) return false;  // exactly one (RFC 7301 §3.1)
        out.alpn = names[0];
        return true;
      }
      default:
        return true;
    }
  });
  if (!ok) return false;
  error = Error::kNone;
  return true;
}

bool FirstCertificate(std::span<const uint8_t> body, std::span<const uint8_t>& der, Error& error) {
  ByteReader r(body);
  const uint32_t list_len = U24(r);
  if (!r.ok() || list_len != r.remaining()) {
    error = Error::kBadCertificateList;
    return false;
  }
  der = {};
  if (list_len == 0) {
    error = Error::kNone;
    return true;
  }
  const uint32_t cert_len = U24(r);
  const uint8_t* p = r.Bytes(cert_len);
  if (!r.ok() || cert_len == 0) {
    error = Error::kBadCertificateList;
    return false;
  }
  der = std::span<const uint8_t>(p, cert_len);
  error = Error::kNone;
  return true;
}

bool IsGrease(uint16_t value) { return (value & 0x0f0f) == 0x0a0a && (value >> 8) == (value & 0xff); }

std::string VersionName(uint16_t version) {
  switch (version) {
    case 0x0002:
      return "SSL 2.0";
    case 0x0300:
      return "SSL 3.0";
    case 0x0301:
      return "TLS 1.0";
    case 0x0302:
      return "TLS 1.1";
    case 0x0303:
      return "TLS 1.2";
    case 0x0304:
      return "TLS 1.3";
    default:
      break;
  }
  if ((version & 0xff00) == 0x7f00) return absl::StrCat("TLS 1.3 (draft ", version & 0xff, ")");
  char hex[16];
  std::snprintf(hex, sizeof(hex), "0x%04x", version);
  return hex;
}

uint16_t HighestOfferedVersion(const ClientHello& hello) {
  uint16_t best = 0;
  for (uint16_t v : hello.supported_versions) {
    if (VersionRank(v) > VersionRank(best)) best = v;
  }
  return best != 0 ? best : hello.legacy_version;
}

std::string Ja3String(const ClientHello& hello) {
  std::string s = absl::StrCat(hello.legacy_version, ",");
  AppendValues(s, hello.cipher_suites);
  s += ',';
  AppendValues(s, hello.extensions);
  s += ',';
  AppendValues(s, hello.supported_groups);
  s += ',';
  s += absl::StrJoin(hello.ec_point_formats, "-", [](std::string* out, uint8_t v) { absl::StrAppend(out, v); });
  return s;
}

std::string Ja3sString(const ServerHello& hello) {
  std::string s = absl::StrCat(hello.legacy_version, ",", hello.cipher_suite, ",");
  AppendValues(s, hello.extensions);
  return s;
}

std::string Md5Hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_md5(), nullptr) != 1) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace auscult::sensor::tls
