#ifndef AUSCULT_SENSOR_PARSERS_NTP_NTP_MESSAGE_H_
#define AUSCULT_SENSOR_PARSERS_NTP_NTP_MESSAGE_H_

#include <cstdint>
#include <span>

namespace auscult::sensor::ntp {

// The first bytes of an NTP packet, enough to tell who serves time to whom.
//
// Modes 1-5, NTPv1-v4 (RFC 5905 §7.3; RFC 1305, RFC 1119, RFC 1059 share the layout):
//    0                   1                   2                   3
//   |LI | VN  |Mode |    Stratum    |     Poll      |   Precision   |
//   |                  Root Delay, Root Dispersion (4 each)         |
//   |                      Reference ID (4)                         |
//   |     Reference, Origin, Receive, Transmit Timestamps (8 each)  |   = 48 bytes
//   [extension fields, key id and digest: not read]
//   Mode: 1 symmetric active, 2 symmetric passive, 3 client, 4 server, 5 broadcast.
//   NTPv1 (RFC 1059) has no mode (the bits are 0): the reference implementation infers it from
//   the ports, and so does the parser.
// Mode 6, control messages (RFC 9327 §2, formerly RFC 1305 Appendix B), 12-byte header:
//   |LI | VN  |Mode |R|E|M| OpCode  |        Sequence (2)           |
//   |        Status (2)             |     Association ID (2)        |
//   |         Offset (2)            |         Count (2)             |
//   R set: a response.
// Mode 7, ntpd's private requests (no RFC; ntp_request.h of the reference implementation), the
// interface of "monlist" (REQ_MON_GETLIST) amplification, CVE-2013-5211; 8-byte header:
//   |R|M| VN  |Mode |A| Sequence    | Implementation | Request code |
//   | Err (4) | Number of items (12) | MBZ (4) | Size of item (12)  |
//   R set: a response; Err 0: no error.
struct Message {
  uint8_t version = 0;
  uint8_t mode = 0;
  uint8_t stratum = 0;       // modes 1-5
  bool response = false;     // modes 6 and 7: the R bit
  uint8_t request_code = 0;  // mode 6: opcode; mode 7: request code
  uint8_t error = 0;         // mode 6: the E bit; mode 7: Err
};

inline constexpr size_t kHeaderLength = 48;  // modes 1-5
inline constexpr size_t kControlHeaderLength = 12;
inline constexpr size_t kPrivateHeaderLength = 8;

enum class Error { kNone, kTruncated, kBadVersion };
const char* ErrorName(Error e);

// Parses a UDP payload. Returns false (and why) when it is not an NTP packet of versions 1-4.
bool Parse(std::span<const uint8_t> payload, Message& out, Error& error);

}  // namespace auscult::sensor::ntp

#endif  // AUSCULT_SENSOR_PARSERS_NTP_NTP_MESSAGE_H_
