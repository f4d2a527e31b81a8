#include "collector/store/batch_writer.h"

#include <pqxx/pqxx>

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "collector/store/device_merge_sql.h"
#include "collector/store/enum_names.h"
#include "collector/store/identity_writer.h"
#include "collector/store/pg_array.h"
#include "collector/store/revocations.h"
#include "common/ip_address.h"
#include "common/json_writer.h"
#include "common/mac_address.h"

namespace auscult::collector {
namespace {

constexpr char kUpsertSensor[] = R"sql(
INSERT INTO sensors AS s (sensor_id, site, wing, version, hostname, sources, certificate_sha256)
VALUES ($1, $2, $3, $4, $5, $6::text[], $7::text)
ON CONFLICT (sensor_id) DO UPDATE SET
  site = excluded.site, wing = excluded.wing, version = excluded.version,
  hostname = excluded.hostname, sources = excluded.sources, certificate_sha256 = excluded.certificate_sha256,
  last_seen = now()
RETURNING auscult_us(now()))sql";

// A sensor reported silent (collector/query/event_hub.cc) is back: one sensor_up event, in the
// transaction of the batch that shows it.
constexpr char kSensorBack[] = R"sql(
WITH back AS (
  UPDATE sensors SET reported_down = false WHERE sensor_id = $1::text AND reported_down
  RETURNING sensor_id, last_seen)
INSERT INTO events (kind, sensor_id, detail)
SELECT 'sensor_up', sensor_id, jsonb_build_object('last_seen', auscult_us(last_seen)) FROM back)sql";

constexpr char kRecordBatch[] = R"sql(
INSERT INTO ingested_batches (site, sensor_id, epoch, sequence, devices, flows)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING)sql";

// Health counters are cumulative per epoch: keep those of the newest batch of the current epoch. A
// new epoch always takes over (a restarted sensor's clock may be behind its previous run's).
constexpr char kUpdateSensorStats[] = R"sql(
UPDATE sensors SET epoch = $2, sequence = $3, packets_received = $4, bytes_received = $5,
  packets_dropped_kernel = $6, packets_dropped_interface = $7, packets_dropped_sensor = $8,
  packets_malformed = $9, flows_active = $10, flows_evicted = $11, anomalies = $12::jsonb
WHERE sensor_id = $1 AND (epoch <> $2 OR sequence < $3))sql";

// New MACs first, so that identity values are drawn only for devices never seen before (an upsert
// draws one for every row it proposes, and device ids would run into the billions).
constexpr char kInsertNewDevices[] = R"sql(
INSERT INTO devices (mac, site, wing, first_seen, last_seen)
SELECT t.mac, $3, $4, auscult_ts(min(t.f)), auscult_ts(min(t.f))
FROM unnest($1::macaddr[], $2::bigint[]) AS t(mac, f)
WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.mac = t.mac)
  -- merged by another batch since this one looked: its sightings go to the survivor (a retry does)
  AND NOT EXISTS (SELECT 1 FROM device_merges m WHERE m.from_mac = t.mac)
GROUP BY t.mac
ORDER BY t.mac
ON CONFLICT (mac) DO NOTHING
RETURNING device_id)sql";

// The ids of the batch's MACs (merged MACs are looked up in device_merges first).
constexpr char kDeviceIdsOfMacs[] = R"sql(
SELECT device_id, mac::text FROM devices WHERE mac = ANY($1::macaddr[]))sql";

// Then every device of the batch, by id, in id order (the order concurrent sensors lock rows in).
// Sightings of a MAC that was merged into another device go to the device it lives in now.
constexpr char kUpdateDevices[] = R"sql(
UPDATE devices AS d SET
  first_seen = LEAST(d.first_seen, u.f),
  last_seen = GREATEST(d.last_seen, u.l),
  packets_sent = auscult_sat(d.packets_sent::numeric + u.p),
  bytes_sent = auscult_sat(d.bytes_sent::numeric + u.b),
  routes_traffic = d.routes_traffic OR u.r,
  site = CASE WHEN u.l >= d.last_seen THEN $7 ELSE d.site END,
  wing = CASE WHEN u.l >= d.last_seen THEN $8 ELSE d.wing END
FROM (SELECT t.id, auscult_ts(min(t.f)) AS f, auscult_ts(max(t.l)) AS l, sum(t.p) AS p, sum(t.b) AS b,
             bool_or(t.r) AS r
      FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::boolean[])
           AS t(id, f, l, p, b, r)
      GROUP BY t.id
      ORDER BY t.id) AS u
WHERE d.device_id = u.id)sql";

constexpr char kTouchDevices[] = R"sql(
UPDATE devices AS d SET first_seen = LEAST(d.first_seen, u.f), last_seen = GREATEST(d.last_seen, u.l)
FROM (SELECT t.id, auscult_ts(min(t.f)) AS f, auscult_ts(max(t.l)) AS l
      FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS t(id, f, l)
      GROUP BY t.id ORDER BY t.id) AS u
WHERE d.device_id = u.id)sql";

constexpr char kUpsertDeviceSensors[] = R"sql(
INSERT INTO device_sensors AS s (device_id, sensor_id, first_seen, last_seen, packets)
SELECT t.id, $1, auscult_ts(min(t.f)), auscult_ts(max(t.l)), auscult_sat(sum(t.p))
FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS t(id, f, l, p)
GROUP BY t.id
ORDER BY 1
)sql" AUSCULT_ON_DEVICE_SENSOR_CONFLICT;

// An address's locality is the sensor's latest judgement (a MAC may turn out to be a router).
constexpr char kUpsertAddresses[] = R"sql(
INSERT INTO device_addresses AS a (device_id, ip, source, first_seen, last_seen, packets, locality)
SELECT t.id, t.ip, t.src, auscult_ts(min(t.f)), auscult_ts(max(t.l)), auscult_sat(sum(t.p)),
       (array_agg(t.loc ORDER BY t.l DESC))[1]
FROM unnest($1::bigint[], $2::inet[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[])
     AS t(id, ip, src, f, l, p, loc)
GROUP BY t.id, t.ip, t.src
ORDER BY 1, 2, 3
)sql" AUSCULT_ON_ADDRESS_CONFLICT R"sql(
RETURNING a.device_id, a.xmax = 0 OR a.locality = 'routed')sql";

constexpr char kUpsertVlans[] = R"sql(
INSERT INTO device_vlans AS v (device_id, vlan, first_seen, last_seen)
SELECT t.id, t.vlan, auscult_ts(min(t.f)), auscult_ts(max(t.l))
FROM unnest($1::bigint[], $2::integer[], $3::bigint[], $4::bigint[]) AS t(id, vlan, f, l)
GROUP BY t.id, t.vlan
ORDER BY 1, 2
)sql" AUSCULT_ON_VLAN_CONFLICT;

constexpr char kUpsertEvidence[] = R"sql(
INSERT INTO device_evidence AS e (device_id, attribute, value, protocol, field, sensor_id, confidence,
                                  first_seen, last_seen, count)
SELECT t.id, t.attribute, t.value, t.protocol, t.field, $1, max(t.confidence),
       auscult_ts(min(t.f)), auscult_ts(max(t.l)), auscult_sat(sum(t.n))
FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::real[], $8::bigint[], $9::bigint[],
            $10::bigint[]) AS t(id, attribute, value, protocol, field, confidence, f, l, n)
GROUP BY t.id, t.attribute, t.value, t.protocol, t.field
ORDER BY 1, 2, 3, 4, 5
ON CONFLICT (device_id, attribute, value, protocol, field, sensor_id) DO UPDATE SET
  confidence = excluded.confidence,
  first_seen = LEAST(e.first_seen, excluded.first_seen),
  last_seen = GREATEST(e.last_seen, excluded.last_seen),
  count = auscult_sat(e.count::numeric + excluded.count)
RETURNING e.device_id,
          e.xmax = 0 OR COALESCE((SELECT value = 'true' FROM collector_settings WHERE name = 'rules_count_evidence'),
                                 true))sql";

// A flow may be reported more than once in a batch (a live report, then its end): add them up.
// Its reports meet on (site, sensor, epoch, flow id, first packet): flows are partitioned by day of
// their first packet (migration 014), which never changes, and keyed with the site ($27; migration
// 022, for sharding by site: docs/scale-out.md), as every row a batch writes. A side's MAC is the
// latest one known (a flow's first packet names the responder only as a destination; its own
// frames confirm it later).
constexpr char kUpsertFlows[] = R"sql(
WITH up AS (
INSERT INTO flows AS x (site, sensor_id, epoch, flow_id, vlan, inner_vlan, transport, application,
                        src_mac, src_ip, src_port, dst_mac, dst_ip, dst_port,
                        packets_to_dst, bytes_to_dst, packets_to_src, bytes_to_src,
                        first_seen, last_seen, state, tcp_flags_src, tcp_flags_dst,
                        clinical, phi, encrypted, cleartext_credentials)
SELECT $27, $1, $2, t.id, min(t.vlan), min(t.inner_vlan), min(t.transport), min(t.app),
       (array_agg(t.smac ORDER BY t.l DESC) FILTER (WHERE t.smac <> ''))[1]::macaddr, min(t.sip), min(t.sport),
       (array_agg(t.dmac ORDER BY t.l DESC) FILTER (WHERE t.dmac <> ''))[1]::macaddr, min(t.dip), min(t.dport),
       auscult_sat(sum(t.pd)), auscult_sat(sum(t.bd)), auscult_sat(sum(t.ps)), auscult_sat(sum(t.bs)),
       auscult_ts(min(t.f)), auscult_ts(max(t.l)), (array_agg(t.state ORDER BY t.l DESC))[1],
       bit_or(t.fs), bit_or(t.fd), bool_or(t.clin), bool_or(t.phi), bool_or(t.enc), bool_or(t.cred)
FROM unnest($3::bigint[], $4::integer[], $5::integer[], $6::smallint[], $7::text[],
            $8::text[], $9::inet[], $10::integer[], $11::text[], $12::inet[], $13::integer[],
            $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[], $18::bigint[], $19::bigint[],
            $20::text[], $21::smallint[], $22::smallint[], $23::boolean[], $24::boolean[], $25::boolean[],
            $26::boolean[])
     AS t(id, vlan, inner_vlan, transport, app, smac, sip, sport, dmac, dip, dport,
          pd, bd, ps, bs, f, l, state, fs, fd, clin, phi, enc, cred)
GROUP BY t.id
ORDER BY t.id
ON CONFLICT (site, sensor_id, epoch, flow_id, first_seen) DO UPDATE SET
  src_mac = COALESCE(excluded.src_mac, x.src_mac),
  dst_mac = COALESCE(excluded.dst_mac, x.dst_mac),
  packets_to_dst = auscult_sat(x.packets_to_dst::numeric + excluded.packets_to_dst),
  bytes_to_dst = auscult_sat(x.bytes_to_dst::numeric + excluded.bytes_to_dst),
  packets_to_src = auscult_sat(x.packets_to_src::numeric + excluded.packets_to_src),
  bytes_to_src = auscult_sat(x.bytes_to_src::numeric + excluded.bytes_to_src),
  last_seen = GREATEST(x.last_seen, excluded.last_seen),
  state = CASE WHEN excluded.last_seen >= x.last_seen THEN excluded.state ELSE x.state END,
  tcp_flags_src = x.tcp_flags_src | excluded.tcp_flags_src,
  tcp_flags_dst = x.tcp_flags_dst | excluded.tcp_flags_dst,
  clinical = x.clinical OR excluded.clinical,
  phi = x.phi OR excluded.phi,
  encrypted = x.encrypted OR excluded.encrypted,
  cleartext_credentials = x.cleartext_credentials OR excluded.cleartext_credentials
RETURNING flow_id, x.stored_at = now() AS inserted, src_ip, dst_ip, transport, dst_port, application,
          clinical, phi, encrypted, cleartext_credentials))sql";

// The communication graph follows in the same statement: the batch's flows, added up per (initiator
// address, responder address, transport, service port, application) as stored with the flow, are
// appended to graph_edge_pending, which the collector merges into graph_edges after the batch
// commits and before it acknowledges it (MergePendingEdges, migration 020): appended, not merged
// here, so that concurrent batches never wait for each other's locks on the same servers' edges. A
// flow counts once, when first stored (its stored_at is this transaction's: a partitioned table
// has no xmax to tell).
constexpr char kPendingEdges[] = R"sql(,
d AS (
  SELECT t.id, sum(t.pd) AS pd, sum(t.bd) AS bd, sum(t.ps) AS ps, sum(t.bs) AS bs, min(t.f) AS f, max(t.l) AS l
  FROM unnest($3::bigint[], $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[], $18::bigint[],
              $19::bigint[]) AS t(id, pd, bd, ps, bs, f, l)
  GROUP BY t.id)
INSERT INTO graph_edge_pending (site, sensor_id, src_ip, dst_ip, transport, port, application, bytes_to_dst, bytes_to_src,
                                packets_to_dst, packets_to_src, flows, first_seen, last_seen, clinical, phi,
                                encrypted, cleartext_credentials, cleartext, cleartext_phi)
SELECT $27, $1, up.src_ip, up.dst_ip, up.transport, up.dst_port, up.application, auscult_sat(sum(d.bd)),
       auscult_sat(sum(d.bs)), auscult_sat(sum(d.pd)), auscult_sat(sum(d.ps)), count(*) FILTER (WHERE up.inserted),
       auscult_ts(min(d.f)), auscult_ts(max(d.l)), bool_or(up.clinical), bool_or(up.phi), bool_or(up.encrypted),
       bool_or(up.cleartext_credentials), bool_or(NOT up.encrypted), bool_or(up.phi AND NOT up.encrypted)
FROM up JOIN d ON d.id = up.flow_id
GROUP BY up.src_ip, up.dst_ip, up.transport, up.dst_port, up.application)sql";

// Patient-data kinds and message counts of flows add up over their reports.
// With the kinds each end's address took part in (address_phi, migration 021): only new pairs are
// written, and a pair already known takes no row lock (DO NOTHING), so that the batches of a busy
// HL7 engine's peers never wait on each other here.
constexpr char kUpsertFlowPhi[] = R"sql(
WITH t AS (SELECT * FROM unnest($3::bigint[], $4::text[], $5::bigint[], $6::inet[], $7::inet[]) AS t(id, kind, n, sip, dip)),
addresses AS (
  INSERT INTO address_phi (site, ip, kind)
  SELECT DISTINCT $8::text, x.ip, t.kind FROM t CROSS JOIN LATERAL (VALUES (t.sip), (t.dip)) AS x(ip)
  ORDER BY 1, 2, 3
  ON CONFLICT (site, ip, kind) DO NOTHING)
INSERT INTO flow_phi AS x (site, sensor_id, epoch, flow_id, kind, messages)
SELECT $8::text, $1::text, $2::bigint, t.id, t.kind, auscult_sat(sum(t.n))
FROM t
GROUP BY t.id, t.kind
ORDER BY 1, 2, 3, 4, 5
ON CONFLICT (site, sensor_id, epoch, flow_id, kind) DO UPDATE SET
  messages = auscult_sat(x.messages::numeric + excluded.messages))sql";

constexpr char kUpsertFlowMessages[] = R"sql(
INSERT INTO flow_messages AS x (site, sensor_id, epoch, flow_id, name, count, response_time_sum_us,
                                response_time_max_us)
SELECT $8::text, $1::text, $2::bigint, t.id, t.name, auscult_sat(sum(t.n)), auscult_sat(sum(t.rs)), max(t.rm)
FROM unnest($3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[]) AS t(id, name, n, rs, rm)
GROUP BY t.id, t.name
ORDER BY 1, 2, 3, 4, 5
ON CONFLICT (site, sensor_id, epoch, flow_id, name) DO UPDATE SET
  count = auscult_sat(x.count::numeric + excluded.count),
  response_time_sum_us = auscult_sat(x.response_time_sum_us::numeric + excluded.response_time_sum_us),
  response_time_max_us = GREATEST(x.response_time_max_us, excluded.response_time_max_us))sql";

// The devices whose batch changed what classification reads are classified and scored again once it
// is committed (collector/classify/classifier.h): new devices, new evidence (or any evidence seen
// again when the rules count sightings), new addresses (a new host behind a router has one) or one
// turned routed, routers, and (auscult_merge_pending_edges) the ends of changed edges. A device that is only seen again
// is not: at hospital scale most of a batch is devices and flows seen again. Sorted, like every other write, so that
// concurrent batches take row locks in the same order.
constexpr char kQueueDevices[] = R"sql(
INSERT INTO device_reclassify (device_id)
SELECT DISTINCT t.id FROM unnest($1::bigint[]) AS t(id) ORDER BY 1
ON CONFLICT (device_id) DO UPDATE SET queued_at = excluded.queued_at)sql";

// The validator has parsed every MAC and IP; the database gets their canonical text, which its
// macaddr and inet types read without question.
std::string Mac(const std::string& text) { return text.empty() ? text : MacAddress::Parse(text)->ToString(); }
std::string Ip(const std::string& text) { return IpAddress::Parse(text)->ToString(); }

int64_t I64(uint64_t v) { return static_cast<int64_t>(v); }

void ApplyDevices(pqxx::work& w, const v1::ObservationBatch& b) {
  const std::string& sensor_id = b.sensor().sensor_id();
  const std::string& site = b.sensor().site();
  // 1. Devices by MAC: the new ones inserted, then every sighting applied by device id.
  PgArray own_mac, own_first;  // MACs that are not merged into another device
  std::vector<RoutedSighting> routed;
  std::vector<std::string> all_macs;
  for (const v1::DeviceObservation& d : b.devices()) {
    if (d.ip().empty()) all_macs.push_back(Mac(d.mac()));
  }
  absl::flat_hash_map<std::string, int64_t> id_of_mac = MergedMacs(w, all_macs);
  for (const v1::DeviceObservation& d : b.devices()) {
    if (!d.ip().empty()) {
      routed.push_back({Ip(d.ip()), ToMicros(d.first_seen()), ToMicros(d.last_seen())});
    } else if (!id_of_mac.contains(Mac(d.mac()))) {
      own_mac.Add(Mac(d.mac()));
      own_first.Add(ToMicros(d.first_seen()));
    }
  }
  std::vector<int64_t> queue;      // devices to classify again (kQueueDevices)
  std::vector<int64_t> addressed;  // devices with an address new to them
  if (own_mac.size() > 0) {
    for (const auto& row : w.exec_params(kInsertNewDevices, own_mac.str(), own_first.str(), site, b.sensor().wing())) {
      queue.push_back(row.at(0).as<int64_t>());
    }
    for (const auto& row : w.exec_params(kDeviceIdsOfMacs, own_mac.str())) {
      id_of_mac[row.at(1).as<std::string>()] = row.at(0).as<int64_t>();
    }
  }
  {
    PgArray id, first, last, packets, bytes, routes;
    for (const v1::DeviceObservation& d : b.devices()) {
      if (!d.ip().empty()) continue;
      const auto found = id_of_mac.find(Mac(d.mac()));
      if (found == id_of_mac.end()) {
        // Merged into another device by a concurrent batch after this one looked: start again.
        throw pqxx::serialization_failure("a MAC of the batch was merged into another device meanwhile");
      }
      id.Add(found->second);
      first.Add(ToMicros(d.first_seen()));
      last.Add(ToMicros(d.last_seen()));
      packets.Add(I64(d.packets_sent()));
      bytes.Add(I64(d.bytes_sent()));
      routes.Add(d.routes_traffic());
      if (d.routes_traffic()) queue.push_back(found->second);
    }
    if (id.size() > 0) {
      w.exec_params(kUpdateDevices, id.str(), first.str(), last.str(), packets.str(), bytes.str(), routes.str(), site,
                    b.sensor().wing());
    }
  }
  // 2. Hosts behind routers, by address and time (collector/store/identity.h).
  const absl::flat_hash_map<std::string, int64_t> id_of_ip = ResolveRoutedHosts(w, site, b.sensor().wing(), routed);
  // 3. Everything else hangs off the device ids.
  PgArray s_id, s_first, s_last, s_packets;
  PgArray t_id, t_first, t_last;
  PgArray a_id, a_ip, a_src, a_first, a_last, a_packets, a_locality;
  PgArray v_id, v_vlan, v_first, v_last;
  PgArray e_id, e_attr, e_value, e_proto, e_field, e_conf, e_first, e_last, e_count;
  for (const v1::DeviceObservation& d : b.devices()) {
    const bool by_ip = !d.ip().empty();
    const auto& ids = by_ip ? id_of_ip : id_of_mac;
    const auto found = ids.find(by_ip ? Ip(d.ip()) : Mac(d.mac()));
    if (found == ids.end()) {
      // Every device was just inserted or found, unless another sensor's batch merged it into
      // another device meanwhile: apply the batch again (the merged MAC now leads to the survivor).
      throw pqxx::serialization_failure("a device of the batch was merged into another meanwhile");
    }
    const int64_t id = found->second;
    const int64_t f = ToMicros(d.first_seen());
    const int64_t l = ToMicros(d.last_seen());
    s_id.Add(id);
    s_first.Add(f);
    s_last.Add(l);
    s_packets.Add(I64(d.packets_sent()));
    if (by_ip) {
      t_id.Add(id);
      t_first.Add(f);
      t_last.Add(l);
      // The address is the device's own as far as anyone knows (a no-op if it is a MAC device's).
      a_id.Add(id);
      a_ip.Add(Ip(d.ip()));
      a_src.Add("traffic");
      a_first.Add(f);
      a_last.Add(l);
      a_packets.Add(int64_t{0});
      a_locality.Add("local");
    }
    for (const v1::AddressObservation& a : d.addresses()) {
      a_id.Add(id);
      a_ip.Add(Ip(a.ip()));
      a_src.Add(AddressSourceLabel(a.source()));
      a_first.Add(ToMicros(a.first_seen()));
      a_last.Add(ToMicros(a.last_seen()));
      a_packets.Add(I64(a.packets()));
      a_locality.Add(LocalityLabel(a.locality()));
    }
    for (uint32_t vlan : d.vlans()) {
      v_id.Add(id);
      v_vlan.Add(int64_t{vlan});
      v_first.Add(f);
      v_last.Add(l);
    }
    for (const v1::DeviceFact& fact : d.facts()) {
      e_id.Add(id);
      e_attr.Add(AttributeLabel(fact.attribute()));
      e_value.Add(fact.value());
      e_proto.Add(fact.provenance().protocol());
      e_field.Add(fact.provenance().field());
      e_conf.Add(static_cast<double>(fact.confidence()));
      e_first.Add(ToMicros(fact.first_seen()));
      e_last.Add(ToMicros(fact.last_seen()));
      e_count.Add(I64(fact.count()));
    }
  }
  if (t_id.size() > 0) w.exec_params(kTouchDevices, t_id.str(), t_first.str(), t_last.str());
  if (s_id.size() > 0) {
    w.exec_params(kUpsertDeviceSensors, sensor_id, s_id.str(), s_first.str(), s_last.str(), s_packets.str());
  }
  if (a_id.size() > 0) {
    for (const auto& row : w.exec_params(kUpsertAddresses, a_id.str(), a_ip.str(), a_src.str(), a_first.str(),
                                         a_last.str(), a_packets.str(), a_locality.str())) {
      if (row.at(1).as<bool>()) {
        queue.push_back(row.at(0).as<int64_t>());
        addressed.push_back(row.at(0).as<int64_t>());
      }
    }
  }
  if (v_id.size() > 0) w.exec_params(kUpsertVlans, v_id.str(), v_vlan.str(), v_first.str(), v_last.str());
  if (e_id.size() > 0) {
    for (const auto& row :
         w.exec_params(kUpsertEvidence, sensor_id, e_id.str(), e_attr.str(), e_value.str(), e_proto.str(),
                       e_field.str(), e_conf.str(), e_first.str(), e_last.str(), e_count.str())) {
      if (row.at(1).as<bool>()) queue.push_back(row.at(0).as<int64_t>());
    }
  }
  if (!queue.empty()) {
    PgArray ids;
    for (int64_t id : queue) ids.Add(id);
    w.exec_params(kQueueDevices, ids.str());
  }
  // 4. Last: devices found to be one are merged (the newer ids no longer exist afterwards).
  std::vector<int64_t> touched;
  for (const auto& [key, id] : id_of_mac) touched.push_back(id);
  for (const auto& [key, id] : id_of_ip) touched.push_back(id);
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  MergeIdentities(w, site, touched);
  // 5. Addresses the graph knew only as addresses join the devices now known to hold them: those
  // of devices with an address new to them (an address a device already had was its node since;
  // one that turns from routed back to local is not looked at again). A merge moves the merged
  // device's edges itself.
  if (!addressed.empty()) {
    PgArray ids;
    for (int64_t id : addressed) ids.Add(id);
    w.exec_params("SELECT auscult_absorb_addresses($1::bigint[])", ids.str());
  }
}

void ApplyFlows(pqxx::work& w, const v1::ObservationBatch& b) {
  PgArray id, vlan, inner, transport, app, smac, sip, sport, dmac, dip, dport, pd, bd, ps, bs, first, last, state, fs,
      fd, clinical, phi, encrypted, credentials;
  PgArray p_id, p_kind, p_n, p_sip, p_dip;
  PgArray m_id, m_name, m_n, m_sum, m_max;
  for (const v1::FlowObservation& f : b.flows()) {
    clinical.Add(f.clinical());
    phi.Add(f.phi_size() > 0);
    encrypted.Add(f.encrypted());
    credentials.Add(f.cleartext_credentials());
    for (const v1::PhiCount& p : f.phi()) {
      p_id.Add(I64(f.flow_id()));
      p_kind.Add(PhiKindLabel(p.kind()));
      p_n.Add(I64(p.messages()));
      p_sip.Add(Ip(f.initiator().ip()));
      p_dip.Add(Ip(f.responder().ip()));
    }
    for (const v1::MessageCount& m : f.messages()) {
      m_id.Add(I64(f.flow_id()));
      m_name.Add(m.name());
      m_n.Add(I64(m.count()));
      m_sum.Add(I64(m.response_time_sum_us()));
      m_max.Add(I64(m.response_time_max_us()));
    }
    id.Add(I64(f.flow_id()));
    vlan.Add(int64_t{f.vlan()});
    inner.Add(int64_t{f.inner_vlan()});
    transport.Add(int64_t{f.transport()});
    app.Add(f.application());
    smac.Add(Mac(f.initiator().mac()));
    sip.Add(Ip(f.initiator().ip()));
    sport.Add(int64_t{f.initiator().port()});
    dmac.Add(Mac(f.responder().mac()));
    dip.Add(Ip(f.responder().ip()));
    dport.Add(int64_t{f.responder().port()});
    pd.Add(I64(f.to_responder().packets()));
    bd.Add(I64(f.to_responder().bytes()));
    ps.Add(I64(f.to_initiator().packets()));
    bs.Add(I64(f.to_initiator().bytes()));
    first.Add(ToMicros(f.first_seen()));
    last.Add(ToMicros(f.last_seen()));
    state.Add(FlowStateLabel(f.state()));
    fs.Add(int64_t{f.tcp_flags_initiator()});
    fd.Add(int64_t{f.tcp_flags_responder()});
  }
  static const std::string kUpsertFlowsAndEdges = std::string(kUpsertFlows) + kPendingEdges;
  w.exec_params(kUpsertFlowsAndEdges, b.sensor().sensor_id(), I64(b.epoch()), id.str(), vlan.str(), inner.str(),
                transport.str(), app.str(), smac.str(), sip.str(), sport.str(), dmac.str(), dip.str(), dport.str(),
                pd.str(), bd.str(), ps.str(), bs.str(), first.str(), last.str(), state.str(), fs.str(), fd.str(),
                clinical.str(), phi.str(), encrypted.str(), credentials.str(), b.sensor().site());
  if (p_id.size() > 0) {
    w.exec_params(kUpsertFlowPhi, b.sensor().sensor_id(), I64(b.epoch()), p_id.str(), p_kind.str(), p_n.str(),
                  p_sip.str(), p_dip.str(), b.sensor().site());
  }
  if (m_id.size() > 0) {
    w.exec_params(kUpsertFlowMessages, b.sensor().sensor_id(), I64(b.epoch()), m_id.str(), m_name.str(), m_n.str(),
                  m_sum.str(), m_max.str(), b.sensor().site());
  }
}

std::string AnomaliesJson(const v1::SensorStats& stats) {
  // Sorted, so the stored document does not depend on hash map order.
  std::vector<std::pair<std::string, uint64_t>> sorted(stats.anomalies().begin(), stats.anomalies().end());
  std::sort(sorted.begin(), sorted.end());
  JsonWriter json;
  json.BeginObject();
  for (const auto& [name, count] : sorted) json.Key(name).UInt(count);
  json.EndObject();
  return json.str();
}

}  // namespace

int AbsorbHeldAddresses(pqxx::connection_base& connection, absl::Span<const v1::ObservationBatch* const> batches) {
  absl::flat_hash_set<std::string> named;
  for (const v1::ObservationBatch* b : batches) {
    for (const v1::FlowObservation& f : b->flows()) {
      named.insert(Ip(f.initiator().ip()));
      named.insert(Ip(f.responder().ip()));
    }
    for (const v1::DeviceObservation& d : b->devices()) {
      if (!d.ip().empty()) named.insert(Ip(d.ip()));
      for (const v1::AddressObservation& a : d.addresses()) named.insert(Ip(a.ip()));
    }
  }
  if (named.empty()) return 0;
  std::vector<std::string> sorted(named.begin(), named.end());
  std::sort(sorted.begin(), sorted.end());  // the same batches, the same statement
  PgArray ips;
  for (const std::string& ip : sorted) ips.Add(ip);
  pqxx::work w(connection);
  const int moved = w.exec_params1("SELECT auscult_absorb_held_addresses($1::inet[])", ips.str()).at(0).as<int>();
  w.commit();
  return moved;
}

int MergePendingEdges(pqxx::connection_base& connection) {
  pqxx::work w(connection);
  const int merged = w.exec1("SELECT auscult_merge_pending_edges()").at(0).as<int>();
  w.commit();
  return merged;
}

v1::BatchAck::Result ApplyBatch(pqxx::connection_base& connection, const v1::ObservationBatch& b,
                                const std::string& certificate_sha256, int64_t* started_us) {
  pqxx::work w(connection);
  const v1::SensorInfo& s = b.sensor();
  // In the batch's own transaction, so that a batch checked after a revocation committed stores nothing,
  // and before the sensor's row is touched (a refused sensor's last batch stays its last).
  ThrowIfRevoked(w, s.sensor_id(), certificate_sha256);
  PgArray sources;
  for (const std::string& src : s.sources()) sources.Add(src);
  const pqxx::row started = w.exec_params1(kUpsertSensor, s.sensor_id(), s.site(), s.wing(), s.version(), s.hostname(),
                                           sources.str(), certificate_sha256);
  if (started_us != nullptr) *started_us = started.at(0).as<int64_t>();
  w.exec_params(kSensorBack, s.sensor_id());
  const pqxx::result recorded =
      w.exec_params(kRecordBatch, s.site(), s.sensor_id(), I64(b.epoch()), I64(b.sequence()), b.devices_size(),
                    b.flows_size());
  if (recorded.affected_rows() == 0) {
    w.commit();  // keeps the sensor's last_seen: it is alive, even if resending
    return v1::BatchAck::RESULT_DUPLICATE;
  }
  const v1::SensorStats& st = b.stats();
  w.exec_params(kUpdateSensorStats, s.sensor_id(), I64(b.epoch()), I64(b.sequence()), I64(st.packets_received()),
                I64(st.bytes_received()), I64(st.packets_dropped_kernel()), I64(st.packets_dropped_interface()),
                I64(st.packets_dropped_sensor()), I64(st.packets_malformed()), I64(st.flows_active()),
                I64(st.flows_evicted()), AnomaliesJson(st));
  if (b.devices_size() > 0) ApplyDevices(w, b);
  if (b.flows_size() > 0) ApplyFlows(w, b);
  w.commit();
  return v1::BatchAck::RESULT_APPLIED;
}

}  // namespace auscult::collector
