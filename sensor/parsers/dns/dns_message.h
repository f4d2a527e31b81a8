#ifndef AUSCULT_SENSOR_PARSERS_DNS_DNS_MESSAGE_H_
#define AUSCULT_SENSOR_PARSERS_DNS_DNS_MESSAGE_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/ip_address.h"

namespace auscult::sensor::dns {

// The DNS message format (RFC 1035 §4.1), shared by unicast DNS, multicast DNS (RFC 6762),
// LLMNR (RFC 4795) and NetBIOS name service (RFC 1002 §4.2):
//
//   | ID (16) | QR | Opcode (4) | AA | TC | RD | RA | Z | AD | CD | RCODE (4) |
//   | QDCOUNT (16) | ANCOUNT (16) | NSCOUNT (16) | ARCOUNT (16) |
//   | question: QNAME | QTYPE (16) | QCLASS (16) | ...
//   | resource record: NAME | TYPE (16) | CLASS (16) | TTL (32) | RDLENGTH (16) | RDATA | ...
//
// A name is a sequence of labels (| length (1..63) | bytes |) ended by a zero byte, or by a pointer
// (| 11 | offset (14) |) to a name earlier in the message (§4.1.4). Pointers may only point
// backwards, which rules out loops; names longer than 255 bytes are refused.
enum RecordType : uint16_t {
  kA = 1,
  kNs = 2,
  kCname = 5,
  kPtr = 12,
  kHinfo = 13,
  kTxt = 16,
  kAaaa = 28,
  kSrv = 33,
};

struct Question {
  std::string name;  // labels joined by '.', without the final dot; "" for the root
  uint16_t type = 0;
  uint16_t klass = 0;  // with mDNS's unicast-response bit (the top one) cleared
};

enum class Section : uint8_t { kAnswer, kAuthority, kAdditional };

struct Record {
  Section section = Section::kAnswer;
  std::string name;
  uint16_t type = 0;
  uint16_t klass = 0;  // with mDNS's cache-flush bit cleared
  uint32_t ttl = 0;
  std::span<const uint8_t> rdata;  // into the message's bytes
  // Decoded RDATA for the types that carry identity (unless decoding was not asked for):
  IpAddress address;               // A, AAAA
  std::string target;              // PTR, CNAME, NS, SRV
  uint16_t port = 0;               // SRV
  std::vector<std::string> texts;  // TXT character-strings; HINFO: CPU, OS
};

struct Message {
  uint16_t id = 0;
  bool response = false;
  uint8_t opcode = 0;
  uint8_t rcode = 0;
  uint16_t flags = 0;  // the whole flags word, for dialects that use its bits otherwise (NBNS)
  std::vector<Question> questions;
  std::vector<Record> records;
};

enum class Error { kNone, kTruncated, kBadName, kBadRdata, kTooManyRecords };
// The dialects that share the format, for naming anomalies ("mdns_truncated").
enum class Dialect { kDns, kMdns, kLlmnr, kNbns };
const char* AnomalyName(Dialect dialect, Error e);

// At most this many questions plus records are read from one message; more is an error (no real
// message comes near it, a hostile one could make each cost a record).
constexpr size_t kMaxEntries = 512;

// Parses a whole message. With `decode_rdata` false (NBNS, whose types mean other things), RDATA
// stays raw. Returns false and why for anything that is not a well-formed message.
bool Parse(std::span<const uint8_t> bytes, Message& out, Error& error, bool decode_rdata = true);

// Reads the name at `offset` in `message`, advancing `offset` past it. False for a malformed name.
bool ReadName(std::span<const uint8_t> message, size_t& offset, std::string& out);

// The address a reverse-lookup name stands for: "4.3.2.1.in-addr.arpa" -> 1.2.3.4, and the
// nibble form under ip6.arpa. Unset when `name` is not one (case-insensitive).
IpAddress ReverseName(std::string_view name);

// "Lucas-iMac.local" -> "Lucas-iMac": the host name a device claims, without mDNS's domain.
std::string_view HostPart(std::string_view name);

// The DNS-SD service type a name belongs to (RFC 6763 §4.1, §7.1): "_ipp._tcp" for
// "_ipp._tcp.local", "Ward 4 printer._ipp._tcp.local" and "_universal._sub._ipp._tcp.local";
// "" for a name that is none of these. Instance names may hold dots of their own, so the type is
// found from the end.
std::string ServiceType(std::string_view name);

}  // namespace auscult::sensor::dns

#endif  // AUSCULT_SENSOR_PARSERS_DNS_DNS_MESSAGE_H_
