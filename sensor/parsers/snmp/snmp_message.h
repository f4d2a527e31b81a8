#ifndef AUSCULT_SENSOR_PARSERS_SNMP_SNMP_MESSAGE_H_
#define AUSCULT_SENSOR_PARSERS_SNMP_SNMP_MESSAGE_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace auscult::sensor::snmp {

// An SNMP message, as far as device identity needs it.
//
// v1 (RFC 1157 §4) and v2c (RFC 1901, PDUs RFC 3416 §3):
//   Message ::= SEQUENCE { version INTEGER (0 v1, 1 v2c), community OCTET STRING, data PDU }
//   PDU     ::= [tag] SEQUENCE { request-id INTEGER, error-status INTEGER, error-index INTEGER,
//                                variable-bindings SEQUENCE OF VarBind }
//     (GetBulkRequest has non-repeaters and max-repetitions in the two error fields)
//   Trap-PDU (v1 only) ::= [4] SEQUENCE { enterprise OBJECT IDENTIFIER, agent-addr IpAddress,
//                                generic-trap INTEGER, specific-trap INTEGER, time-stamp TimeTicks,
//                                variable-bindings SEQUENCE OF VarBind }
//   VarBind ::= SEQUENCE { name OBJECT IDENTIFIER, value ANY (or NULL, or an exception [0]-[2]) }
// v3 (RFC 3412 §6):
//   SNMPv3Message ::= SEQUENCE { msgVersion INTEGER (3),
//       msgGlobalData SEQUENCE { msgID INTEGER, msgMaxSize INTEGER, msgFlags OCTET STRING (1),
//                                msgSecurityModel INTEGER },
//       msgSecurityParameters OCTET STRING,
//       msgData CHOICE { plaintext ScopedPDU, encryptedPDU OCTET STRING } }
//   ScopedPDU ::= SEQUENCE { contextEngineID OCTET STRING, contextName OCTET STRING, data PDU }
//
// The community string is a password: it is never kept. The decoder only notes whether it is one
// of the factory defaults.

// PDU tags: context-specific, constructed.
enum PduType : uint8_t {
  kGetRequest = 0xa0,
  kGetNextRequest = 0xa1,
  kResponse = 0xa2,  // GetResponse in v1
  kSetRequest = 0xa3,
  kTrapV1 = 0xa4,
  kGetBulkRequest = 0xa5,
  kInformRequest = 0xa6,
  kTrapV2 = 0xa7,
  kReport = 0xa8,
};

struct VarBind {
  std::string name;  // dotted OID
  uint8_t value_tag = 0;
  // OCTET STRING: its bytes as they are; OBJECT IDENTIFIER: dotted text; otherwise empty.
  std::string value;
};

struct Message {
  int64_t version = -1;            // 0 v1, 1 v2c, 3 v3
  bool default_community = false;  // "public" or "private" (v1/v2c)
  bool has_pdu = false;            // false for a v3 message whose PDU is encrypted
  uint8_t pdu_type = 0;
  std::string enterprise;         // v1 Trap-PDU, dotted
  std::vector<VarBind> bindings;  // the first kMaxBindings
};

inline constexpr size_t kMaxBindings = 64;

enum class Error { kNone, kTruncated, kBadLength, kBadTag, kBadInteger, kBadOid, kBadVersion, kBadPdu };
const char* ErrorName(Error e);

// Parses a UDP payload. Returns false (and why) for anything that is not a well-formed message;
// what was read up to the fault is still in `out` (its version, to tell v3 apart).
bool Parse(std::span<const uint8_t> payload, Message& out, Error& error);

}  // namespace auscult::sensor::snmp

#endif  // AUSCULT_SENSOR_PARSERS_SNMP_SNMP_MESSAGE_H_
