#ifndef AUSCULT_SENSOR_PARSERS_PARSER_H_
#define AUSCULT_SENSOR_PARSERS_PARSER_H_

// The interface between the flow table and application-protocol parsers (DHCP, DNS, HTTP, TLS,
// HL7, DICOM, ...). Each protocol lives in its own folder under sensor/parsers/ with a pure
// decoder, a FlowParser that keeps per-flow state, and a ParserFactory registered by one line in
// sensor/parsers/registry.cc. Parsers see only what they ask for: a TCP byte stream reassembled in
// order (with gaps reported, never papered over), or UDP datagrams, up to a byte budget per
// direction. They report facts, never payload: no PHI leaves a parser.

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string_view>

#include "common/ip_address.h"
#include "common/mac_address.h"
#include "sensor/decode/packet_view.h"
#include "sensor/observations.h"

namespace auscult::sensor {

enum class Direction : uint8_t { kToResponder = 0, kToInitiator = 1 };

// What a parser knows of the flow it reads.
struct FlowContext {
  uint64_t flow_id = 0;
  uint8_t transport = 0;  // 6 TCP, 17 UDP
  FlowEndpoint initiator;
  FlowEndpoint responder;
  uint16_t vlan = 0;
};

// Whether either end of the flow uses one of `ports` (where most Wants() start).
inline bool EitherPort(const FlowContext& flow, std::initializer_list<uint16_t> ports) {
  for (uint16_t p : ports) {
    if (flow.initiator.port == p || flow.responder.port == p) return true;
  }
  return false;
}

// Which end of a flow a fact is about, relative to the bytes being parsed.
enum class Party : uint8_t { kSender = 0, kReceiver = 1 };

// A fact as a parser states it. `protocol` and `field` must be string literals (they are kept by
// reference); `value` is copied.
struct Fact {
  Attribute attribute;
  std::string_view value;
  std::string_view protocol;
  std::string_view field;
  float confidence;
};

// Where a parser's findings go.
class ParserOutput {
 public:
  virtual ~ParserOutput() = default;
  // Names the flow's application protocol (overrides the guess from the port).
  virtual void SetApplication(std::string_view name) = 0;
  // A fact about the sender or the receiver of the bytes being parsed. It lands on that device: by
  // its MAC on this segment, or by its address when it sits behind a router.
  virtual void AddFact(Party party, const Fact& fact) = 0;
  // A fact about a device the message itself names by MAC (DHCP's client hardware address).
  virtual void AddFactForMac(const MacAddress& mac, const Fact& fact) = 0;
  // A fact about whichever device holds `ip`, as the message itself says (a DNS answer binding a
  // name to an address). It lands, when the window ends (or the next), on a device the sensor knows then to hold
  // that address (by its traffic, ARP or ND, or as a host behind a router that other facts were
  // found about); it never makes a device by itself, so the names of internet servers that clients
  // resolve are dropped (and counted).
  virtual void AddFactForAddress(const IpAddress& ip, const Fact& fact) = 0;
  // An address the message binds to a MAC (a DHCP lease).
  virtual void BindAddress(const MacAddress& mac, const IpAddress& ip, AddressSource source) = 0;
  // A malformed or unexpected message, by name ("dhcp_truncated"; a string literal). Counted and
  // reported with the sensor's health; never logged one by one.
  virtual void CountAnomaly(std::string_view name) = 0;

  // Flow tags (clinical workflow tagging). They stay on the flow from the moment they are set. The
  // defaults ignore them, for test doubles that look only at facts; the flow table keeps them.
  // The flow carries a clinical protocol (HL7, DICOM, FHIR, a device protocol).
  virtual void MarkClinical() {}
  // The flow's payload is encrypted (TLS): nothing inside it can be read.
  virtual void MarkEncrypted() {}
  // Credentials crossed the flow in clear. Say so; never pass the credentials themselves.
  virtual void MarkCleartextCredentials() {}
  // One message on the flow carried patient data of `kind` (its kind only, never its contents).
  virtual void CountPhi(PhiKind /*kind*/) {}
  // One clinical message or response on the flow, by type: "ADT^A01", "ACK AA", "C-STORE-RQ". The
  // name is copied; a flow keeps kMaxMessageNames names and counts the rest as "other". A response
  // matched to its request passes the time between them (else a negative value).
  virtual void CountMessage(std::string_view /*name*/, TimeNs /*response_time*/ = -1) {}
};

// Per flow and report, at most this many distinct message names of at most kMaxMessageName bytes.
inline constexpr size_t kMaxMessageNames = 32;
inline constexpr size_t kMaxMessageName = 48;

// Where facts found outside flows go (link-layer protocols such as LLDP and CDP), and where the
// flow table delivers parsers' facts. Implemented by the device table.
class FactSink {
 public:
  virtual ~FactSink() = default;
  // `mac` may be null (no link layer, or unknown); then `ip` identifies the device.
  virtual void OnFact(const MacAddress* mac, const IpAddress& ip, const Fact& fact, TimeNs timestamp) = 0;
  virtual void OnBinding(const MacAddress& mac, const IpAddress& ip, AddressSource source, TimeNs timestamp) = 0;
  // A fact about the device that holds `ip` (see ParserOutput::AddFactForAddress).
  virtual void OnAddressFact(const IpAddress& ip, const Fact& fact, TimeNs timestamp) = 0;
  virtual void CountAnomaly(std::string_view name) = 0;
};

// A parser of link-layer frames that carry no IP (LLDP, CDP): one instance for the sensor.
class FrameParser {
 public:
  virtual ~FrameParser() = default;
  virtual std::string_view name() const = 0;
  // Called for every frame that is not IP or ARP; the parser decides from the EtherType or SNAP
  // header whether it is its protocol.
  virtual void OnFrame(const PacketView& view, FactSink& facts) = 0;
};

// One protocol's parser for one flow.
class FlowParser {
 public:
  virtual ~FlowParser() = default;
  // Bytes of one direction, in order: a TCP stream's next bytes or one UDP datagram's payload.
  virtual void OnData(Direction direction, std::span<const uint8_t> bytes, TimeNs timestamp, ParserOutput& out) = 0;
  // `bytes` of a TCP stream were never seen (lost by the capture, or not captured at all). What
  // follows starts mid-message; the parser must resynchronise or stop.
  virtual void OnGap(Direction direction, uint64_t bytes, ParserOutput& out) = 0;
  // The flow ended (closed, idle, evicted, or the capture ended) while the parser was not Done: its
  // last chance to report what it still holds, such as requests that were never answered. `out`
  // speaks of the initiator as Party::kSender.
  virtual void OnEnd(ParserOutput& /*out*/) {}
  // True once the parser needs nothing more from this flow (its budget is then released).
  virtual bool Done() const = 0;
};

class ParserFactory {
 public:
  virtual ~ParserFactory() = default;
  virtual std::string_view name() const = 0;
  // Whether this protocol may be on the flow, judged from the ports and the first payload seen
  // (its first bytes, either direction). Cheap: called once per flow with a payload.
  virtual bool Wants(const FlowContext& flow, Direction direction, std::span<const uint8_t> first_payload) const = 0;
  virtual std::unique_ptr<FlowParser> Create(const FlowContext& flow) const = 0;
  // Most bytes per direction the parser is given; the rest of the flow is not even reassembled.
  // UINT64_MAX: the whole flow (a clinical protocol whose messages are counted to the end).
  virtual uint64_t byte_budget() const { return 64 * 1024; }
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_PARSERS_PARSER_H_
