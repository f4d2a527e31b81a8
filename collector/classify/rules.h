#ifndef AUSCULT_COLLECTOR_CLASSIFY_RULES_H_
#define AUSCULT_COLLECTOR_CLASSIFY_RULES_H_

// The classification rules file (collector/data/device_rules.txt, format in docs/classification.md):
// rules that map a device's evidence, MAC block and flows to a category, device type, vendor, model,
// patient-connection class and FDA class. Parsing and evaluation are pure functions; the collector's
// Classifier feeds them from the database.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace re2 {
class RE2;
}

namespace auscult::collector {

// One row of device_evidence.
struct EvidenceRow {
  std::string attribute;  // the label: "vendor", "dicom_sop_class", ...
  std::string value;
  std::string protocol;
  std::string field;
  std::string sensor_id;
  float confidence = 0;
  int64_t count = 0;
};

// The device's flows (by its own addresses) grouped by application, side, service port and transport.
struct FlowGroup {
  std::string application;     // the sensor's name: "hl7", "dicom", "telnet", "" when unknown
  bool initiator = false;      // the device opened the flows (else it answered them)
  uint32_t port = 0;           // the responder's port
  uint32_t transport = 0;      // 6 TCP, 17 UDP, ...
  bool phi = false;            // some flow carried patient data
  bool cleartext_phi = false;  // ... without encryption
  bool cleartext = false;      // some flow was not encrypted
  bool credentials = false;    // some flow carried credentials in clear
  int64_t peers = 0;           // distinct peer addresses (multicast and broadcast left out)
  int64_t peer_networks = 0;   // distinct /24 (IPv4) or /64 (IPv6) networks of those peers
  bool external = false;       // a peer outside the internal networks (private ranges and the segment map)
};

struct DeviceFacts {
  int64_t id = 0;
  std::string mac;  // canonical "aa:bb:cc:dd:ee:ff"; empty for hosts known only by address
  bool routes_traffic = false;
  // Known only by an address outside the hospital's networks (an internet server its devices talk
  // to): not an asset, neither classified nor scored.
  bool external = false;
  std::vector<EvidenceRow> evidence;
  std::vector<FlowGroup> flows;
  int64_t peers = 0;                             // distinct peer addresses over all its flows
  std::map<std::string, std::string> overrides;  // an analyst's values by field
};

// The decision for one output key.
struct Decision {
  std::string value;
  float confidence = 0;
  std::string rule_id;
  std::string evidence_json;  // what the rule matched: [{"attribute":..}, {"flow":..}, {"mac":..}]
};

// Keys: category, device_type, vendor, model, patient_connection, fda_class.
using Classification = std::map<std::string, Decision>;

enum class MatchOp { kEqual, kNotEqual, kRegex, kPrefix, kAnyOf };

struct RuleClause {
  enum class Kind { kEvidence, kMacPrefix, kFlow, kRoutesTraffic };
  Kind kind = Kind::kEvidence;
  int line = 0;
  // kEvidence
  std::string attribute;
  MatchOp op = MatchOp::kEqual;
  std::vector<std::string> values;  // normalised (for kRegex: the pattern, as written)
  std::shared_ptr<const re2::RE2> regex;
  std::string field;     // "" = any
  std::string protocol;  // "" = any
  int64_t distinct = 1;
  int64_t count = 1;
  // kMacPrefix: hex digits, lower case
  std::vector<std::string> mac_prefixes;
  // kFlow
  std::string application;  // "" = any; matched exactly
  int side = -1;            // -1 any, 0 initiator, 1 responder
  int64_t port = -1;
  int64_t transport = -1;
  bool phi = false;
  bool cleartext = false;
  int64_t peers = 0;
  // kRoutesTraffic
  bool routes = true;
};

struct Rule {
  std::string id;
  int line = 0;
  float confidence = 0;
  std::string source;
  std::string status = "verified";
  float min_evidence = 0.3f;
  std::vector<RuleClause> when;
  std::vector<RuleClause> unless;
  std::vector<std::pair<std::string, std::string>> set;  // key ("device_type", ...) -> value (may hold $1, $value)
};

struct RuleSet {
  std::vector<Rule> rules;
  std::string version;  // 16 hex digits identifying the file's content
  // Some clause asks how often evidence was seen (count>=N, N > 1): then a device is classified
  // again whenever its evidence is seen again, not only when new evidence arrives (the ingest asks
  // through collector_settings 'rules_count_evidence', written when the rules are adopted).
  bool counts_evidence = false;
};

// Parses a rules file. Any error (unknown attribute, type or key, bad regular expression, duplicate
// id, missing confidence or source, ...) rejects the whole file with "NAME:LINE: message".
absl::StatusOr<RuleSet> ParseRules(std::string_view text, std::string_view name);

// Evaluates the rules on one device: per key, the most confident proposal wins, the earlier rule on
// a tie; category, patient connection and FDA class follow the winning device type's rule unless a
// rule proposes otherwise with strictly higher confidence. Overrides are not applied here.
Classification Classify(const RuleSet& rules, const DeviceFacts& device);

// The default category, patient connection and FDA class of a device type, and whether it is one.
struct TypeDefaults {
  std::string_view category;
  std::string_view patient_connection;
  std::string_view fda_class;
};
const TypeDefaults* DefaultsOfType(std::string_view type);

// The vocabularies operators and rules may use (for validation and for `auscult device set`).
bool IsDeviceType(std::string_view v);
bool IsCategory(std::string_view v);
bool IsPatientConnection(std::string_view v);
bool IsFdaClass(std::string_view v);

// Lower case, runs of white space as one space, trimmed: how '=', 'any-of' and 'prefix' compare.
std::string NormalizeForMatch(std::string_view v);

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_CLASSIFY_RULES_H_
