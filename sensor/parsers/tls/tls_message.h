#ifndef AUSCULT_SENSOR_PARSERS_TLS_TLS_MESSAGE_H_
#define AUSCULT_SENSOR_PARSERS_TLS_TLS_MESSAGE_H_

// The cleartext part of a TLS handshake (SSL 3.0 to TLS 1.3), as far as device identity needs it:
// the record header, ClientHello, ServerHello and the Certificate message's certificate list.
// Pure functions: bytes in, struct out, a named error for anything malformed.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace auscult::sensor::tls {

// Record layer (RFC 5246 §6.2.1, RFC 8446 §5.1):
//   | type (1) | legacy_record_version (2) | length (2) | fragment (length) |
// type: 20 change_cipher_spec, 21 alert, 22 handshake, 23 application_data, 24 heartbeat.
inline constexpr size_t kRecordHeaderSize = 5;
// The most any version lets a record carry: 2^14 bytes of plaintext, plus 2048 of expansion for a
// TLS 1.2 ciphertext (RFC 5246 §6.2.3; TLS 1.3 allows 256, RFC 8446 §5.2).
inline constexpr uint16_t kMaxRecordLength = (1 << 14) + 2048;

enum ContentType : uint8_t {
  kChangeCipherSpec = 20,
  kAlert = 21,
  kHandshake = 22,
  kApplicationData = 23,
  kHeartbeat = 24,
};

// Handshake message header (RFC 8446 §4): | msg_type (1) | length (3) | body |.
inline constexpr size_t kHandshakeHeaderSize = 4;
enum HandshakeType : uint8_t {
  kClientHello = 1,
  kServerHello = 2,
  kCertificate = 11,
  kCertificateRequest = 13,
  kServerHelloDone = 14,
};

struct RecordHeader {
  uint8_t type = 0;
  uint16_t version = 0;
  uint16_t length = 0;
};

enum class Error {
  kNone,
  kTruncated,          // a length field runs past the end of the message
  kBadRecord,          // not a TLS record: unknown content type or version
  kRecordTooLarge,     // a record longer than any version allows
  kBadExtension,       // an extension's contents do not match its own length fields
  kTrailingBytes,      // bytes left over after the message's last field
  kBadCertificateList  // the Certificate message's list does not add up
};
const char* ErrorName(Error e);  // the anomaly counter's name: "tls_truncated_handshake", ...

// Parses the 5 bytes of a record header; false when they are not a TLS record's.
bool ParseRecordHeader(std::span<const uint8_t> bytes, RecordHeader& out, Error& error);

// Whether `bytes` begin with a handshake record that carries a ClientHello or ServerHello: what
// recognition by content on any port looks for. Record type 22, version 0x0300-0x0304, a length
// within 2^14, handshake type 1 or 2, and a 24-bit message length below 2^16 (no hello is longer).
bool LooksLikeHello(std::span<const uint8_t> bytes);

// ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2):
//   | legacy_version (2) | random (32) | legacy_session_id <0..32> (1-byte length) |
//   | cipher_suites <2..2^16-2> (2-byte length) | legacy_compression_methods <1..2^8-1> (1-byte) |
//   | extensions <8..2^16-1> (2-byte length; absent before TLS 1.0's extensions, RFC 5246 §7.4.1.2) |
// Extension (RFC 8446 §4.2): | extension_type (2) | extension_data <0..2^16-1> (2-byte length) |.
struct ClientHello {
  uint16_t legacy_version = 0;
  std::vector<uint16_t> cipher_suites;
  std::vector<uint16_t> extensions;          // types, in order
  std::string server_name;                   // server_name (0, RFC 6066 §3): the first host_name
  std::vector<std::string> alpn;             // application_layer_protocol_negotiation (16, RFC 7301)
  std::vector<uint16_t> supported_versions;  // supported_versions (43, RFC 8446 §4.2.1)
  std::vector<uint16_t> supported_groups;    // supported_groups (10, RFC 8422 §5.1.1, RFC 8446 §4.2.7)
  std::vector<uint8_t> ec_point_formats;     // ec_point_formats (11, RFC 8422 §5.1.2)
};

// ServerHello (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3):
//   | legacy_version (2) | random (32) | legacy_session_id_echo <0..32> | cipher_suite (2) |
//   | legacy_compression_method (1) | extensions <6..2^16-1> (absent before extensions) |
struct ServerHello {
  uint16_t legacy_version = 0;
  uint16_t cipher_suite = 0;
  std::vector<uint16_t> extensions;
  uint16_t selected_version = 0;     // supported_versions (43): the version TLS 1.3 servers pick
  std::string alpn;                  // the protocol the server picked
  bool hello_retry_request = false;  // the special random of RFC 8446 §4.1.3: a request for another ClientHello
};

// Bodies of handshake messages (without the 4-byte handshake header).
bool ParseClientHello(std::span<const uint8_t> body, ClientHello& out, Error& error);
bool ParseServerHello(std::span<const uint8_t> body, ServerHello& out, Error& error);

// Certificate (RFC 5246 §7.4.2): | certificate_list <0..2^24-1> (3-byte length) | with each entry
// | cert_data <1..2^24-1> (3-byte length) | (DER X.509). Returns the first (the sender's own,
// RFC 5246 §7.4.2) certificate's DER; an empty span with true when the list is empty (a client
// without a certificate). TLS 1.3's form (with a context and per-entry extensions) is encrypted
// and never reaches this parser.
bool FirstCertificate(std::span<const uint8_t> body, std::span<const uint8_t>& der, Error& error);

// GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ..., 0xfafa, sent to keep peers tolerant of unknown
// values; fingerprints leave them out since they change from connection to connection.
bool IsGrease(uint16_t value);

// "TLS 1.2", "SSL 3.0", "TLS 1.3 (draft 28)", else "0x7e01".
std::string VersionName(uint16_t version);

// The highest version a client offers: its supported_versions when present (GREASE and unknown
// values ignored), else its legacy_version.
uint16_t HighestOfferedVersion(const ClientHello& hello);

// The version a server picked: supported_versions when present, else legacy_version.
inline uint16_t SelectedVersion(const ServerHello& hello) {
  return hello.selected_version != 0 ? hello.selected_version : hello.legacy_version;
}

// JA3 (github.com/salesforce/ja3): "version,ciphers,extensions,groups,point_formats", each list
// of decimal values joined by '-', GREASE left out.
std::string Ja3String(const ClientHello& hello);
// JA3S: "version,cipher,extensions".
std::string Ja3sString(const ServerHello& hello);
// Lower-case hex MD5 of the string, as JA3 publishes fingerprints.
std::string Md5Hex(const std::string& text);

}  // namespace auscult::sensor::tls

#endif  // AUSCULT_SENSOR_PARSERS_TLS_TLS_MESSAGE_H_
