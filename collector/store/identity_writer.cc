#include "collector/store/identity_writer.h"

#include <algorithm>
#include <map>
#include <set>

#include "collector/store/device_merge_sql.h"
#include "collector/store/identity.h"
#include "collector/store/pg_array.h"

namespace auscult::collector {
namespace {

// At most this many devices take part in one batch's merge decisions beyond the ones it touched,
// and this many rows of each kind per device: a popular address or identifier cannot make a batch
// load the whole inventory.
constexpr int64_t kMaxCandidates = 512;
constexpr int64_t kMaxRowsPerDevice = 64;

constexpr char kMergedMacs[] = R"sql(
SELECT DISTINCT ON (m.from_mac) m.from_mac::text, m.survivor_id
FROM device_merges m
WHERE m.from_mac = ANY($1::macaddr[])
ORDER BY m.from_mac, m.merged_at DESC)sql";

constexpr char kIpIdentityTtl[] = "SELECT auscult_us('epoch'::timestamptz + auscult_ip_identity_ttl())";

// Who held each address at the site (own addresses only: never what a router forwards).
constexpr char kAddressHoldings[] = R"sql(
SELECT x.device_id, host(t.ip), x.f, x.l
FROM unnest($1::inet[]) AS t(ip),
LATERAL (SELECT o.device_id, auscult_us(o.first_seen) AS f, auscult_us(o.last_seen) AS l
         FROM device_own_addresses o JOIN devices d USING (device_id)
         WHERE o.ip = t.ip AND d.site = $2::text
         ORDER BY o.last_seen DESC LIMIT 32) AS x)sql";

constexpr char kLoadDevices[] = R"sql(
SELECT d.device_id, d.site, COALESCE(d.mac::text, ''), COALESCE(host(d.identity_ip), ''), d.routes_traffic,
       auscult_us(d.first_seen), auscult_us(d.last_seen)
FROM devices d
WHERE d.device_id = ANY($1::bigint[])
   OR (d.site = $2::text AND d.mac IS NULL AND d.identity_ip = ANY($3::inet[])))sql";

constexpr char kRetireIdentityIp[] = R"sql(
UPDATE devices SET identity_ip = NULL WHERE device_id = $1::bigint AND mac IS NULL)sql";

constexpr char kInsertIpDevices[] = R"sql(
INSERT INTO devices (identity_ip, site, wing, first_seen, last_seen)
SELECT t.ip, $3::text, $4::text, auscult_ts(t.f), auscult_ts(t.f)
FROM unnest($1::inet[], $2::bigint[]) AS t(ip, f)
ORDER BY t.ip
ON CONFLICT (site, identity_ip) WHERE mac IS NULL DO NOTHING)sql";

constexpr char kIpDevices[] = R"sql(
SELECT host(identity_ip), device_id FROM devices
WHERE site = $2::text AND mac IS NULL AND identity_ip = ANY($1::inet[]))sql";

// The evidence strong identifiers come from, newest first (bounded per device and attribute).
constexpr char kIdentityEvidence[] = R"sql(
SELECT e.device_id, COALESCE(d.mac::text, ''), e.attribute, e.value, e.protocol, auscult_us(e.first_seen),
       auscult_us(e.last_seen)
FROM (SELECT x.*, row_number() OVER (PARTITION BY x.device_id, x.attribute ORDER BY x.last_seen DESC) AS n
      FROM device_evidence x
      WHERE x.device_id = ANY($1::bigint[])
        AND x.attribute IN ('dhcp_client_id', 'serial_number', 'equipment_id', 'dicom_ae_title', 'vendor')) e
JOIN devices d USING (device_id)
WHERE e.n <= $2::bigint AND NOT d.routes_traffic)sql";

constexpr char kOwnAddresses[] = R"sql(
SELECT o.device_id, host(o.ip), auscult_us(o.first_seen), auscult_us(o.last_seen)
FROM (SELECT a.*, row_number() OVER (PARTITION BY a.device_id ORDER BY a.last_seen DESC) AS n
      FROM device_own_addresses a WHERE a.device_id = ANY($1::bigint[])) o
WHERE o.n <= $2::bigint)sql";

constexpr char kUpsertIdentifiers[] = R"sql(
INSERT INTO device_identifiers AS x (site, kind, value, device_id, first_seen, last_seen)
SELECT $1::text, t.k, t.v, t.id, auscult_ts(min(t.f)), auscult_ts(max(t.l))
FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[]) AS t(k, v, id, f, l)
GROUP BY t.k, t.v, t.id
ORDER BY 1, 2, 3, 4
ON CONFLICT (site, kind, value, device_id) DO UPDATE SET
  first_seen = LEAST(x.first_seen, excluded.first_seen),
  last_seen = GREATEST(x.last_seen, excluded.last_seen))sql";

// Identifiers the evidence no longer gives (an HL7 sender that turned out to report many).
constexpr char kDropIdentifiers[] = R"sql(
DELETE FROM device_identifiers x
WHERE x.device_id = ANY($1::bigint[]) AND x.site = $2::text
  AND NOT EXISTS (SELECT 1 FROM unnest($3::text[], $4::text[], $5::bigint[]) AS t(k, v, id)
                  WHERE t.id = x.device_id AND t.k = x.kind AND t.v = x.value))sql";

// The devices that may be one with those the batch touched: the same identifier, or an own address.
constexpr char kCandidates[] = R"sql(
SELECT c.device_id FROM (
  SELECT i2.device_id FROM device_identifiers i1
  JOIN device_identifiers i2 ON i2.site = i1.site AND i2.kind = i1.kind AND i2.value = i1.value
  WHERE i1.device_id = ANY($1::bigint[])
  UNION
  SELECT a2.device_id FROM device_addresses a1
  JOIN device_addresses a2 ON a2.ip = a1.ip
  WHERE a1.device_id = ANY($1::bigint[]) AND a1.locality <> 'routed' AND a2.locality <> 'routed') c
ORDER BY c.device_id LIMIT $2::bigint)sql";

// Lowest id first, in every transaction: two sensors merging at once cannot deadlock on these.
constexpr char kLockDevices[] = R"sql(
SELECT device_id FROM devices WHERE device_id = ANY($1::bigint[]) ORDER BY device_id FOR UPDATE)sql";

constexpr char kLoadIdentifiers[] = R"sql(
SELECT i.device_id, i.kind, i.value, auscult_us(i.first_seen), auscult_us(i.last_seen)
FROM (SELECT x.*, row_number() OVER (PARTITION BY x.device_id ORDER BY x.last_seen DESC) AS n
      FROM device_identifiers x WHERE x.device_id = ANY($1::bigint[])) i
WHERE i.n <= $2::bigint)sql";

// ---- one merge: everything of $1 (the newer id) moves to $2, counts add up, times widen ----
constexpr char kMoveAddresses[] = R"sql(
INSERT INTO device_addresses AS a (device_id, ip, source, first_seen, last_seen, packets, locality)
SELECT $2::bigint, x.ip, x.source, x.first_seen, x.last_seen, x.packets, x.locality
FROM device_addresses x WHERE x.device_id = $1::bigint ORDER BY x.ip, x.source
)sql" AUSCULT_ON_ADDRESS_CONFLICT;

constexpr char kMoveVlans[] = R"sql(
INSERT INTO device_vlans AS v (device_id, vlan, first_seen, last_seen)
SELECT $2::bigint, x.vlan, x.first_seen, x.last_seen FROM device_vlans x WHERE x.device_id = $1::bigint ORDER BY x.vlan
)sql" AUSCULT_ON_VLAN_CONFLICT;

constexpr char kMoveSensors[] = R"sql(
INSERT INTO device_sensors AS s (device_id, sensor_id, first_seen, last_seen, packets)
SELECT $2::bigint, x.sensor_id, x.first_seen, x.last_seen, x.packets
FROM device_sensors x WHERE x.device_id = $1::bigint ORDER BY x.sensor_id
)sql" AUSCULT_ON_DEVICE_SENSOR_CONFLICT;

constexpr char kMoveEvidence[] = R"sql(
INSERT INTO device_evidence AS e (device_id, attribute, value, protocol, field, sensor_id, confidence,
                                  first_seen, last_seen, count)
SELECT $2::bigint, x.attribute, x.value, x.protocol, x.field, x.sensor_id, x.confidence, x.first_seen, x.last_seen,
       x.count
FROM device_evidence x WHERE x.device_id = $1::bigint
ORDER BY x.attribute, x.value, x.protocol, x.field, x.sensor_id
ON CONFLICT (device_id, attribute, value, protocol, field, sensor_id) DO UPDATE SET
  confidence = GREATEST(e.confidence, excluded.confidence),
  first_seen = LEAST(e.first_seen, excluded.first_seen),
  last_seen = GREATEST(e.last_seen, excluded.last_seen),
  count = auscult_sat(e.count::numeric + excluded.count))sql";

constexpr char kMoveIdentifiers[] = R"sql(
INSERT INTO device_identifiers AS i (site, kind, value, device_id, first_seen, last_seen)
SELECT x.site, x.kind, x.value, $2::bigint, x.first_seen, x.last_seen
FROM device_identifiers x WHERE x.device_id = $1::bigint ORDER BY x.site, x.kind, x.value
ON CONFLICT (site, kind, value, device_id) DO UPDATE SET
  first_seen = LEAST(i.first_seen, excluded.first_seen),
  last_seen = GREATEST(i.last_seen, excluded.last_seen))sql";

// An analyst's value on the survivor stays; the other's fill in the fields it had none for. The
// classification and risk are computed anew (device_reclassify); until then the survivor keeps its own.
constexpr char kMoveOverrides[] = R"sql(
INSERT INTO device_overrides (device_id, field, value, set_by, set_at)
SELECT $2::bigint, x.field, x.value, x.set_by, x.set_at FROM device_overrides x WHERE x.device_id = $1::bigint
ORDER BY x.field
ON CONFLICT (device_id, field) DO NOTHING)sql";

constexpr char kMoveClassification[] = R"sql(
INSERT INTO device_classification (device_id, key, value, confidence, rule_id, rules_version, evidence, classified_at)
SELECT $2::bigint, x.key, x.value, x.confidence, x.rule_id, x.rules_version, x.evidence, x.classified_at
FROM device_classification x WHERE x.device_id = $1::bigint ORDER BY x.key
ON CONFLICT (device_id, key) DO NOTHING)sql";

constexpr char kMoveRisk[] = R"sql(
INSERT INTO device_risk (device_id, score, factors, computed_at)
SELECT $2::bigint, x.score, x.factors, x.computed_at FROM device_risk x WHERE x.device_id = $1::bigint
ON CONFLICT (device_id) DO NOTHING)sql";

constexpr char kMergeDeviceRow[] = R"sql(
UPDATE devices AS d SET
  first_seen = LEAST(d.first_seen, x.first_seen),
  last_seen = GREATEST(d.last_seen, x.last_seen),
  packets_sent = auscult_sat(d.packets_sent::numeric + x.packets_sent),
  bytes_sent = auscult_sat(d.bytes_sent::numeric + x.bytes_sent),
  routes_traffic = d.routes_traffic OR x.routes_traffic,
  site = CASE WHEN x.last_seen > d.last_seen THEN x.site ELSE d.site END,
  wing = CASE WHEN x.last_seen > d.last_seen THEN x.wing ELSE d.wing END
FROM devices x
WHERE d.device_id = $2::bigint AND x.device_id = $1::bigint)sql";

constexpr char kMoveGraphEdges[] = "SELECT auscult_move_graph_node('d:' || $1::bigint, 'd:' || $2::bigint)";

constexpr char kFollowMerges[] = "UPDATE device_merges SET survivor_id = $2::bigint WHERE survivor_id = $1::bigint";

// The newer device goes (its remaining rows with it), remembered with its MAC and address.
constexpr char kRecordMerge[] = R"sql(
WITH gone AS (DELETE FROM devices WHERE device_id = $1::bigint RETURNING device_id, mac, identity_ip)
INSERT INTO device_merges (from_id, into_id, survivor_id, from_mac, from_identity_ip, reason, identifier)
SELECT g.device_id, $2::bigint, $2::bigint, g.mac, g.identity_ip, $3::text, $4::text FROM gone g)sql";

// A host known by its address takes the MAC it turned out to have.
constexpr char kAdoptMac[] = R"sql(
UPDATE devices AS d SET mac = m.from_mac, identity_ip = NULL
FROM device_merges m
WHERE m.from_id = $1::bigint AND d.device_id = $2::bigint AND d.mac IS NULL AND m.from_mac IS NOT NULL)sql";

constexpr char kReclassify[] = R"sql(
INSERT INTO device_reclassify (device_id) VALUES ($1::bigint)
ON CONFLICT (device_id) DO UPDATE SET queued_at = excluded.queued_at)sql";

constexpr char kRecordConflict[] = R"sql(
INSERT INTO device_merge_conflicts AS c (device_a, device_b, reason, detail)
VALUES ($1::bigint, $2::bigint, $3::text, $4::text)
ON CONFLICT (device_a, device_b, reason) DO UPDATE SET detail = excluded.detail, last_seen = now())sql";

identity::Rules LoadRules(pqxx::work& w) {
  identity::Rules rules;
  rules.ip_identity_ttl_us = w.exec1(kIpIdentityTtl).at(0).as<int64_t>();
  return rules;
}

template <typename T>
std::string Array(const T& values) {
  PgArray a;
  for (const auto& v : values) a.Add(v);
  return a.str();
}

void LoadDevices(pqxx::work& w, const std::string& ids, const std::string& site, const std::string& identity_ips,
                 identity::Known& known) {
  for (const pqxx::row& r : w.exec_params(kLoadDevices, ids, site, identity_ips)) {
    const int64_t id = r.at(0).as<int64_t>();
    if (known.Find(id) != nullptr) continue;
    known.devices.push_back(identity::KnownDevice{id, r.at(1).as<std::string>(), r.at(2).as<std::string>(),
                                                  r.at(3).as<std::string>(), r.at(4).as<bool>(), r.at(5).as<int64_t>(),
                                                  r.at(6).as<int64_t>()});
  }
}

void CarryOut(pqxx::work& w, const identity::Merge& m) {
  for (const char* statement :
       {kMoveAddresses, kMoveVlans, kMoveSensors, kMoveEvidence, kMoveIdentifiers, kMoveOverrides, kMoveClassification,
        kMoveRisk, kMoveGraphEdges, kMergeDeviceRow, kFollowMerges}) {
    w.exec_params(statement, m.from, m.into);
  }
  w.exec_params(kRecordMerge, m.from, m.into, m.reason, m.identifier);
  w.exec_params(kAdoptMac, m.from, m.into);
  w.exec_params(kReclassify, m.into);
}

}  // namespace

absl::flat_hash_map<std::string, int64_t> MergedMacs(pqxx::work& w, const std::vector<std::string>& macs) {
  absl::flat_hash_map<std::string, int64_t> out;
  if (macs.empty()) return out;
  for (const pqxx::row& r : w.exec_params(kMergedMacs, Array(macs))) {
    out[r.at(0).as<std::string>()] = r.at(1).as<int64_t>();
  }
  return out;
}

absl::flat_hash_map<std::string, int64_t> ResolveRoutedHosts(pqxx::work& w, const std::string& site,
                                                             const std::string& wing,
                                                             const std::vector<RoutedSighting>& sightings) {
  absl::flat_hash_map<std::string, int64_t> out;
  if (sightings.empty()) return out;
  // One sighting per address: a batch's reports of it, from first to last.
  std::map<std::string, std::pair<int64_t, int64_t>> span;
  for (const RoutedSighting& s : sightings) {
    auto [it, inserted] = span.emplace(s.ip, std::make_pair(s.first_seen, s.last_seen));
    if (!inserted) {
      it->second.first = std::min(it->second.first, s.first_seen);
      it->second.second = std::max(it->second.second, s.last_seen);
    }
  }
  std::vector<std::string> ips;
  for (const auto& [ip, times] : span) ips.push_back(ip);
  const std::string ip_array = Array(ips);

  const identity::Rules rules = LoadRules(w);
  identity::Known known;
  std::set<int64_t> ids;
  for (const pqxx::row& r : w.exec_params(kAddressHoldings, ip_array, site)) {
    const int64_t id = r.at(0).as<int64_t>();
    ids.insert(id);
    known.holdings.push_back(
        identity::Holding{id, identity::kIp, r.at(1).as<std::string>(), r.at(2).as<int64_t>(), r.at(3).as<int64_t>()});
  }
  LoadDevices(w, Array(std::vector<int64_t>(ids.begin(), ids.end())), site, ip_array, known);

  PgArray new_ip, new_first;
  for (const auto& [ip, times] : span) {
    const identity::RoutedHost host = identity::ResolveRoutedHost(known, site, ip, times.first, times.second, rules);
    if (host.retire != 0) w.exec_params(kRetireIdentityIp, host.retire);
    if (host.device_id != 0) {
      out[ip] = host.device_id;
    } else {
      new_ip.Add(ip);
      new_first.Add(times.first);
    }
  }
  if (new_ip.size() > 0) {
    w.exec_params(kInsertIpDevices, new_ip.str(), new_first.str(), site, wing);
    for (const pqxx::row& r : w.exec_params(kIpDevices, new_ip.str(), site)) {
      out[r.at(0).as<std::string>()] = r.at(1).as<int64_t>();
    }
  }
  return out;
}

void MergeIdentities(pqxx::work& w, const std::string& site, const std::vector<int64_t>& touched) {
  if (touched.empty()) return;
  const std::string touched_array = Array(touched);

  // 1. The strong identifiers of the touched devices, from their evidence as it now stands.
  std::map<int64_t, std::pair<std::string, std::vector<identity::EvidenceItem>>> evidence;
  for (const pqxx::row& r : w.exec_params(kIdentityEvidence, touched_array, kMaxRowsPerDevice)) {
    auto& [mac, items] = evidence[r.at(0).as<int64_t>()];
    mac = r.at(1).as<std::string>();
    items.push_back(identity::EvidenceItem{r.at(2).as<std::string>(), r.at(3).as<std::string>(),
                                           r.at(4).as<std::string>(), r.at(5).as<int64_t>(), r.at(6).as<int64_t>()});
  }
  std::map<int64_t, std::vector<identity::OwnAddress>> own;
  if (!evidence.empty()) {
    for (const pqxx::row& r : w.exec_params(kOwnAddresses, touched_array, kMaxRowsPerDevice)) {
      own[r.at(0).as<int64_t>()].push_back(
          identity::OwnAddress{r.at(1).as<std::string>(), r.at(2).as<int64_t>(), r.at(3).as<int64_t>()});
    }
  }
  PgArray k, v, id, f, l;
  for (const auto& [device_id, mac_and_items] : evidence) {
    for (const identity::Holding& h :
         identity::StrongIdentifiers(device_id, mac_and_items.first, mac_and_items.second, own[device_id])) {
      k.Add(h.kind);
      v.Add(h.value);
      id.Add(h.device_id);
      f.Add(h.first_seen);
      l.Add(h.last_seen);
    }
  }
  w.exec_params(kDropIdentifiers, touched_array, site, k.str(), v.str(), id.str());
  if (k.size() > 0) w.exec_params(kUpsertIdentifiers, site, k.str(), v.str(), id.str(), f.str(), l.str());

  // 2. The devices they may be one with, locked lowest id first, and what is known of them.
  std::set<int64_t> candidates(touched.begin(), touched.end());
  for (const pqxx::row& r : w.exec_params(kCandidates, touched_array, kMaxCandidates)) {
    candidates.insert(r.at(0).as<int64_t>());
  }
  if (candidates.size() < 2) return;
  std::vector<int64_t> live;
  for (const pqxx::row& r : w.exec_params(kLockDevices, Array(candidates))) live.push_back(r.at(0).as<int64_t>());
  const std::string live_array = Array(live);
  const identity::Rules rules = LoadRules(w);
  identity::Known known;
  LoadDevices(w, live_array, site, "{}", known);
  for (const pqxx::row& r : w.exec_params(kOwnAddresses, live_array, kMaxRowsPerDevice)) {
    known.holdings.push_back(identity::Holding{r.at(0).as<int64_t>(), identity::kIp, r.at(1).as<std::string>(),
                                               r.at(2).as<int64_t>(), r.at(3).as<int64_t>()});
  }
  for (const pqxx::row& r : w.exec_params(kLoadIdentifiers, live_array, kMaxRowsPerDevice)) {
    known.holdings.push_back(identity::Holding{r.at(0).as<int64_t>(), r.at(1).as<std::string>(),
                                               r.at(2).as<std::string>(), r.at(3).as<int64_t>(),
                                               r.at(4).as<int64_t>()});
  }

  // 3. The decisions, carried out in order.
  const identity::MergePlan plan = identity::PlanMerges(known, rules);
  for (const identity::Merge& m : plan.merges) CarryOut(w, m);
  for (const identity::Conflict& c : plan.conflicts) {
    w.exec_params(kRecordConflict, c.device_a, c.device_b, c.reason, c.detail);
  }
}

}  // namespace auscult::collector
