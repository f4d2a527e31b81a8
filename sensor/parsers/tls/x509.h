#ifndef AUSCULT_SENSOR_PARSERS_TLS_X509_H_
#define AUSCULT_SENSOR_PARSERS_TLS_X509_H_

// What a network inventory wants from an X.509 certificate (RFC 5280 §4.1): who it names, who
// issued it, and when it is valid. A flat DER walk over a fixed structure: no recursion, no
// signature checks, nothing kept but a few strings.

#include <cstdint>
#include <span>
#include <string>

namespace auscult::sensor::tls {

// A distinguished name's common name (2.5.4.3) and organization (2.5.4.10), the first of each,
// as UTF-8 (BMPString, UniversalString and TeletexString converted).
struct DistinguishedName {
  std::string common_name;
  std::string organization;
  bool has_common_name = false;
  bool has_organization = false;
};

struct CertificateSummary {
  DistinguishedName subject;
  DistinguishedName issuer;
  bool self_issued = false;  // subject and issuer are the same bytes: a self-signed certificate
  int64_t not_before = 0;    // Unix seconds
  int64_t not_after = 0;
  std::string not_before_date;  // "YYYY-MM-DD"
  std::string not_after_date;
};

enum class X509Error { kNone, kBadDer, kNotCertificate, kBadName, kBadTime };
const char* X509ErrorName(X509Error e);

// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
// TBSCertificate ::= SEQUENCE {
//      version         [0]  EXPLICIT Version DEFAULT v1,
//      serialNumber         INTEGER,
//      signature            AlgorithmIdentifier,        -- SEQUENCE
//      issuer               Name,
//      validity             SEQUENCE { notBefore Time, notAfter Time },
//      subject              Name,
//      ... }                                            -- the rest is not read
// Name ::= SEQUENCE OF RelativeDistinguishedName       -- rdnSequence, the only choice
// RelativeDistinguishedName ::= SET OF SEQUENCE { type OBJECT IDENTIFIER, value ANY }
// Time ::= CHOICE { UTCTime (YYMMDDHHMMSSZ), GeneralizedTime (YYYYMMDDHHMMSSZ) }
bool ParseCertificate(std::span<const uint8_t> der, CertificateSummary& out, X509Error& error);

// "CN=...,O=..." (either part left out when the name has none).
std::string FormatName(const DistinguishedName& name);
// "subject=CN=...,O=...; issuer=CN=...,O=...; not_before=YYYY-MM-DD; not_after=YYYY-MM-DD"
std::string FormatCertificate(const CertificateSummary& cert);

}  // namespace auscult::sensor::tls

#endif  // AUSCULT_SENSOR_PARSERS_TLS_X509_H_
