#ifndef AUSCULT_SENSOR_PARSERS_TCP_OS_TCP_OS_H_
#define AUSCULT_SENSOR_PARSERS_TCP_OS_TCP_OS_H_

// Passive OS hints from the first packets of TCP connections. Every TCP stack opens a connection in
// its own way: the initial TTL, the receive window it offers, its maximum segment size and the
// options it sends, in its own order (RFC 9293 §3.1; RFC 7323 window scale and timestamps; RFC 2018
// SACK). The SYN of a connection and the SYN-ACK that answers it tell which stack, and so which OS
// family, sent them — without a packet of our own. The mapping from signature to family is a data
// file (sensor/data/tcp_os_fingerprints.txt) that operators can extend with what their hospital runs.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sensor/decode/packet_view.h"
#include "sensor/parsers/parser.h"

namespace auscult::sensor::tcp_os {

// What a SYN or SYN-ACK says about the stack that sent it.
struct Signature {
  bool syn_ack = false;
  uint8_t ttl = 0;            // as received: the initial TTL less the routers on the way
  uint8_t initial_ttl = 0;    // the value it most likely started at: 32, 64, 128 or 255
  uint16_t window = 0;        // as sent (a SYN's window is never scaled)
  int32_t mss = -1;           // -1: no MSS option
  int16_t window_scale = -1;  // -1: no window scale option
  // Option kinds in order, by name: eol nop mss ws sok sack ts, others as "?KIND". Bytes after an
  // end-of-options are padding and not listed.
  std::string options;
};

enum class Error { kNone, kNotSyn, kIncompleteHeader, kBadOptionLength, kCutOptions };
const char* ErrorName(Error e);

// The initial TTL a received TTL most likely started at (stacks use 32, 64, 128 or 255 and paths
// are shorter than 32 hops).
uint8_t InitialTtl(uint8_t ttl);

// The signature of a decoded TCP SYN or SYN-ACK. False (with `error`) for other packets, headers
// the IP packet does not hold whole (or with a data offset below 20), option lists whose lengths
// overrun the header, and options cut by the capture's snap length: a partial list would be a
// signature no stack sends.
bool Read(const PacketView& view, Signature& out, Error& error);

// The signature as one line of text, e.g. "syn:64:29200:1460:7:mss,sok,ts,nop,ws" (kind, initial
// TTL, window, MSS, window scale; "-" for an absent option).
std::string Text(const Signature& s);

// One line of the data file:
//   KIND ITTL WINDOW MSS WSCALE OPTIONS FAMILY LABEL...
// KIND is syn, syn-ack or *; ITTL 32, 64, 128, 255 or *; WINDOW a number, mss*N (N times the MSS)
// or *; MSS and WSCALE a number, - (option absent) or *; OPTIONS the kinds in order as in Text()
// or *; FAMILY one word (the fact reported); LABEL the rest of the line (what the line stands for).
struct Entry {
  enum class Kind : uint8_t { kSyn, kSynAck, kAny };
  static constexpr int32_t kAnyValue = -2;
  static constexpr int32_t kAbsent = -1;
  Kind kind = Kind::kAny;
  int initial_ttl = 0;  // 0: any
  enum class WindowRule : uint8_t { kAny, kExact, kMssMultiple } window_rule = WindowRule::kAny;
  uint32_t window = 0;  // the value, or the multiple of the MSS
  int32_t mss = kAnyValue;
  int32_t window_scale = kAnyValue;
  std::string options;  // empty: any
  std::string family;
  std::string label;
  int line = 0;

  bool Matches(const Signature& s) const;
  // How much a match says: lines that pin the window and the option order are strong evidence;
  // lines with wildcards are weaker.
  float Confidence() const;
};

class Database {
 public:
  // Reads the data file; an error names the file and line of the first bad entry.
  static absl::StatusOr<std::unique_ptr<Database>> Load(const std::string& path);
  static absl::StatusOr<std::unique_ptr<Database>> Parse(std::string_view text, std::string_view source);

  // The first entry (in file order) that matches, or null.
  const Entry* Match(const Signature& s) const;
  size_t size() const { return entries_.size(); }

 private:
  std::vector<Entry> entries_;
};

// The fingerprint file shipped with Auscult: share/auscult/tcp_os_fingerprints.txt beside the
// running binary's folder (an installed tree), else sensor/data/ of the source tree it was built
// from; empty when neither exists.
std::string DefaultDatabasePath();

// The shipped file (DefaultDatabasePath()), loaded once for the process; null when it is absent or
// does not load. For tests, benchmarks and fuzzers: the sensor loads its file itself, to report why.
const Database* ShippedDatabase();

// The engine's hook, called for every decoded TCP packet: for a SYN or SYN-ACK, the sender's
// signature (ATTRIBUTE_TCP_FINGERPRINT) and, when the database knows it, its OS family
// (ATTRIBUTE_OS_FAMILY). Facts go to whichever device holds the source address, so a host behind a
// router gets its own facts, never the router.
class Fingerprinter {
 public:
  explicit Fingerprinter(const Database* database) : database_(database) {}
  void OnTcp(const PacketView& view, FactSink& facts);

 private:
  const Database* database_;  // may be null: signatures only
  Signature signature_;       // reused to save an allocation per SYN
  std::string text_;
};

}  // namespace auscult::sensor::tcp_os

#endif  // AUSCULT_SENSOR_PARSERS_TCP_OS_TCP_OS_H_
