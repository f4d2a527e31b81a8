#include "sensor/parsers/ntp/ntp_message.h"

namespace auscult::sensor::ntp {

const char* ErrorName(Error e) {
  switch (e) {
    case Error::kNone:
      return "none";
    case Error::kTruncated:
      return "ntp_truncated";
    case Error::kBadVersion:
      return "ntp_bad_version";
  }
  return "ntp_unknown";
}

bool Parse(std::span<const uint8_t> p, Message& m, Error& error) {
  error = Error::kNone;
  if (p.empty()) {
    error = Error::kTruncated;
    return false;
  }
  m.version = (p[0] >> 3) & 0x07;
  m.mode = p[0] & 0x07;
  if (m.version == 0 || m.version > 4) {
    error = Error::kBadVersion;
    return false;
  }
  switch (m.mode) {
    case 6:
      if (p.size() < kControlHeaderLength) break;
      m.response = (p[1] & 0x80) != 0;
      m.error = (p[1] >> 6) & 0x01;
      m.request_code = p[1] & 0x1f;
      return true;
    case 7:
      if (p.size() < kPrivateHeaderLength) break;
      m.response = (p[0] & 0x80) != 0;
      m.request_code = p[3];
      m.error = p[4] >> 4;
      return true;
    default:  // 0 (NTPv1) and 1-5 share the 48-byte header
      if (p.size() < kHeaderLength) break;
      m.stratum = p[1];
      return true;
  }
  error = Error::kTruncated;
  return false;
}

}  // namespace auscult::sensor::ntp
