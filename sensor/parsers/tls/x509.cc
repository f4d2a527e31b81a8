#include "sensor/parsers/tls/x509.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "common/byte_reader.h"

namespace auscult::sensor::tls {
namespace {

// DER tags (X.690 §8): universal class, constructed bit 0x20 where the type is constructed.
constexpr uint8_t kTagSequence = 0x30;
constexpr uint8_t kTagSet = 0x31;
constexpr uint8_t kTagOid = 0x06;
constexpr uint8_t kTagInteger = 0x02;
constexpr uint8_t kTagVersion = 0xa0;  // [0] EXPLICIT, context-specific constructed
constexpr uint8_t kTagUtf8String = 0x0c;
constexpr uint8_t kTagPrintableString = 0x13;
constexpr uint8_t kTagTeletexString = 0x14;
constexpr uint8_t kTagIa5String = 0x16;
constexpr uint8_t kTagUtcTime = 0x17;
constexpr uint8_t kTagGeneralizedTime = 0x18;
constexpr uint8_t kTagVisibleString = 0x1a;
constexpr uint8_t kTagUniversalString = 0x1c;
constexpr uint8_t kTagBmpString = 0x1e;

// id-at-commonName 2.5.4.3 and id-at-organizationName 2.5.4.10, as DER OID contents.
constexpr uint8_t kOidCommonName[] = {0x55, 0x04, 0x03};
constexpr uint8_t kOidOrganization[] = {0x55, 0x04, 0x0a};

// At most this many relative distinguished names per name and attributes per RDN are looked at.
constexpr int kMaxRdns = 64;
constexpr int kMaxAttributes = 16;

struct Tlv {
  uint8_t tag = 0;
  std::span<const uint8_t> value;
  std::span<const uint8_t> whole;  // tag, length and value
};

// One TLV: | tag (1) | length: short form (< 0x80) or 0x80+n then n bytes | value |. Multi-byte
// tags and the indefinite length (BER only) are never in a DER certificate's fields read here.
bool ReadTlv(ByteReader& r, Tlv& out) {
  const std::span<const uint8_t> at = r.Rest();
  const size_t start = r.offset();
  out.tag = r.U8();
  if ((out.tag & 0x1f) == 0x1f) return false;
  size_t length = r.U8();
  if (length & 0x80) {
    const int n = static_cast<int>(length & 0x7f);
    if (n == 0 || n > 4) return false;
    length = 0;
    for (int i = 0; i < n; ++i) length = length << 8 | r.U8();
  }
  const uint8_t* value = r.Bytes(length);
  if (!r.ok()) return false;
  out.value = std::span<const uint8_t>(value, length);
  out.whole = at.first(r.offset() - start);
  return true;
}

bool ReadTlv(ByteReader& r, uint8_t tag, Tlv& out) { return ReadTlv(r, out) && out.tag == tag; }

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | cp >> 6);
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | cp >> 12);
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | cp >> 18);
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// A DirectoryString (RFC 5280 §4.1.2.4) or IA5String as UTF-8; false for any other type.
bool DirectoryString(const Tlv& v, std::string& out) {
  out.clear();
  const auto& b = v.value;
  switch (v.tag) {
    case kTagUtf8String:
    case kTagPrintableString:
    case kTagIa5String:
    case kTagVisibleString:
      out.assign(reinterpret_cast<const char*>(b.data()), b.size());
      return true;
    case kTagTeletexString:  // T.61 in theory; Latin-1 in practice
      for (uint8_t c : b) AppendUtf8(out, c);
      return true;
    case kTagBmpString:  // UCS-2, big-endian
      for (size_t i = 0; i + 1 < b.size(); i += 2) AppendUtf8(out, static_cast<uint32_t>(b[i] << 8 | b[i + 1]));
      return true;
    case kTagUniversalString:  // UCS-4, big-endian
      for (size_t i = 0; i + 3 < b.size(); i += 4) {
        AppendUtf8(out, static_cast<uint32_t>(b[i]) << 24 | static_cast<uint32_t>(b[i + 1]) << 16 |
                            static_cast<uint32_t>(b[i + 2]) << 8 | b[i + 3]);
      }
      return true;
    default:
      return false;
  }
}

bool SameOid(std::span<const uint8_t> oid, std::span<const uint8_t> want) {
  return std::equal(oid.begin(), oid.end(), want.begin(), want.end());
}

// Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }: every loop moves past at least one
// TLV of the bytes it walks, and the counts are capped.
bool ParseName(const Tlv& name, DistinguishedName& out) {
  if (name.tag != kTagSequence) return false;
  ByteReader rdns(name.value);
  for (int i = 0; rdns.remaining() > 0; ++i) {
    Tlv rdn;
    if (i >= kMaxRdns || !ReadTlv(rdns, kTagSet, rdn)) return false;
    ByteReader attributes(rdn.value);
    for (int j = 0; attributes.remaining() > 0; ++j) {
      Tlv atv, oid, value;
      if (j >= kMaxAttributes || !ReadTlv(attributes, kTagSequence, atv)) return false;
      ByteReader fields(atv.value);
      if (!ReadTlv(fields, kTagOid, oid) || !ReadTlv(fields, value)) return false;
      std::string text;
      if (SameOid(oid.value, kOidCommonName) && !out.has_common_name && DirectoryString(value, text)) {
        out.common_name = std::move(text);
        out.has_common_name = true;
      } else if (SameOid(oid.value, kOidOrganization) && !out.has_organization && DirectoryString(value, text)) {
        out.organization = std::move(text);
        out.has_organization = true;
      }
    }
  }
  return true;
}

// UTCTime YYMMDDHHMMSSZ (years 1950-2049, RFC 5280 §4.1.2.5.1) or GeneralizedTime
// YYYYMMDDHHMMSS[.f]Z (§4.1.2.5.2). Seconds may be missing in old BER-encoded certificates.
bool ParseTime(const Tlv& t, int64_t& unix_seconds, std::string& date) {
  const auto& b = t.value;
  size_t pos = 0;
  auto digits = [&](int n, int& v) {
    v = 0;
    for (int i = 0; i < n; ++i, ++pos) {
      if (pos >= b.size() || b[pos] < '0' || b[pos] > '9') return false;
      v = v * 10 + (b[pos] - '0');
    }
    return true;
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (t.tag == kTagUtcTime) {
    if (!digits(2, year)) return false;
    year += year >= 50 ? 1900 : 2000;
  } else if (t.tag == kTagGeneralizedTime) {
    if (!digits(4, year)) return false;
  } else {
    return false;
  }
  if (!digits(2, month) || !digits(2, day) || !digits(2, hour) || !digits(2, minute)) return false;
  if (pos < b.size() && b[pos] >= '0' && b[pos] <= '9' && !digits(2, second)) return false;
  if (hour > 23 || minute > 59 || second > 60) return false;
  const std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                        std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return false;
  const auto days = std::chrono::sys_days(ymd).time_since_epoch().count();
  unix_seconds = static_cast<int64_t>(days) * 86400 + hour * 3600 + minute * 60 + second;
  char text[48];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02d", year, month, day);
  date = text;
  return true;
}

}  // namespace

const char* X509ErrorName(X509Error e) {
  switch (e) {
    case X509Error::kNone:
      return "none";
    case X509Error::kBadDer:
      return "bad DER";
    case X509Error::kNotCertificate:
      return "not a certificate";
    case X509Error::kBadName:
      return "bad name";
    case X509Error::kBadTime:
      return "bad time";
  }
  return "unknown";
}

bool ParseCertificate(std::span<const uint8_t> der, CertificateSummary& out, X509Error& error) {
  ByteReader top(der);
  Tlv certificate, tbs;
  if (!ReadTlv(top, kTagSequence, certificate)) {
    error = X509Error::kBadDer;
    return false;
  }
  ByteReader c(certificate.value);
  if (!ReadTlv(c, kTagSequence, tbs)) {
    error = X509Error::kNotCertificate;
    return false;
  }
  ByteReader r(tbs.value);
  Tlv field;
  if (!ReadTlv(r, field)) {
    error = X509Error::kBadDer;
    return false;
  }
  if (field.tag == kTagVersion && !ReadTlv(r, field)) {  // version present: next is the serial
    error = X509Error::kBadDer;
    return false;
  }
  Tlv signature, issuer, validity, subject;
  if (field.tag != kTagInteger || !ReadTlv(r, kTagSequence, signature) || !ReadTlv(r, issuer) ||
      !ReadTlv(r, kTagSequence, validity) || !ReadTlv(r, subject)) {
    error = X509Error::kNotCertificate;
    return false;
  }
  if (!ParseName(issuer, out.issuer) || !ParseName(subject, out.subject)) {
    error = X509Error::kBadName;
    return false;
  }
  out.self_issued = std::equal(issuer.whole.begin(), issuer.whole.end(), subject.whole.begin(), subject.whole.end());
  ByteReader v(validity.value);
  Tlv not_before, not_after;
  if (!ReadTlv(v, not_before) || !ReadTlv(v, not_after) ||
      !ParseTime(not_before, out.not_before, out.not_before_date) ||
      !ParseTime(not_after, out.not_after, out.not_after_date)) {
    error = X509Error::kBadTime;
    return false;
  }
  error = X509Error::kNone;
  return true;
}

std::string FormatName(const DistinguishedName& name) {
  std::string s;
  if (name.has_common_name) s += "CN=" + name.common_name;
  if (name.has_organization) s += (s.empty() ? "O=" : ",O=") + name.organization;
  return s;
}

std::string FormatCertificate(const CertificateSummary& cert) {
  return "subject=" + FormatName(cert.subject) + "; issuer=" + FormatName(cert.issuer) +
         "; not_before=" + cert.not_before_date + "; not_after=" + cert.not_after_date;
}

}  // namespace auscult::sensor::tls
