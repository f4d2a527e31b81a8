#ifndef AUSCULT_SENSOR_OBSERVATIONS_H_
#define AUSCULT_SENSOR_OBSERVATIONS_H_

// What the sensor's packet path hands to export: plain structs, no protobuf. Only sensor/export/
// turns them into auscult.v1 messages.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_address.h"
#include "common/mac_address.h"
#include "common/time.h"

namespace auscult::sensor {

// Mirrors auscult.v1.Attribute (same numbers; export checks this at compile time).
enum class Attribute : int {
  kVendor = 1,
  kHostname = 2,
  kModel = 3,
  kSerialNumber = 4,
  kOs = 5,
  kOsVersion = 6,
  kSoftware = 7,
  kSoftwareVersion = 8,
  kFirmwareVersion = 9,
  kHardwareVersion = 10,
  kPatchLevel = 11,
  kDeviceType = 12,
  kMacRandomized = 13,
  kFqdn = 14,
  kDomain = 15,
  kSystemDescription = 16,
  kDhcpVendorClass = 17,
  kDhcpFingerprint = 18,
  kDhcpClientId = 19,
  kDhcpUserClass = 20,
  kDhcpVendorInfo = 21,
  kUserAgent = 22,
  kServerSoftware = 23,
  kServedName = 24,
  kTlsClientFingerprint = 25,
  kTlsCertificate = 26,
  kService = 27,
  kCapability = 28,
  kSwitchPort = 29,
  kChassisId = 30,
  kSnmpObjectId = 31,
  kRisk = 32,
  kDnsQuery = 33,
  kOsFamily = 34,
  kTlsAlpn = 35,
  kTlsVersion = 36,
  kNtpServer = 37,
  kServiceTxt = 38,
  kTlsServerFingerprint = 39,
  kTcpFingerprint = 40,
  kPortVlan = 41,
  kClinicalRole = 42,
  kDicomAeTitle = 43,
  kDicomSopClass = 44,
  kDicomImplementation = 45,
  kHl7Application = 46,
  kHl7Facility = 47,
  kHl7MessageType = 48,
  kHl7Version = 49,
  kEquipmentId = 50,
  kFhirResource = 51,
};

// Mirrors auscult.v1.PhiKind: the kinds of patient data a flow can be seen to carry.
enum class PhiKind : uint8_t {
  kDemographics = 1,
  kNextOfKin = 2,
  kVisit = 3,
  kInsurance = 4,
  kDiagnoses = 5,
  kOrdersResults = 6,
  kImages = 7,
  kWorklist = 8,
};
inline constexpr int kPhiKinds = 8;

// Mirrors auscult.v1.AddressSource.
enum class AddressSource : int { kTraffic = 1, kArp = 2, kNdp = 3, kDhcp = 4, kLldp = 5, kCdp = 6 };

// Mirrors auscult.v1.Locality: whether an address belongs to the MAC it was seen with.
enum class Locality : int { kUnspecified = 0, kLocal = 1, kRouted = 2 };

// Mirrors auscult.v1.FlowState.
enum class FlowState : int { kActive = 1, kIdleTimeout = 2, kClosed = 3, kEvicted = 4, kCaptureEnd = 5 };

struct FactRecord {
  Attribute attribute;
  std::string value;
  std::string_view protocol;  // static strings: "oui", "dhcp", ...
  std::string_view field;
  float confidence = 0;
  TimeNs first_seen = 0;
  TimeNs last_seen = 0;
  uint32_t count = 0;
  // The address the fact came from (the sensor's own bookkeeping, not exported): lets a fact that
  // landed on a MAC before it was known to be a router move to the host behind it.
  IpAddress via_ip;
};

struct AddressRecord {
  IpAddress ip;
  AddressSource source = AddressSource::kTraffic;
  Locality locality = Locality::kUnspecified;
  TimeNs first_seen = 0;
  TimeNs last_seen = 0;
  uint64_t packets = 0;
};

// A device as seen during one report window: a MAC on the segment, or (mac all zero) a host seen
// only behind a router, identified by `ip`.
struct DeviceRecord {
  MacAddress mac;
  IpAddress ip;
  std::vector<AddressRecord> addresses;
  std::vector<uint16_t> vlans;
  TimeNs first_seen = 0;
  TimeNs last_seen = 0;
  uint64_t packets_sent = 0;
  uint64_t bytes_sent = 0;
  std::vector<FactRecord> facts;
  bool routes_traffic = false;
};

struct FlowEndpoint {
  MacAddress mac;
  IpAddress ip;
  uint16_t port = 0;
};

// A clinical message or response type and how often it was seen (see auscult.v1.MessageCount).
struct MessageCountRecord {
  std::string name;
  uint64_t count = 0;
  uint64_t response_time_sum_us = 0;
  uint64_t response_time_max_us = 0;
};

struct PacketByteCount {
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

// One report about a flow; counters are deltas since the flow's previous report.
struct FlowRecord {
  uint64_t flow_id = 0;
  bool has_macs = false;
  FlowEndpoint initiator;
  FlowEndpoint responder;
  uint8_t transport = 0;
  std::string_view application;  // static string from the service table; empty if unknown
  uint16_t vlan = 0;
  uint16_t inner_vlan = 0;
  PacketByteCount to_responder;
  PacketByteCount to_initiator;
  TimeNs first_seen = 0;
  TimeNs last_seen = 0;
  FlowState state = FlowState::kActive;
  uint8_t tcp_flags_initiator = 0;
  uint8_t tcp_flags_responder = 0;
  bool clinical = false;
  bool encrypted = false;
  bool cleartext_credentials = false;
  std::array<uint32_t, kPhiKinds> phi{};  // messages per kind (index kind - 1), delta since the last report
  std::vector<MessageCountRecord> messages;
};

// Receives the packet path's observations. Called on the capture thread.
class ObservationSink {
 public:
  virtual ~ObservationSink() = default;
  virtual void OnFlow(const FlowRecord& flow) = 0;
  virtual void OnDevice(const DeviceRecord& device) = 0;
  // The report window ended (all of its devices and due flows were delivered): a batch boundary.
  virtual void OnWindowEnd() = 0;
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_OBSERVATIONS_H_
