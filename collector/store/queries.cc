#include "collector/store/queries.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "collector/classify/rules.h"
#include "collector/ingest/batch_validator.h"
#include "collector/store/advisories.h"
#include "collector/store/enum_names.h"
#include "collector/store/pg_array.h"
#include "common/ip_address.h"
#include "common/mac_address.h"
#include "common/text.h"

namespace auscult::collector {
namespace {

// What the device is, for a classification key: an analyst's override, else the rules' decision
// (auscult_device_class, migration 012), else `otherwise`.
#define AUSCULT_DEVICE_KEY(key, otherwise) "COALESCE(auscult_device_class(d.device_id, '" key "'), " otherwise ")"

// Whether the device took part in a flow that carried patient data (or a clinical flow): from its
// edges in the graph, which add up its flows as they arrive and outlive the raw flows' retention.
// Partial indexes (migration 019) make this one probe, whatever the device's traffic; the raw
// flows are spread over a partition a day, and asking each of them per device cost ~10 ms a device.
#define AUSCULT_EDGE_FLAG(flag)                                                             \
  "(EXISTS (SELECT 1 FROM graph_edges g WHERE g.src_node = 'd:' || d.device_id AND g." flag \
  ")"                                                                                       \
  " OR EXISTS (SELECT 1 FROM graph_edges g WHERE g.dst_node = 'd:' || d.device_id AND g." flag "))"
#define AUSCULT_HANDLES_PHI AUSCULT_EDGE_FLAG("phi")

// Every filter is always bound; an empty value (or -1) switches it off. A filter that is off is
// left out of the statement (its parameter still named, so that its type is known: "$N IS NOT
// NULL", which the planner folds away); one that is on is written so that the planner can join
// through its index and estimate how many devices it keeps (a subquery under an OR cannot be), and
// so choose between walking the risk index and filtering first.
// Parameters are cast explicitly: libpqxx binds them untyped, and PostgreSQL would otherwise infer
// `integer` from a comparison with a literal.
struct DeviceFilterClause {
  const char* on;   // the condition
  const char* off;  // names the parameter only
};
constexpr DeviceFilterClause kDeviceFilter[] = {
    // 1: a substring of a vendor it was seen with (of the few distinct values: migration 019), or set by an analyst
    {R"sql(d.device_id IN (SELECT e.device_id FROM device_evidence e WHERE e.attribute = 'vendor'
                             AND e.value = ANY(ARRAY(SELECT x FROM unnest(auscult_vendor_values()) x
                                                     WHERE strpos(lower(x), lower($1::text)) > 0))
                           UNION
                           SELECT v.device_id FROM device_overrides v
                           WHERE v.field = 'vendor' AND strpos(lower(v.value), lower($1::text)) > 0))sql",
     "$1::text IS NOT NULL"},
    {"d.device_id IN (SELECT o.device_id FROM device_own_addresses o WHERE o.ip = $2::inet)", "$2::text IS NOT NULL"},
    {"d.device_id IN (SELECT x.device_id FROM devices x WHERE x.mac = $3::macaddr"
     " UNION SELECT m.survivor_id FROM device_merges m WHERE m.from_mac = $3::macaddr)",
     "$3::text IS NOT NULL"},
    {"d.device_id IN (SELECT v.device_id FROM device_vlans v WHERE v.vlan = $4::integer)", "$4::integer IS NOT NULL"},
    {"d.device_id IN (SELECT s.device_id FROM device_sensors s WHERE s.sensor_id = $5::text)", "$5::text IS NOT NULL"},
    {"d.site = $6::text", "$6::text IS NOT NULL"},
    {"d.last_seen >= auscult_ts($7::bigint)", "$7::bigint IS NOT NULL"},
    {AUSCULT_DEVICE_KEY("device_type", "'unknown'") " = $8::text", "$8::text IS NOT NULL"},
    {AUSCULT_DEVICE_KEY("category", "''") " = $9::text", "$9::text IS NOT NULL"},
    {"COALESCE(r.score, 0) >= $10::integer", "$10::integer IS NOT NULL"},
    {"lower(auscult_device_department(d.device_id, d.site)) = lower($11::text)", "$11::text IS NOT NULL"},
    {"d.wing = $12::text", "$12::text IS NOT NULL"},
    {"COALESCE(r.score, 0) <= $13::integer", "$13::integer IS NOT NULL"},
    {AUSCULT_HANDLES_PHI " = ($14::integer = 1)", "$14::integer IS NOT NULL"},
    {AUSCULT_DEVICE_KEY("patient_connection", "'unknown'") " = $15::text", "$15::text IS NOT NULL"},
    {"auscult_device_active(d.site, d.last_seen) = ($16::integer = 1)", "$16::integer IS NOT NULL"},
    {"d.last_seen <= auscult_ts($17::bigint)", "$17::bigint IS NOT NULL"},
};

// Devices with their risk score (NULL until first computed): what the filters read.
constexpr char kDeviceFrom[] = " FROM devices d LEFT JOIN device_risk r ON r.device_id = d.device_id";

// A page of devices, $1 their ids, with the columns FillDevice reads, in no particular order. Set by
// set: each rule (migration 021) is asked once for the page's ids, not once a device, which took
// 0.6 ms a device in scalar subqueries and function calls. Its plan takes 10 ms to make: a page of
// up to 128 is a prepared statement (ExecForIds).
//  - displayed values: auscult_displayed's rule (an analyst's override, else the most confident
//    evidence, then the best source, then the most recent), for ten fields;
//  - the first values of three evidence attributes (sorted, at most 16 each: traffic on the
//    monitored network must not be able to grow every device listing without bound), joined by
//    newlines (values may hold commas);
//  - a device that never names its OS still has the family its TCP handshakes suggest;
//  - whether the device took part in clinical flows, or flows that carried patient data: from its
//    edges in the graph, which add up its flows as they arrive and outlive the raw flows'
//    retention; partial indexes (migration 019) make each one probe, however busy the device (the
//    kinds of patient data come after, from address_phi, for the devices that have them:
//    AddDeviceDetails);
//  - what it is: an analyst's override, else the rules' decision, else "unknown" or "".
constexpr char kDevicePageStatement[] = "auscult_device_page";
constexpr char kDevicePage[] = R"sql(
WITH disp AS (
  SELECT x.device_id, max(x.value) FILTER (WHERE x.field = 'vendor') AS vendor,
         max(x.value) FILTER (WHERE x.field = 'hostname') AS hostname, max(x.value) FILTER (WHERE x.field = 'model') AS model,
         max(x.value) FILTER (WHERE x.field = 'os') AS os, max(x.value) FILTER (WHERE x.field = 'os_family') AS os_family,
         max(x.value) FILTER (WHERE x.field = 'os_version') AS os_version,
         max(x.value) FILTER (WHERE x.field = 'software_version') AS software_version,
         max(x.value) FILTER (WHERE x.field = 'serial') AS serial,
         max(x.value) FILTER (WHERE x.field = 'firmware_version') AS firmware_version,
         max(x.value) FILTER (WHERE x.field = 'patch_level') AS patch_level
  FROM auscult_displayed_of($1::bigint[]) x GROUP BY 1),
cls AS (
  SELECT x.device_id, max(x.value) FILTER (WHERE x.key = 'device_type') AS device_type,
         max(x.value) FILTER (WHERE x.key = 'category') AS category,
         max(x.value) FILTER (WHERE x.key = 'patient_connection') AS patient_connection,
         max(x.value) FILTER (WHERE x.key = 'fda_class') AS fda_class
  FROM auscult_device_classes($1::bigint[]) x GROUP BY 1),
ev AS (
  SELECT y.device_id, bool_or(y.attribute = 'mac_randomized') AS mac_randomized,
         string_agg(y.value, E'\n' ORDER BY y.value) FILTER (WHERE y.attribute = 'clinical_role' AND y.n <= 16) AS clinical_roles,
         string_agg(y.value, E'\n' ORDER BY y.value) FILTER (WHERE y.attribute = 'dicom_ae_title' AND y.n <= 16) AS ae_titles,
         string_agg(y.value, E'\n' ORDER BY y.value) FILTER (WHERE y.attribute = 'hl7_application' AND y.n <= 16) AS hl7_applications
  FROM (SELECT z.*, row_number() OVER (PARTITION BY z.device_id, z.attribute ORDER BY z.value) AS n
        FROM (SELECT DISTINCT e.device_id, e.attribute, e.value FROM device_evidence e
              WHERE e.device_id = ANY($1::bigint[])
                AND e.attribute IN ('mac_randomized', 'clinical_role', 'dicom_ae_title', 'hl7_application')) z) y
  GROUP BY 1),
addr AS (SELECT o.device_id, string_agg(host(o.ip), ',' ORDER BY o.ip) AS ips FROM auscult_own_addresses_of($1::bigint[]) o
         GROUP BY 1),
vl AS (SELECT v.device_id, string_agg(v.vlan::text, ',' ORDER BY v.vlan) AS vlans FROM device_vlans v
       WHERE v.device_id = ANY($1::bigint[]) GROUP BY 1),
sn AS (SELECT s.device_id, string_agg(s.sensor_id, ',' ORDER BY s.sensor_id) AS sensors FROM device_sensors s
       WHERE s.device_id = ANY($1::bigint[]) GROUP BY 1),
act AS (SELECT x.site, auscult_site_active_since(x.site) AS since
        FROM (SELECT DISTINCT d.site FROM devices d WHERE d.device_id = ANY($1::bigint[])) x)
SELECT d.device_id, d.mac::text, d.site, d.wing, auscult_us(d.first_seen), auscult_us(d.last_seen),
       d.packets_sent, d.bytes_sent, d.routes_traffic, COALESCE(disp.vendor, ''), COALESCE(disp.hostname, ''),
       COALESCE(ev.mac_randomized, false), addr.ips, vl.vlans, sn.sensors, COALESCE(disp.model, ''),
       COALESCE(NULLIF(disp.os, ''), disp.os_family, ''), COALESCE(disp.os_version, ''),
       COALESCE(disp.software_version, ''), COALESCE(disp.serial, ''), COALESCE(disp.firmware_version, ''),
       ev.clinical_roles, ev.ae_titles, ev.hl7_applications, COALESCE(dep.department, ''),
       COALESCE(d.last_seen >= act.since, false),
       )sql" AUSCULT_EDGE_FLAG("clinical") ", " AUSCULT_HANDLES_PHI R"sql(,
       COALESCE(cls.device_type, 'unknown'), COALESCE(cls.category, ''), COALESCE(cls.patient_connection, 'unknown'),
       COALESCE(cls.fda_class, ''), COALESCE(r.score, 0), COALESCE(disp.patch_level, ''),
       (SELECT count(*) FROM device_advisories m WHERE m.device_id = d.device_id)::integer
FROM devices d
LEFT JOIN device_risk r ON r.device_id = d.device_id
LEFT JOIN disp ON disp.device_id = d.device_id
LEFT JOIN cls ON cls.device_id = d.device_id
LEFT JOIN ev ON ev.device_id = d.device_id
LEFT JOIN addr ON addr.device_id = d.device_id
LEFT JOIN vl ON vl.device_id = d.device_id
LEFT JOIN sn ON sn.device_id = d.device_id
LEFT JOIN auscult_device_departments($1::bigint[]) dep ON dep.device_id = d.device_id
LEFT JOIN act ON act.site = d.site
WHERE d.device_id = ANY($1::bigint[]))sql";

std::vector<std::string> SplitList(const pqxx::field& f) {
  if (f.is_null()) return {};
  return absl::StrSplit(f.as<std::string>(), ',', absl::SkipEmpty());
}

void FillDevice(const pqxx::row& r, v1::Device& d) {
  d.set_id(r.at(0).as<int64_t>());
  if (!r.at(1).is_null()) d.add_macs(r.at(1).as<std::string>());
  d.set_site(r.at(2).as<std::string>());
  d.set_wing(r.at(3).as<std::string>());
  FromMicros(r.at(4).as<int64_t>(), d.mutable_first_seen());
  FromMicros(r.at(5).as<int64_t>(), d.mutable_last_seen());
  d.set_packets_sent(static_cast<uint64_t>(r.at(6).as<int64_t>()));
  d.set_bytes_sent(static_cast<uint64_t>(r.at(7).as<int64_t>()));
  d.set_routes_traffic(r.at(8).as<bool>());
  d.set_vendor(r.at(9).as<std::string>());
  d.set_hostname(r.at(10).as<std::string>());
  d.set_mac_randomized(r.at(11).as<bool>());
  for (auto& ip : SplitList(r.at(12))) d.add_ips(std::move(ip));
  for (const auto& v : SplitList(r.at(13))) {
    uint32_t vlan = 0;
    if (absl::SimpleAtoi(v, &vlan)) d.add_vlans(vlan);
  }
  for (auto& s : SplitList(r.at(14))) d.add_sensors(std::move(s));
  d.set_model(r.at(15).as<std::string>());
  d.set_os(r.at(16).as<std::string>());
  d.set_os_version(r.at(17).as<std::string>());
  d.set_software_version(r.at(18).as<std::string>());
  d.set_serial_number(r.at(19).as<std::string>());
  d.set_firmware_version(r.at(20).as<std::string>());
  d.set_department(r.at(24).as<std::string>());
  d.set_active(r.at(25).as<bool>());
  d.set_clinical(r.at(26).as<bool>());
  d.set_handles_phi(r.at(27).as<bool>());
  d.set_device_type(r.at(28).as<std::string>());
  d.set_category(r.at(29).as<std::string>());
  d.set_patient_connection(r.at(30).as<std::string>());
  d.set_fda_class(r.at(31).as<std::string>());
  d.set_risk_score(r.at(32).as<int32_t>());
  d.set_patch_level(r.at(33).as<std::string>());
  d.set_advisory_count(r.at(34).as<int32_t>());
  for (int i = 21; i <= 23; ++i) {
    if (r.at(i).is_null()) continue;
    auto* list = i == 21   ? d.mutable_clinical_roles()
                 : i == 22 ? d.mutable_dicom_ae_titles()
                           : d.mutable_hl7_applications();
    for (auto& v : absl::StrSplit(r.at(i).as<std::string>(), '\n', absl::SkipEmpty())) list->Add(std::string(v));
  }
}

// Appends the devices of `ids` that exist to `out`, in the order of `ids`.
void AddDevices(pqxx::transaction_base& t, const std::vector<int64_t>& ids,
                google::protobuf::RepeatedPtrField<v1::Device>& out) {
  if (ids.empty()) return;
  PgArray array;
  for (int64_t id : ids) array.Add(id);
  absl::flat_hash_map<int64_t, pqxx::row> by_id;  // a row holds its result
  for (const pqxx::row& r : ExecForIds(t, kDevicePageStatement, kDevicePage, array)) {
    by_id.emplace(r.at(0).as<int64_t>(), r);
  }
  for (int64_t id : ids) {
    if (auto it = by_id.find(id); it != by_id.end()) FillDevice(it->second, *out.Add());
  }
}

// An evidence row from columns attribute, value, protocol, field, sensor_id, confidence, first_seen
// (us), last_seen (us), count starting at `first`.
void FillEvidence(const pqxx::row& r, int first, v1::Evidence& e) {
  e.set_attribute(AttributeFromLabel(r.at(first).as<std::string>()));
  e.set_value(r.at(first + 1).as<std::string>());
  e.mutable_provenance()->set_protocol(r.at(first + 2).as<std::string>());
  e.mutable_provenance()->set_field(r.at(first + 3).as<std::string>());
  e.set_sensor_id(r.at(first + 4).as<std::string>());
  e.set_confidence(r.at(first + 5).as<float>());
  FromMicros(r.at(first + 6).as<int64_t>(), e.mutable_first_seen());
  FromMicros(r.at(first + 7).as<int64_t>(), e.mutable_last_seen());
  e.set_count(static_cast<uint64_t>(r.at(first + 8).as<int64_t>()));
}

// The device an id was merged into (device_merges), or 0 when the id was never merged.
int64_t MergedInto(pqxx::connection_base& c, int64_t id) {
  pqxx::read_transaction t(c);
  const pqxx::result r = t.exec_params("SELECT survivor_id FROM device_merges WHERE from_id = $1::bigint", id);
  return r.empty() ? 0 : r[0].at(0).as<int64_t>();
}

// What GetDevice adds about a device's identity: the MACs and ids of the devices merged into it,
// and its strong identifiers (bounded: a device merges with few others, unless the network lies).
void AddIdentity(pqxx::read_transaction& t, v1::Device& d) {
  for (const pqxx::row& r :
       t.exec_params("SELECT from_id, COALESCE(from_mac::text, '') FROM device_merges WHERE survivor_id = $1::bigint"
                     " ORDER BY from_id LIMIT 256",
                     d.id())) {
    d.add_merged_ids(r.at(0).as<int64_t>());
    const std::string mac = r.at(1).as<std::string>();
    if (!mac.empty() && std::find(d.macs().begin(), d.macs().end(), mac) == d.macs().end()) d.add_macs(mac);
  }
  for (const pqxx::row& r : t.exec_params("SELECT kind, value, auscult_us(first_seen), auscult_us(last_seen)"
                                          " FROM device_identifiers WHERE device_id = $1::bigint"
                                          " ORDER BY kind, value LIMIT 256",
                                          d.id())) {
    v1::DeviceIdentifier* i = d.add_identifiers();
    i->set_kind(r.at(0).as<std::string>());
    i->set_value(r.at(1).as<std::string>());
    FromMicros(r.at(2).as<int64_t>(), i->mutable_first_seen());
    FromMicros(r.at(3).as<int64_t>(), i->mutable_last_seen());
  }
}

int PageSize(int requested) {
  if (requested <= 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

}  // namespace

pqxx::result ExecForIds(pqxx::transaction_base& t, const char* name, const char* sql, const PgArray& ids) {
  if (ids.size() > 128) return t.exec_params(sql, ids.str());
  // Registering an identical definition again is a no-op; a reconnected connection starts empty.
  t.conn().prepare(name, sql);
  // Left to itself PostgreSQL keeps planning the statement for each set of one device (its
  // generic plan is costed for ten), 9 ms of planning for 1 ms of work. Only for this statement:
  // the others are planned with their values, so that filters that are off fold away.
  t.exec("SET LOCAL plan_cache_mode = force_generic_plan");
  pqxx::result r = t.exec_prepared(name, ids.str());
  t.exec("SET LOCAL plan_cache_mode TO DEFAULT");
  return r;
}

absl::Status CheckTextFilter(const std::string& value, std::string_view field, size_t max_bytes) {
  if (value.size() > max_bytes || HasControlCharacter(value)) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(field), ": at most ", max_bytes, " characters of text"));
  }
  return absl::OkStatus();
}

namespace {

absl::Status CheckIpFilter(const std::string& ip, std::string_view field) {
  if (!ip.empty() && !IpAddress::Parse(ip)) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), ": '", ip.substr(0, 64), "' is not an IP address"));
  }
  return absl::OkStatus();
}

// The risk factors of the devices of a page; with `full`, also their classification decisions and
// evidence (at most 32 values per attribute, the most confident first: a device that asked for
// thousands of DNS names still lists its vendor).
void AddDeviceDetails(pqxx::transaction_base& t, google::protobuf::RepeatedPtrField<v1::Device>& devices, bool full) {
  if (devices.empty()) return;
  PgArray ids;
  absl::flat_hash_map<int64_t, v1::Device*> by_id;
  for (v1::Device& d : devices) {
    ids.Add(d.id());
    by_id[d.id()] = &d;
  }
  for (const pqxx::row& r :
       t.exec_params("SELECT r.device_id, f->>'factor', f->>'group', (f->>'points')::integer, f->>'detail'"
                     " FROM device_risk r, jsonb_array_elements(r.factors) WITH ORDINALITY AS x(f, n)"
                     " WHERE r.device_id = ANY($1::bigint[]) ORDER BY r.device_id, x.n",
                     ids.str())) {
    v1::RiskFactor* f = by_id[r.at(0).as<int64_t>()]->add_risk_factors();
    f->set_factor(r.at(1).as<std::string>(""));
    f->set_group(r.at(2).as<std::string>(""));
    f->set_points(r.at(3).is_null() ? 0 : r.at(3).as<int32_t>());
    f->set_detail(r.at(4).as<std::string>(""));
  }
  // The kinds of patient data that the flows of the devices' own addresses carried at their site (a
  // router's forwarded flows are not its own; address_phi, migrations 021 and 022), for the devices
  // whose edges carried some.
  PgArray phi_ids;
  for (const v1::Device& d : devices) {
    if (d.handles_phi()) phi_ids.Add(d.id());
  }
  if (phi_ids.size() > 0) {
    for (const pqxx::row& r :
         t.exec_params("SELECT o.device_id, a.kind FROM auscult_own_addresses_of($1::bigint[]) o"
                       " JOIN devices d ON d.device_id = o.device_id"
                       " JOIN address_phi a ON a.site = d.site AND a.ip = o.ip GROUP BY 1, 2 ORDER BY 1, 2",
                       phi_ids.str())) {
      by_id[r.at(0).as<int64_t>()]->add_phi_kinds(r.at(1).as<std::string>());
    }
  }
  if (!full) return;
  for (const pqxx::row& r :
       t.exec_params("SELECT device_id, key, value, confidence, rule_id, rules_version, evidence::text"
                     " FROM device_classification WHERE device_id = ANY($1::bigint[])"
                     " ORDER BY device_id, key",
                     ids.str())) {
    v1::ClassificationDecision* c = by_id[r.at(0).as<int64_t>()]->add_classification();
    c->set_key(r.at(1).as<std::string>());
    c->set_value(r.at(2).as<std::string>());
    c->set_confidence(r.at(3).as<float>());
    c->set_rule_id(r.at(4).as<std::string>());
    c->set_rules_version(r.at(5).as<std::string>());
    c->set_evidence_json(r.at(6).as<std::string>());
  }
  for (const pqxx::row& r : t.exec_params(
           "SELECT device_id, attribute, value, protocol, field, sensor_id, confidence, auscult_us(first_seen),"
           " auscult_us(last_seen), count FROM ("
           " SELECT e.*, row_number() OVER (PARTITION BY e.device_id, e.attribute ORDER BY e.confidence DESC,"
           " e.last_seen DESC, e.value) AS n FROM device_evidence e WHERE e.device_id = ANY($1::bigint[])) x"
           " WHERE n <= 32 ORDER BY device_id, attribute, n",
           ids.str())) {
    FillEvidence(r, 1, *by_id[r.at(0).as<int64_t>()]->add_evidence());
  }
}

}  // namespace

absl::StatusOr<v1::ListDevicesResponse> ListDevices(pqxx::connection_base& c, const v1::ListDevicesRequest& req) {
  if (auto s = CheckIpFilter(req.ip(), "ip"); !s.ok()) return s;
  if (!req.mac().empty() && !MacAddress::Parse(req.mac())) {
    return absl::InvalidArgumentError(absl::StrCat("mac: '", req.mac().substr(0, 64), "' is not a MAC address"));
  }
  if (req.vlan() > 4095) return absl::InvalidArgumentError("vlan: must be from 0 to 4095");
  if (req.has_seen_since() && !IsPlausibleTime(req.seen_since())) {
    return absl::InvalidArgumentError("seen_since: must be a time from 1970 to 2100");
  }
  // The database compares canonical forms; any accepted spelling is passed on as such.
  const std::string ip = req.ip().empty() ? "" : IpAddress::Parse(req.ip())->ToString();
  const std::string mac = req.mac().empty() ? "" : MacAddress::Parse(req.mac())->ToString();
  // Keyset paging: the token is the last device id of the previous page, and for the risk order
  // its score before it ("SCORE:ID").
  int64_t after = 0, after_score = 101;
  const bool by_risk = req.order() == v1::ListDevicesRequest::ORDER_RISK;
  if (!req.page_token().empty()) {
    const std::vector<std::string> parts = absl::StrSplit(req.page_token(), ':');
    const bool ok = by_risk ? parts.size() == 2 && absl::SimpleAtoi(parts[0], &after_score) &&
                                  absl::SimpleAtoi(parts[1], &after) && after_score >= 0 && after_score <= 100
                            : parts.size() == 1 && absl::SimpleAtoi(parts[0], &after);
    if (!ok || after < 0) return absl::InvalidArgumentError("page_token: not a token from a previous response");
  }
  if (req.min_risk() < 0 || req.min_risk() > 100) return absl::InvalidArgumentError("min_risk: must be from 0 to 100");
  if (req.has_max_risk() && (req.max_risk() < 0 || req.max_risk() > 100)) {
    return absl::InvalidArgumentError("max_risk: must be from 0 to 100");
  }
  if (req.has_seen_before() && !IsPlausibleTime(req.seen_before())) {
    return absl::InvalidArgumentError("seen_before: must be a time from 1970 to 2100");
  }
  for (const auto& [value, name] : {std::pair{&req.device_type(), "device_type"},
                                    {&req.category(), "category"},
                                    {&req.department(), "department"},
                                    {&req.wing(), "wing"},
                                    {&req.patient_connection(), "patient_connection"}}) {
    if (auto s = CheckTextFilter(*value, name, 64); !s.ok()) return s;
  }
  const int page_size = PageSize(req.page_size());
  // proto3 cannot tell vlan 0 from unset, so 0 means "any"; "no filter" travels to SQL as -1.
  const int64_t vlan_filter = req.vlan() > 0 ? int64_t{req.vlan()} : -1;
  const int64_t since = req.has_seen_since() ? ToMicros(req.seen_since()) : 0;

  // Optional filters travel as -1 (any), 0 (false) or 1 (true).
  const int64_t max_risk = req.has_max_risk() ? int64_t{req.max_risk()} : -1;
  const int64_t handles_phi = req.has_handles_phi() ? int64_t{req.handles_phi()} : -1;
  const int64_t active = req.has_active() ? int64_t{req.active()} : -1;
  const int64_t before = req.has_seen_before() ? ToMicros(req.seen_before()) : std::numeric_limits<int64_t>::max() / 2;

  pqxx::read_transaction t(c);
  v1::ListDevicesResponse out;
  const bool on[] = {!req.vendor().empty(),
                     !ip.empty(),
                     !mac.empty(),
                     vlan_filter >= 0,
                     !req.sensor_id().empty(),
                     !req.site().empty(),
                     since != 0,
                     !req.device_type().empty(),
                     !req.category().empty(),
                     req.min_risk() > 0,
                     !req.department().empty(),
                     !req.wing().empty(),
                     max_risk >= 0,
                     handles_phi >= 0,
                     !req.patient_connection().empty(),
                     active >= 0,
                     req.has_seen_before()};
  static_assert(std::size(kDeviceFilter) == 17);
  std::string where;
  for (size_t i = 0; i < std::size(kDeviceFilter); ++i) {
    absl::StrAppend(&where, i == 0 ? " " : " AND ", on[i] ? kDeviceFilter[i].on : kDeviceFilter[i].off);
  }
  // Every statement binds the filters as $1..$17, then its own parameters.
  auto query = [&](const std::string& sql, auto... more) {
    return t.exec_params(sql, req.vendor(), ip, mac, vlan_filter, req.sensor_id(), req.site(), since, req.device_type(),
                         req.category(), req.min_risk(), req.department(), req.wing(), max_risk, handles_phi,
                         req.patient_connection(), active, before, more...);
  };
  out.set_total_count(query(absl::StrCat("SELECT count(*)", kDeviceFrom, " WHERE", where)).at(0).at(0).as<int64_t>());
  // The page's ids (and scores) first, through the filters' indexes; then the page's columns, set
  // by set (AddDevices).
  std::vector<std::pair<int32_t, int64_t>> page;  // (score, id)
  auto add_ids = [&](const pqxx::result& r) {
    for (const pqxx::row& row : r) page.emplace_back(row.at(1).as<int32_t>(), row.at(0).as<int64_t>());
  };
  // By risk, when the filters keep few devices (the count says so): those devices, sorted; a device
  // not scored yet counts as 0.
  constexpr int64_t kFewDevices = 2000;
  if (by_risk && out.total_count() <= kFewDevices) {
    add_ids(query(absl::StrCat("SELECT d.device_id, COALESCE(r.score, 0) AS score", kDeviceFrom, " WHERE", where,
                               " AND (COALESCE(r.score, 0) < $18::integer"
                               " OR (COALESCE(r.score, 0) = $18::integer AND d.device_id > $19::bigint))"
                               " ORDER BY 2 DESC, d.device_id LIMIT $20::bigint"),
                  after_score, after, page_size + 1));
  } else if (by_risk) {
    // Many: the devices with a score walk the score index (device_risk_score_id, migration 019) and
    // stop at the page's end, instead of scoring and sorting a whole site; devices not scored yet
    // count as 0 and are asked for only when the page reaches score 0 (they come last, by id).
    add_ids(query(absl::StrCat("SELECT d.device_id, r.score FROM device_risk r JOIN devices d ON d.device_id = r.device_id"
                               " WHERE",
                               where,
                               " AND (r.score < $18::integer OR (r.score = $18::integer AND d.device_id > $19::bigint))"
                               " ORDER BY r.score DESC, d.device_id LIMIT $20::bigint"),
                  after_score, after, page_size + 1));
    if (static_cast<int>(page.size()) <= page_size || page.back().first == 0) {
      add_ids(query(absl::StrCat("SELECT d.device_id, 0", kDeviceFrom, " WHERE", where,
                                 " AND r.device_id IS NULL AND (0 < $18::integer OR d.device_id > $19::bigint)"
                                 " ORDER BY d.device_id LIMIT $20::bigint"),
                    after_score, after, page_size + 1));
    }
    std::stable_sort(page.begin(), page.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
  } else {
    add_ids(query(absl::StrCat("SELECT d.device_id, COALESCE(r.score, 0)", kDeviceFrom, " WHERE", where,
                               " AND d.device_id > $18::bigint ORDER BY d.device_id LIMIT $19::bigint"),
                  after, page_size + 1));
  }
  const bool more = static_cast<int>(page.size()) > page_size;
  if (more) page.resize(static_cast<size_t>(page_size));
  std::vector<int64_t> ids;
  for (const auto& [score, id] : page) ids.push_back(id);
  AddDevices(t, ids, *out.mutable_devices());
  AddDeviceDetails(t, *out.mutable_devices(), req.with_evidence());
  // The token is the page's last device as the filters saw it (its score then), even if it changed
  // since.
  if (more) {
    const auto& [score, id] = page.back();
    out.set_next_page_token(by_risk ? absl::StrCat(score, ":", id) : absl::StrCat(id));
  }
  return out;
}

absl::StatusOr<v1::Device> SetDeviceField(pqxx::connection_base& c, const v1::SetDeviceFieldRequest& req,
                                          const std::string& set_by, const AfterChange& after_change) {
  static constexpr std::string_view kFields[] = {
      "hostname",           "vendor",           "model",       "serial",     "os",          "os_version",
      "software_version",   "firmware_version", "patch_level", "department", "device_type", "category",
      "patient_connection", "fda_class",        "tag"};
  if (req.id() <= 0) return absl::InvalidArgumentError("id: must be a positive device id");
  if (std::find(std::begin(kFields), std::end(kFields), req.field()) == std::end(kFields)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "field: '", req.field().substr(0, 40),
        "' cannot be set (hostname, vendor, model, serial, os, os_version, software_version, firmware_version, "
        "patch_level, department, device_type, category, patient_connection, fda_class)"));
  }
  if (!req.clear()) {
    if (req.value().empty() && req.field() != "fda_class") {
      return absl::InvalidArgumentError("value: is empty (use clear to remove an override)");
    }
    if (req.value().size() > 256) return absl::InvalidArgumentError("value: longer than 256 bytes");
    if (HasControlCharacter(req.value())) return absl::InvalidArgumentError("value: contains a control character");
    // What the rules may say, an analyst may say; nothing else (dashboards group by these values).
    const std::string& v = req.value();
    if ((req.field() == "device_type" && !IsDeviceType(v)) || (req.field() == "category" && !IsCategory(v)) ||
        (req.field() == "patient_connection" && !IsPatientConnection(v)) ||
        (req.field() == "fda_class" && !IsFdaClass(v))) {
      return absl::InvalidArgumentError(absl::StrCat("value: '", v.substr(0, 40), "' is not a known ", req.field(),
                                                     " (docs/classification.md lists them)"));
    }
  }
  int64_t queued_us = 0;
  {
    pqxx::work w(c);
    if (w.exec_params("SELECT 1 FROM devices WHERE device_id = $1::bigint", req.id()).empty()) {
      return absl::NotFoundError(absl::StrCat("no device with id ", req.id()));
    }
    if (req.clear()) {
      w.exec_params("DELETE FROM device_overrides WHERE device_id = $1::bigint AND field = $2::text", req.id(),
                    req.field());
    } else {
      w.exec_params(
          "INSERT INTO device_overrides (device_id, field, value, set_by) VALUES ($1::bigint, $2::text, $3::text, "
          "$4::text)"
          " ON CONFLICT (device_id, field) DO UPDATE SET value = excluded.value, set_by = excluded.set_by,"
          " set_at = now()",
          req.id(), req.field(), req.value(), set_by.substr(0, 128));
    }
    w.exec_params(
        "INSERT INTO admin_actions (who, action, detail) VALUES ($1::text, $2::text,"
        " jsonb_strip_nulls(jsonb_build_object('device_id', $3::bigint, 'field', $4::text,"
        " 'value', CASE WHEN $6::boolean THEN NULL ELSE $5::text END)))",
        set_by.substr(0, 128), req.clear() ? "clear_device_field" : "set_device_field", req.id(), req.field(),
        req.value(), req.clear());
    // A device given another type, department, tag or vendor may join a group with an accepted
    // segmentation policy: its edges are held against it now (docs/policy.md).
    if (req.field() == "device_type" || req.field() == "department" || req.field() == "tag" ||
        req.field() == "vendor") {
      w.exec_params("SELECT auscult_check_device_policies(ARRAY[$1::bigint])", req.id());
    }
    // Its risk follows what it is: score it again.
    queued_us = w.exec_params1(
                     "INSERT INTO device_reclassify (device_id) VALUES ($1::bigint)"
                     " ON CONFLICT (device_id) DO UPDATE SET queued_at = excluded.queued_at"
                     " RETURNING auscult_us(queued_at)",
                     req.id())
                    .at(0)
                    .as<int64_t>();
    w.commit();
  }
  if (after_change) {
    try {
      after_change(c, queued_us);
    } catch (const std::exception&) {
      // The override is set; the collector's classification loop scores the device shortly.
    }
  }
  v1::GetDeviceRequest get;
  get.set_id(req.id());
  return GetDevice(c, get);
}

absl::StatusOr<v1::Device> GetDevice(pqxx::connection_base& c, const v1::GetDeviceRequest& req) {
  if (req.id() <= 0) return absl::InvalidArgumentError("id: must be a positive device id");
  if (const int64_t survivor = MergedInto(c, req.id()); survivor != 0) {
    v1::GetDeviceRequest resolved = req;
    resolved.set_id(survivor);
    return GetDevice(c, resolved);
  }
  pqxx::read_transaction t(c);
  google::protobuf::RepeatedPtrField<v1::Device> found;
  AddDevices(t, {req.id()}, found);
  if (found.empty()) return absl::NotFoundError(absl::StrCat("no device with id ", req.id()));
  v1::Device d = std::move(found[0]);
  for (const pqxx::row& r :
       t.exec_params("SELECT host(ip), source, auscult_us(first_seen), auscult_us(last_seen), locality"
                     " FROM device_addresses"
                     " WHERE device_id = $1::bigint ORDER BY ip, source",
                     req.id())) {
    v1::DeviceAddress* a = d.add_addresses();
    a->set_ip(r.at(0).as<std::string>());
    a->set_source(AddressSourceFromLabel(r.at(1).as<std::string>()));
    FromMicros(r.at(2).as<int64_t>(), a->mutable_first_seen());
    FromMicros(r.at(3).as<int64_t>(), a->mutable_last_seen());
    a->set_locality(LocalityFromLabel(r.at(4).as<std::string>()));
  }
  for (const pqxx::row& r : t.exec_params("SELECT field, value, set_by, auscult_us(set_at) FROM device_overrides"
                                          " WHERE device_id = $1::bigint ORDER BY field",
                                          req.id())) {
    v1::DeviceOverride* o = d.add_overrides();
    o->set_field(r.at(0).as<std::string>());
    o->set_value(r.at(1).as<std::string>());
    o->set_set_by(r.at(2).as<std::string>());
    FromMicros(r.at(3).as<int64_t>(), o->mutable_set_at());
  }
  AddIdentity(t, d);
  for (v1::AdvisoryMatch& m : DeviceAdvisories(t, req.id())) {
    m.clear_device_id();  // the device is this one
    *d.add_advisories() = std::move(m);
  }
  v1::ListDevicesResponse one;  // the details are filled as for a page of one
  *one.add_devices() = std::move(d);
  AddDeviceDetails(t, *one.mutable_devices(), true);
  return std::move(*one.mutable_devices(0));
}

namespace {

constexpr char kConnectionFilter[] = R"sql(
  ($1::bigint = 0
     OR f.src_ip IN (SELECT o.ip FROM device_own_addresses o WHERE o.device_id = $1::bigint)
     OR f.dst_ip IN (SELECT o.ip FROM device_own_addresses o WHERE o.device_id = $1::bigint)
     OR f.src_mac = (SELECT d.mac FROM devices d WHERE d.device_id = $1::bigint AND NOT d.routes_traffic)
     OR f.dst_mac = (SELECT d.mac FROM devices d WHERE d.device_id = $1::bigint AND NOT d.routes_traffic))
  AND ($2::text = '' OR f.src_ip = NULLIF($2::text, '')::inet OR f.dst_ip = NULLIF($2::text, '')::inet)
  AND ($3::integer < 0 OR f.dst_port = $3::integer)
  AND ($4::integer < 0 OR f.transport = $4::integer)
  AND ($5::text = '' OR f.application = $5::text)
  AND (NOT $6::boolean OR f.clinical)
  AND (NOT $7::boolean OR f.phi)
  AND (NOT $8::boolean OR NOT (auscult_internal(f.src_ip) AND auscult_internal(f.dst_ip))))sql";

constexpr char kConnectionGroup[] = " GROUP BY f.src_ip, f.dst_ip, f.transport, f.dst_port, f.application";

// The device that holds an address, most recently seen first; 0 if none does.
#define AUSCULT_DEVICE_OF(ip)                                                 \
  "COALESCE((SELECT o.device_id FROM device_own_addresses o WHERE o.ip = " ip \
  " ORDER BY o.last_seen DESC LIMIT 1), "                                     \
  "0)"

constexpr int kMaxMessageNames = 64;

// Adds to the connections of `out` named by the key arrays their patient-data kinds and message counts,
// from the flows behind each (a page holds at most 1000 connections).
void AddClinicalDetail(pqxx::read_transaction& t, const PgArray& src, const PgArray& dst, const PgArray& transport,
                       const PgArray& port, const PgArray& app, v1::ListConnectionsResponse& out) {
  auto find = [&](const pqxx::row& r) -> v1::Connection* {
    const std::string s = r.at(0).as<std::string>(), d = r.at(1).as<std::string>(), a = r.at(4).as<std::string>();
    const auto tr = r.at(2).as<uint32_t>(), p = r.at(3).as<uint32_t>();
    for (v1::Connection& c : *out.mutable_connections()) {
      if (c.src_ip() == s && c.dst_ip() == d && c.transport() == tr && c.dst_port() == p && c.protocol() == a) {
        return &c;
      }
    }
    return nullptr;
  };
  constexpr char kKeys[] =
      "WITH k AS (SELECT * FROM unnest($1::inet[], $2::inet[], $3::integer[], $4::integer[], $5::text[])"
      " AS k(src, dst, tr, port, app)) ";
  constexpr char kJoin[] =
      " JOIN flows f USING (site, sensor_id, epoch, flow_id) JOIN k ON f.src_ip = k.src AND f.dst_ip = k.dst"
      " AND f.transport = k.tr AND f.dst_port = k.port AND f.application = k.app";
  for (const pqxx::row& r :
       t.exec_params(absl::StrCat(kKeys, "SELECT host(k.src), host(k.dst), k.tr, k.port, k.app, p.kind FROM flow_phi p",
                                  kJoin, " GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 6"),
                     src.str(), dst.str(), transport.str(), port.str(), app.str())) {
    if (v1::Connection* c = find(r)) c->add_phi_kinds(r.at(5).as<std::string>());
  }
  for (const pqxx::row& r : t.exec_params(
           absl::StrCat(kKeys,
                        "SELECT host(k.src), host(k.dst), k.tr, k.port, k.app, m.name, auscult_sat(sum(m.count)),"
                        " auscult_sat(sum(m.response_time_sum_us)), max(m.response_time_max_us) FROM flow_messages m",
                        kJoin, " GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 7 DESC, 6"),
           src.str(), dst.str(), transport.str(), port.str(), app.str())) {
    // The most frequent names first; a connection lists at most kMaxMessageNames (a sensor keeps
    // 32 per flow, but a connection sums many flows, and its peers choose the names).
    if (v1::Connection* c = find(r); c != nullptr && c->messages_size() < kMaxMessageNames) {
      v1::MessageCount* m = c->add_messages();
      m->set_name(r.at(5).as<std::string>());
      m->set_count(static_cast<uint64_t>(r.at(6).as<int64_t>()));
      m->set_response_time_sum_us(static_cast<uint64_t>(r.at(7).as<int64_t>()));
      m->set_response_time_max_us(static_cast<uint64_t>(r.at(8).as<int64_t>()));
    }
  }
}

}  // namespace

absl::StatusOr<v1::ListConnectionsResponse> ListConnections(pqxx::connection_base& c,
                                                            const v1::ListConnectionsRequest& req) {
  if (auto s = CheckIpFilter(req.ip(), "ip"); !s.ok()) return s;
  if (req.device_id() < 0) return absl::InvalidArgumentError("device_id: must not be negative");
  if (req.port() > 65535) return absl::InvalidArgumentError("port: must be from 0 to 65535");
  if (req.transport() > 255) return absl::InvalidArgumentError("transport: must be an IP protocol number (0-255)");
  int64_t offset = 0;
  if (!req.page_token().empty() && (!absl::SimpleAtoi(req.page_token(), &offset) || offset < 0)) {
    return absl::InvalidArgumentError("page_token: not a token from a previous response");
  }
  const int page_size = PageSize(req.page_size());
  const std::string ip = req.ip().empty() ? "" : IpAddress::Parse(req.ip())->ToString();
  const int64_t port = req.port() > 0 ? int64_t{req.port()} : -1;
  const int64_t transport = req.transport() > 0 ? int64_t{req.transport()} : -1;

  pqxx::read_transaction t(c);
  v1::ListConnectionsResponse out;
  const pqxx::row count = t.exec_params1(
      absl::StrCat("SELECT count(*) FROM (SELECT 1 FROM flows f WHERE", kConnectionFilter, kConnectionGroup, ") g"),
      req.device_id(), ip, port, transport, req.protocol(), req.clinical(), req.phi(), req.external());
  out.set_total_count(count.at(0).as<int64_t>());
  const std::string sql = absl::StrCat(
      "SELECT host(g.src_ip), host(g.dst_ip), g.transport, g.dst_port, g.application, g.bytes, g.packets,"
      " g.bytes_to_dst, g.bytes_to_src, g.flows, auscult_us(g.first_seen), auscult_us(g.last_seen), g.vlans,"
      " " AUSCULT_DEVICE_OF("g.src_ip") ", " AUSCULT_DEVICE_OF("g.dst_ip") ", g.clinical, g.phi, g.encrypted, g.credentials,"
      " NOT (auscult_internal(g.src_ip) AND auscult_internal(g.dst_ip)), g.sensors FROM ("
      "SELECT f.src_ip, f.dst_ip, f.transport, f.dst_port, f.application,"
      " sum(f.bytes_to_dst + f.bytes_to_src)::bigint AS bytes, sum(f.packets_to_dst + f.packets_to_src)::bigint AS packets,"
      " sum(f.bytes_to_dst)::bigint AS bytes_to_dst, sum(f.bytes_to_src)::bigint AS bytes_to_src, count(*) AS flows,"
      " min(f.first_seen) AS first_seen, max(f.last_seen) AS last_seen,"
      " string_agg(DISTINCT f.vlan::text, ',') AS vlans, bool_or(f.clinical) AS clinical, bool_or(f.phi) AS phi,"
      " bool_or(f.encrypted) AS encrypted, bool_or(f.cleartext_credentials) AS credentials,"
      " string_agg(DISTINCT f.sensor_id, ',' ORDER BY f.sensor_id) AS sensors FROM flows f WHERE",
      kConnectionFilter, kConnectionGroup,
      " ORDER BY bytes DESC, f.src_ip, f.dst_ip, f.transport, f.dst_port, f.application LIMIT $9::bigint OFFSET $10::bigint) g"
      " ORDER BY g.bytes DESC, g.src_ip, g.dst_ip, g.transport, g.dst_port, g.application");
  const pqxx::result rows = t.exec_params(sql, req.device_id(), ip, port, transport, req.protocol(), req.clinical(),
                                          req.phi(), req.external(), page_size + 1, offset);
  // The page's patient-data kinds and message counts, from the flows behind each connection.
  PgArray k_src, k_dst, k_transport, k_port, k_app;
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < page_size; ++i) {
    const pqxx::row& r = rows[i];
    v1::Connection* x = out.add_connections();
    x->set_src_ip(r.at(0).as<std::string>());
    x->set_dst_ip(r.at(1).as<std::string>());
    x->set_transport(r.at(2).as<uint32_t>());
    x->set_dst_port(r.at(3).as<uint32_t>());
    x->set_protocol(r.at(4).as<std::string>());
    x->set_bytes(static_cast<uint64_t>(r.at(5).as<int64_t>()));
    x->set_packets(static_cast<uint64_t>(r.at(6).as<int64_t>()));
    x->set_bytes_to_dst(static_cast<uint64_t>(r.at(7).as<int64_t>()));
    x->set_bytes_to_src(static_cast<uint64_t>(r.at(8).as<int64_t>()));
    x->set_flows(static_cast<uint64_t>(r.at(9).as<int64_t>()));
    FromMicros(r.at(10).as<int64_t>(), x->mutable_first_seen());
    FromMicros(r.at(11).as<int64_t>(), x->mutable_last_seen());
    for (const auto& v : SplitList(r.at(12))) {
      uint32_t vlan = 0;
      if (absl::SimpleAtoi(v, &vlan)) x->add_vlans(vlan);
    }
    x->set_src_device_id(r.at(13).as<int64_t>());
    x->set_dst_device_id(r.at(14).as<int64_t>());
    x->set_clinical(r.at(15).as<bool>());
    x->set_phi(r.at(16).as<bool>());
    x->set_encrypted(r.at(17).as<bool>());
    x->set_cleartext_credentials(r.at(18).as<bool>());
    x->set_external(r.at(19).as<bool>());
    for (auto& sensor : SplitList(r.at(20))) x->add_sensors(std::move(sensor));
    if (x->clinical() || x->phi()) {
      k_src.Add(x->src_ip());
      k_dst.Add(x->dst_ip());
      k_transport.Add(int64_t{x->transport()});
      k_port.Add(int64_t{x->dst_port()});
      k_app.Add(x->protocol());
    }
  }
  if (k_src.size() > 0) AddClinicalDetail(t, k_src, k_dst, k_transport, k_port, k_app, out);
  if (static_cast<int>(rows.size()) > page_size) out.set_next_page_token(absl::StrCat(offset + page_size));
  return out;
}

absl::StatusOr<v1::ListSensorsResponse> ListSensors(pqxx::connection_base& c, const v1::ListSensorsRequest& req) {
  if (auto s = CheckTextFilter(req.site(), "site", 256); !s.ok()) return s;
  // A sensor sends a batch every report window (10 s by default): by default six missed windows is
  // not up (the collector's --sensor_silent_after, migration 013).
  pqxx::read_transaction t(c);
  const int64_t silent_after =
      t.exec1("SELECT extract(epoch FROM auscult_sensor_silent_after())::bigint").at(0).as<int64_t>();
  v1::ListSensorsResponse out;
  absl::flat_hash_map<std::string, v1::SensorHealth*> by_id;
  for (const pqxx::row& r : t.exec_params(
           "SELECT s.sensor_id, s.site, s.wing, s.version, s.hostname, array_to_string(s.sources, E'\\n'),"
           " auscult_us(s.first_seen), auscult_us(s.last_seen),"
           " GREATEST(0, extract(epoch FROM now() - s.last_seen))::bigint,"
           " s.packets_received, s.bytes_received, s.packets_dropped_kernel, s.packets_dropped_interface,"
           " s.packets_dropped_sensor, s.packets_malformed, s.flows_active, s.flows_evicted,"
           " (SELECT count(*) FROM device_sensors x WHERE x.sensor_id = s.sensor_id),"
           " (SELECT string_agg(DISTINCT v.vlan::text, ',') FROM device_sensors x JOIN device_vlans v USING (device_id)"
           "  WHERE x.sensor_id = s.sensor_id),"
           " s.certificate_sha256, EXISTS (SELECT 1 FROM auscult_sensor_revocation(s.sensor_id, s.certificate_sha256))"
           " FROM sensors s WHERE ($1::text = '' OR s.site = $1::text) ORDER BY s.site, s.sensor_id LIMIT 10000",
           req.site())) {
    v1::SensorHealth* h = out.add_sensors();
    h->set_sensor_id(r.at(0).as<std::string>());
    h->set_site(r.at(1).as<std::string>());
    h->set_wing(r.at(2).as<std::string>());
    h->set_version(r.at(3).as<std::string>());
    h->set_hostname(r.at(4).as<std::string>());
    for (auto& src : absl::StrSplit(r.at(5).as<std::string>(""), '\n', absl::SkipEmpty())) {
      h->add_sources(std::string(src));
    }
    FromMicros(r.at(6).as<int64_t>(), h->mutable_first_seen());
    FromMicros(r.at(7).as<int64_t>(), h->mutable_last_seen());
    h->set_silent_seconds(r.at(8).as<int64_t>());
    h->set_up(h->silent_seconds() < silent_after);
    h->set_packets_received(static_cast<uint64_t>(r.at(9).as<int64_t>()));
    h->set_bytes_received(static_cast<uint64_t>(r.at(10).as<int64_t>()));
    h->set_packets_dropped_kernel(static_cast<uint64_t>(r.at(11).as<int64_t>()));
    h->set_packets_dropped_interface(static_cast<uint64_t>(r.at(12).as<int64_t>()));
    h->set_packets_dropped_sensor(static_cast<uint64_t>(r.at(13).as<int64_t>()));
    h->set_packets_malformed(static_cast<uint64_t>(r.at(14).as<int64_t>()));
    h->set_flows_active(static_cast<uint64_t>(r.at(15).as<int64_t>()));
    h->set_flows_evicted(static_cast<uint64_t>(r.at(16).as<int64_t>()));
    h->set_devices(r.at(17).as<int64_t>());
    std::vector<uint32_t> vlans;
    for (const auto& v : SplitList(r.at(18))) {
      uint32_t vlan = 0;
      if (absl::SimpleAtoi(v, &vlan)) vlans.push_back(vlan);
    }
    std::sort(vlans.begin(), vlans.end());
    for (uint32_t v : vlans) h->add_vlans(v);
    h->set_certificate_sha256(r.at(19).as<std::string>());
    h->set_revoked(r.at(20).as<bool>());
    by_id[h->sensor_id()] = h;
  }
  // Named anomaly counters (bounded by the sensor's own list of names).
  for (const pqxx::row& r :
       t.exec_params("SELECT s.sensor_id, a.key, a.value FROM sensors s, jsonb_each_text(s.anomalies) a"
                     " WHERE ($1::text = '' OR s.site = $1::text) ORDER BY 1, 2",
                     req.site())) {
    auto it = by_id.find(r.at(0).as<std::string>());
    uint64_t n = 0;
    if (it != by_id.end() && absl::SimpleAtoi(r.at(2).as<std::string>(), &n)) {
      (*it->second->mutable_anomalies())[r.at(1).as<std::string>()] = n;
    }
  }
  return out;
}

InventoryCounts CountInventory(pqxx::connection_base& c) {
  pqxx::read_transaction r(c);
  const pqxx::row row = r.exec1(
      "SELECT (SELECT max(version) FROM schema_migrations), (SELECT count(*) FROM devices),"
      " (SELECT count(*) FROM graph_edges), (SELECT count(*) FROM sensors),"
      " (SELECT count(*) FROM sensors WHERE reported_down),"
      " (SELECT count(*) FROM sensors s WHERE EXISTS"
      "   (SELECT 1 FROM auscult_sensor_revocation(s.sensor_id, s.certificate_sha256)))");
  InventoryCounts out;
  out.schema_version = row.at(0).as<int>();
  out.devices = row.at(1).as<int64_t>();
  out.graph_edges = row.at(2).as<int64_t>();
  out.sensors = row.at(3).as<int64_t>();
  out.sensors_down = row.at(4).as<int64_t>();
  out.sensors_revoked = row.at(5).as<int64_t>();
  return out;
}

}  // namespace auscult::collector
