#include "collector/classify/classifier.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "collector/classify/risk.h"
#include "collector/store/pg_array.h"
#include "common/data_files.h"
#include "common/json_writer.h"
#include "common/text.h"
#include "spdlog/spdlog.h"

namespace auscult::collector {
namespace {

constexpr size_t kMaxRulesFileBytes = 4 << 20;

// Takes devices off the queue in a transaction of its own, so that no queue row stays locked while
// they are classified (the ingest path inserts into the queue concurrently).
// Rows a writer still holds (its transaction is open) are skipped: they stay queued.
constexpr char kClaim[] = R"sql(
DELETE FROM device_reclassify WHERE device_id IN (
  SELECT device_id FROM device_reclassify WHERE queued_at >= auscult_ts($2::bigint)
  ORDER BY device_id LIMIT $1::bigint FOR UPDATE SKIP LOCKED)
RETURNING device_id)sql";

constexpr char kReadTime[] = "SELECT auscult_us(now())";

constexpr char kRequeue[] = R"sql(
INSERT INTO device_reclassify (device_id)
SELECT d.device_id FROM devices d WHERE d.device_id = ANY($1::bigint[]) ORDER BY 1
ON CONFLICT DO NOTHING)sql";

constexpr char kDevices[] = R"sql(
SELECT device_id, COALESCE(mac::text, ''), routes_traffic,
       mac IS NULL AND identity_ip IS NOT NULL AND NOT auscult_internal(identity_ip)
FROM devices WHERE device_id = ANY($1::bigint[]))sql";

// A device's evidence, at most 64 values per attribute (the most confident, most often seen):
// enough for any rule, and bounded however many DNS names a device asked for.
constexpr char kEvidence[] = R"sql(
SELECT device_id, attribute, value, protocol, field, sensor_id, confidence, count FROM (
  SELECT e.*, row_number() OVER (PARTITION BY e.device_id, e.attribute
                                 ORDER BY e.confidence DESC, e.count DESC, e.value) AS n
  FROM device_evidence e WHERE e.device_id = ANY($1::bigint[])) x
WHERE n <= 64)sql";

// Its flows, grouped by application, side, service port and transport, read from its edges of the
// communication graph (graph_edges, one per peer and service, kept by the ingest: migrations 013
// and 018) rather than from the raw flows: a server that every batch touches has millions of flows
// over the retention, but only as many edges as peers and services. At most 256 groups per device,
// however many ports a scan touched: those with patient data or credentials first, then named
// applications, then those with the most peers. A peer is a node: an address, or a device (counted
// once however many addresses it holds; its network and whether it is inside the hospital from
// its newest own address).
constexpr char kFlowGroups[] = R"sql(
WITH own AS (SELECT t.id AS device_id, 'd:' || t.id AS node FROM unnest($1::bigint[]) AS t(id)),
e AS (
  SELECT o.device_id, g.application, true AS initiator, g.port, g.transport, g.dst_node AS peer,
         g.phi, g.cleartext_phi, g.cleartext, g.cleartext_credentials
  FROM own o JOIN graph_edges g ON g.src_node = o.node
  UNION ALL
  SELECT o.device_id, g.application, false, g.port, g.transport, g.src_node,
         g.phi, g.cleartext_phi, g.cleartext, g.cleartext_credentials
  FROM own o JOIN graph_edges g ON g.dst_node = o.node),
a AS MATERIALIZED (  -- each peer once, with its address: the functions cost more than the grouping
  SELECT x.peer, CASE WHEN x.peer LIKE 'a:%' THEN substr(x.peer, 3)::inet
                      ELSE (SELECT o.ip FROM device_own_addresses o WHERE o.device_id = substr(x.peer, 3)::bigint
                            ORDER BY o.last_seen DESC, o.ip LIMIT 1) END AS ip
  FROM (SELECT DISTINCT peer FROM e) x),
p AS MATERIALIZED (
  SELECT a.peer, COALESCE(auscult_group_address(a.ip), false) AS grp, auscult_network_of(a.ip) AS network,
         NOT auscult_internal(a.ip) AS outside
  FROM a),
g AS (
  SELECT e.device_id, e.application, e.initiator, e.port AS dst_port, e.transport,
         bool_or(e.phi) AS phi, bool_or(e.cleartext_phi) AS cleartext_phi, bool_or(e.cleartext) AS cleartext,
         bool_or(e.cleartext_credentials) AS credentials,
         count(DISTINCT e.peer) FILTER (WHERE NOT p.grp) AS peers,
         count(DISTINCT p.network) FILTER (WHERE NOT p.grp) AS networks,
         COALESCE(bool_or(p.outside), false) AS external
  FROM e JOIN p USING (peer)
  GROUP BY 1, 2, 3, 4, 5)
SELECT device_id, application, initiator, dst_port, transport, phi, cleartext_phi, cleartext, credentials, peers,
       networks, external FROM (
  SELECT g.*, row_number() OVER (PARTITION BY device_id
                                 ORDER BY (phi OR credentials) DESC, application <> '' DESC, peers DESC,
                                          application, dst_port) AS n FROM g) x
WHERE n <= 256)sql";

// Its peers over all its edges, group addresses (multicast, broadcast) left out.
constexpr char kPeers[] = R"sql(
WITH own AS (SELECT t.id AS device_id, 'd:' || t.id AS node FROM unnest($1::bigint[]) AS t(id)),
e AS (
  SELECT o.device_id, g.dst_node AS peer FROM own o JOIN graph_edges g ON g.src_node = o.node
  UNION
  SELECT o.device_id, g.src_node FROM own o JOIN graph_edges g ON g.dst_node = o.node)
SELECT device_id, count(*) FROM e
WHERE NOT (peer LIKE 'a:%' AND auscult_group_address(substr(peer, 3)::inet))
GROUP BY 1)sql";

constexpr char kOverrides[] = R"sql(
SELECT device_id, field, value FROM device_overrides WHERE device_id = ANY($1::bigint[]))sql";

// Returns what the device was (its type and category), so that a change becomes a Watch event.
constexpr char kDeleteClassification[] = R"sql(
DELETE FROM device_classification WHERE device_id = ANY($1::bigint[])
RETURNING device_id, key, value)sql";

// What a device is changed: one event per attribute, with the value before and after (NULL when
// it had none, or has none now).
constexpr char kClassificationEvents[] = R"sql(
INSERT INTO events (kind, device_id, detail)
SELECT 'device_changed', t.id, jsonb_build_object('attribute', t.key, 'old', NULLIF(t.old, ''), 'new', NULLIF(t.new, ''))
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS t(id, key, old, new)
ORDER BY t.id, t.key)sql";

// The attributes whose change a SOC hears of (risk changes come from device_risk's trigger).
constexpr const char* kWatchedAttributes[] = {"device_type", "category"};

// Results are written only over older ones: two callers may classify the same device (queued again
// while the first was reading), and the one that read later wins, whichever writes last. The risk
// row is the device's lock: the upsert waits for a concurrent writer, then keeps the newer result.
// It returns the devices this writer won; their classification rows are replaced.

constexpr char kInsertClassification[] = R"sql(
INSERT INTO device_classification (device_id, key, value, confidence, rule_id, rules_version, evidence,
                                   classified_at)
SELECT t.id, t.key, t.value, t.confidence, t.rule, $7::text, t.evidence::jsonb, auscult_ts($8::bigint)
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::real[], $5::text[], $6::text[])
     AS t(id, key, value, confidence, rule, evidence)
WHERE EXISTS (SELECT 1 FROM devices d WHERE d.device_id = t.id)
ORDER BY t.id, t.key)sql";

constexpr char kUpsertRisk[] = R"sql(
INSERT INTO device_risk AS r (device_id, score, factors, computed_at)
SELECT t.id, t.score, t.factors::jsonb, auscult_ts($4::bigint)
FROM unnest($1::bigint[], $2::smallint[], $3::text[]) AS t(id, score, factors)
WHERE EXISTS (SELECT 1 FROM devices d WHERE d.device_id = t.id)
ORDER BY t.id
ON CONFLICT (device_id) DO UPDATE SET score = excluded.score, factors = excluded.factors,
                                      computed_at = excluded.computed_at
  WHERE r.computed_at <= excluded.computed_at
RETURNING device_id)sql";

// What the classifier matched, for the devices whose results it won (their rows replaced).
constexpr char kDeleteAdvisoryMatches[] = R"sql(
DELETE FROM device_advisories WHERE device_id = ANY($1::bigint[]))sql";

// A product removed meanwhile (its advisory replaced by an import) is left out: the import queued
// every device again.
constexpr char kInsertAdvisoryMatches[] = R"sql(
INSERT INTO device_advisories (device_id, tracking_id, product_id, match, basis, reason, observed_model,
                               observed_version, matched_at)
SELECT t.id, t.tracking_id, t.product_id, t.match, t.basis, t.reason, t.model, t.version, auscult_ts($9::bigint)
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
     AS t(id, tracking_id, product_id, match, basis, reason, model, version)
WHERE EXISTS (SELECT 1 FROM devices d WHERE d.device_id = t.id)
  AND EXISTS (SELECT 1 FROM advisory_products p WHERE p.tracking_id = t.tracking_id AND p.product_id = t.product_id)
ORDER BY t.id, t.tracking_id
ON CONFLICT DO NOTHING)sql";

// What the inventory knows of a device's product for advisory matching: its vendor, model and
// version evidence (the port guesses below 0.3 left out), the rules' vendor and model, and an
// analyst's values, which replace what the evidence says.
advisories::DeviceIdentity IdentityOf(const DeviceFacts& d, const Classification& cls) {
  advisories::DeviceIdentity id;
  auto add = [](std::vector<std::string>* v, const std::string& s) {
    if (!s.empty() && std::find(v->begin(), v->end(), s) == v->end()) v->push_back(s);
  };
  std::map<std::string, std::vector<std::string>> versions_by_protocol;
  for (const EvidenceRow& e : d.evidence) {
    if (e.confidence < 0.3f) continue;
    if (e.attribute == "vendor") add(&id.vendors, e.value);
    if (e.attribute == "model") add(&id.models, e.value);
    if (e.attribute == "software_version" || e.attribute == "firmware_version") {
      add(&id.versions, e.value);
      add(&versions_by_protocol[e.protocol], e.value);
    }
  }
  for (const EvidenceRow& e : d.evidence) {
    if (e.confidence < 0.3f || e.attribute != "software") continue;
    id.software.push_back({e.value, versions_by_protocol[e.protocol]});
  }
  for (const char* key : {"vendor", "model"}) {
    if (auto it = cls.find(key); it != cls.end()) add(key[0] == 'v' ? &id.vendors : &id.models, it->second.value);
  }
  if (auto it = d.overrides.find("vendor"); it != d.overrides.end()) id.vendors = {it->second};
  if (auto it = d.overrides.find("model"); it != d.overrides.end()) id.models = {it->second};
  std::vector<std::string> overridden;
  for (const char* key : {"software_version", "firmware_version"}) {
    if (auto it = d.overrides.find(key); it != d.overrides.end()) add(&overridden, it->second);
  }
  if (!overridden.empty()) id.versions = overridden;
  return id;
}

std::string FactorsJson(const Risk& risk) {
  JsonWriter json;
  json.BeginArray();
  for (const RiskFactor& f : risk.factors) {
    json.BeginObject()
        .Key("factor")
        .String(f.factor)
        .Key("group")
        .String(f.group)
        .Key("points")
        .Int(f.points)
        .Key("detail")
        .String(f.detail)
        .EndObject();
  }
  json.EndArray();
  return json.str();
}

}  // namespace

std::string DefaultRulesPath() { return ShippedDataFile("device_rules.txt", AUSCULT_COLLECTOR_DATA_DIR); }

absl::StatusOr<std::unique_ptr<Classifier>> Classifier::Load(std::string path) {
  std::unique_ptr<Classifier> c(new Classifier(std::move(path)));
  auto rules = c->Read();
  if (!rules.ok()) return rules.status();
  c->rules_ = *std::move(rules);
  return c;
}

absl::StatusOr<std::shared_ptr<const RuleSet>> Classifier::Read() {
  struct stat st {};
  if (stat(path_.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("device rules ", path_, ": cannot read it"));
  }
  {
    // Remembered whether or not it parses: a broken file is reported once per change, not per pass.
    std::lock_guard lock(mu_);
    mtime_ns_ = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    size_ = static_cast<int64_t>(st.st_size);
  }
  auto text = ReadFileAtMost(path_, kMaxRulesFileBytes, "device rules");
  if (!text.ok()) return text.status();
  auto parsed = ParseRules(*text, path_);
  if (!parsed.ok()) return parsed.status();
  return std::make_shared<const RuleSet>(*std::move(parsed));
}

std::shared_ptr<const RuleSet> Classifier::rules() const {
  std::lock_guard lock(mu_);
  return rules_;
}

std::shared_ptr<const AdvisoryCatalog> Classifier::advisories() const {
  std::lock_guard lock(mu_);
  return advisories_;
}

bool Classifier::ReloadAdvisories(pqxx::connection_base& c) {
  const std::string version = AdvisoriesVersion(c);
  {
    std::lock_guard lock(mu_);
    if (advisories_ != nullptr && advisories_->version == version) return false;
  }
  std::shared_ptr<const AdvisoryCatalog> fresh = LoadAdvisoryCatalog(c);
  {
    std::lock_guard lock(mu_);
    advisories_ = fresh;
  }
  // Like the rules: the devices' matches must come from the catalog now held. Several collectors
  // may get here for one import; the first to record the version queues the devices.
  pqxx::work w(c);
  const pqxx::result stored =
      w.exec("SELECT value FROM collector_settings WHERE name = 'advisories_matched' FOR UPDATE");
  if (!stored.empty() && stored[0].at(0).as<std::string>() == fresh->version) {
    w.commit();
    return true;
  }
  const pqxx::result queued = w.exec(
      "INSERT INTO device_reclassify (device_id) SELECT device_id FROM devices ORDER BY 1 ON CONFLICT DO NOTHING");
  w.exec_params(
      "INSERT INTO collector_settings (name, value) VALUES ('advisories_matched', $1::text)"
      " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      fresh->version);
  w.commit();
  spdlog::info("advisories version {}: {} products of imported advisories; {} devices queued to be matched",
               fresh->version, fresh->catalog.products().size(), queued.affected_rows());
  return true;
}

absl::StatusOr<bool> Classifier::Reload(pqxx::connection_base& c, bool force) {
  if (!force) {
    struct stat st {};
    if (stat(path_.c_str(), &st) != 0) return false;  // gone for a moment (an editor's rename): keep the rules
    const int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    std::lock_guard lock(mu_);
    if (mtime == mtime_ns_ && static_cast<int64_t>(st.st_size) == size_) return false;
  }
  auto fresh = Read();
  if (!fresh.ok()) return fresh.status();
  {
    std::lock_guard lock(mu_);
    if (rules_ != nullptr && rules_->version == (*fresh)->version) return false;
    rules_ = *fresh;
  }
  spdlog::info("device rules {}: {} rules (version {}) in force", path_, (*fresh)->rules.size(), (*fresh)->version);
  AdoptRules(c);
  return true;
}

void Classifier::AdoptRules(pqxx::connection_base& c) {
  const std::string version = rules()->version;
  pqxx::work w(c);
  // Read by the ingest in each batch (collector/store/batch_writer.cc): whether evidence seen again
  // must queue its device. Written before the version check, so that it holds for a database whose
  // rules version did not change since an older collector adopted them.
  w.exec_params(
      "INSERT INTO collector_settings (name, value) VALUES ('rules_count_evidence', $1::text)"
      " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      rules()->counts_evidence ? "true" : "false");
  const pqxx::result stored = w.exec("SELECT value FROM collector_settings WHERE name = 'rules_version' FOR UPDATE");
  if (!stored.empty() && stored[0].at(0).as<std::string>() == version) {
    w.commit();
    return;
  }
  const pqxx::result queued = w.exec(
      "INSERT INTO device_reclassify (device_id) SELECT device_id FROM devices ORDER BY 1 ON CONFLICT DO NOTHING");
  w.exec_params(
      "INSERT INTO collector_settings (name, value) VALUES ('rules_version', $1::text)"
      " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      version);
  w.commit();
  if (queued.affected_rows() > 0) {
    spdlog::info("device rules version {}: {} devices queued to be classified again", version, queued.affected_rows());
  }
}

size_t Classifier::ProcessQueue(pqxx::connection_base& c, size_t limit, int64_t since_us) {
  std::vector<int64_t> claimed;
  {
    pqxx::work w(c);
    for (const pqxx::row& r : w.exec_params(kClaim, static_cast<int64_t>(limit), since_us)) {
      claimed.push_back(r.at(0).as<int64_t>());
    }
    w.commit();
  }
  if (claimed.empty()) return 0;
  try {
    Classify(c, claimed);
  } catch (const pqxx::broken_connection&) {
    Requeue(c, claimed);  // best effort: the connection is probably gone
    throw;
  } catch (const pqxx::transaction_rollback&) {
    Requeue(c, claimed);  // a deadlock or serialization failure: the next pass tries again
    throw;
  } catch (const std::exception& e) {
    // Something about one device (a value the database refuses) must not hold up the others: one
    // by one, and a device that fails alone is left out and named.
    spdlog::warn("device classification of {} devices failed ({}); trying them one by one", claimed.size(), e.what());
    for (size_t i = 0; i < claimed.size(); ++i) {
      try {
        Classify(c, {claimed[i]});
      } catch (const pqxx::broken_connection&) {
        Requeue(c, std::vector<int64_t>(claimed.begin() + static_cast<std::ptrdiff_t>(i), claimed.end()));
        throw;
      } catch (const pqxx::transaction_rollback&) {
        Requeue(c, {claimed[i]});  // a deadlock is not the device's fault: next pass
      } catch (const std::exception& one) {
        spdlog::error("device {} cannot be classified and is left as it was: {}", claimed[i], one.what());
      }
    }
  }
  return claimed.size();
}

void Classifier::Requeue(pqxx::connection_base& c, const std::vector<int64_t>& ids) {
  try {
    PgArray array;
    for (int64_t id : ids) array.Add(id);
    pqxx::work w(c);
    w.exec_params(kRequeue, array.str());
    w.commit();
  } catch (const std::exception& e) {
    spdlog::warn("device classification: cannot queue {} devices again: {}", ids.size(), e.what());
  }
}

void Classifier::Classify(pqxx::connection_base& c, const std::vector<int64_t>& claimed) {
  PgArray ids;
  for (int64_t id : claimed) ids.Add(id);
  const std::shared_ptr<const RuleSet> rules = this->rules();
  absl::flat_hash_map<int64_t, DeviceFacts> facts;
  int64_t read_us = 0;
  {
    pqxx::read_transaction t(c);
    read_us = t.exec1(kReadTime).at(0).as<int64_t>();
    for (const pqxx::row& r : t.exec_params(kDevices, ids.str())) {
      DeviceFacts& d = facts[r.at(0).as<int64_t>()];
      d.id = r.at(0).as<int64_t>();
      d.mac = r.at(1).as<std::string>();
      d.routes_traffic = r.at(2).as<bool>();
      d.external = r.at(3).as<bool>();
    }
    for (const pqxx::row& r : t.exec_params(kEvidence, ids.str())) {
      auto it = facts.find(r.at(0).as<int64_t>());
      if (it == facts.end()) continue;
      it->second.evidence.push_back(EvidenceRow{r.at(1).as<std::string>(), r.at(2).as<std::string>(),
                                                r.at(3).as<std::string>(), r.at(4).as<std::string>(),
                                                r.at(5).as<std::string>(), r.at(6).as<float>(), r.at(7).as<int64_t>()});
    }
    for (const pqxx::row& r : t.exec_params(kFlowGroups, ids.str())) {
      auto it = facts.find(r.at(0).as<int64_t>());
      if (it == facts.end()) continue;
      FlowGroup g;
      g.application = r.at(1).as<std::string>();
      g.initiator = r.at(2).as<bool>();
      g.port = r.at(3).as<uint32_t>();
      g.transport = r.at(4).as<uint32_t>();
      g.phi = r.at(5).as<bool>();
      g.cleartext_phi = r.at(6).as<bool>();
      g.cleartext = r.at(7).as<bool>();
      g.credentials = r.at(8).as<bool>();
      g.peers = r.at(9).as<int64_t>();
      g.peer_networks = r.at(10).as<int64_t>();
      g.external = r.at(11).as<bool>();
      it->second.flows.push_back(std::move(g));
    }
    for (const pqxx::row& r : t.exec_params(kPeers, ids.str())) {
      if (auto it = facts.find(r.at(0).as<int64_t>()); it != facts.end()) it->second.peers = r.at(1).as<int64_t>();
    }
    for (const pqxx::row& r : t.exec_params(kOverrides, ids.str())) {
      if (auto it = facts.find(r.at(0).as<int64_t>()); it != facts.end()) {
        it->second.overrides[r.at(1).as<std::string>()] = r.at(2).as<std::string>();
      }
    }
  }
  absl::flat_hash_map<int64_t, Classification> results;
  absl::flat_hash_map<int64_t, std::vector<advisories::Finding>> findings;
  const std::shared_ptr<const AdvisoryCatalog> catalog = advisories();
  PgArray r_id, r_score, r_factors;
  for (int64_t id : claimed) {
    auto it = facts.find(id);
    if (it == facts.end()) continue;  // merged away or deleted meanwhile
    Classification& cls = results[id];
    std::vector<AdvisoryExposure> exposures;
    if (!it->second.external) {
      cls = auscult::collector::Classify(*rules, it->second);
      if (catalog != nullptr && !catalog->catalog.products().empty()) {
        std::vector<advisories::Finding>& found = findings[id];
        found = catalog->catalog.Match(IdentityOf(it->second, cls));
        for (const advisories::Finding& f : found) {
          const advisories::CatalogProduct& p = catalog->catalog.products()[f.product];
          AdvisoryExposure x{p.tracking_id, f.match, f.reason, 0, {}, f.observed_version};
          if (auto s = catalog->severity.find({p.tracking_id, p.product_id}); s != catalog->severity.end()) {
            x.max_cvss = s->second.max_cvss;
            x.cves = s->second.cves;
          }
          exposures.push_back(std::move(x));
        }
      }
    }
    const Risk risk = ComputeRisk(it->second, cls, exposures);
    r_id.Add(id);
    r_score.Add(int64_t{risk.score});
    r_factors.Add(FactorsJson(risk));
  }
  if (r_id.size() == 0) return;
  pqxx::work w(c);
  PgArray won, c_id, c_key, c_value, c_conf, c_rule, c_evidence;
  std::vector<int64_t> won_ids;
  for (const pqxx::row& r : w.exec_params(kUpsertRisk, r_id.str(), r_score.str(), r_factors.str(), read_us)) {
    const int64_t id = r.at(0).as<int64_t>();
    won.Add(id);
    won_ids.push_back(id);
    for (const auto& [key, decision] : results[id]) {
      c_id.Add(id);
      c_key.Add(key);
      c_value.Add(decision.value);
      c_conf.Add(static_cast<double>(decision.confidence));
      c_rule.Add(decision.rule_id);
      c_evidence.Add(decision.evidence_json);
    }
  }
  std::map<std::pair<int64_t, std::string>, std::pair<std::string, std::string>> changes;  // old, new
  if (won.size() > 0) {
    for (const pqxx::row& r : w.exec_params(kDeleteClassification, won.str())) {
      changes[{r.at(0).as<int64_t>(), r.at(1).as<std::string>()}].first = r.at(2).as<std::string>();
    }
  }
  if (c_id.size() > 0) {
    w.exec_params(kInsertClassification, c_id.str(), c_key.str(), c_value.str(), c_conf.str(), c_rule.str(),
                  c_evidence.str(), rules->version, read_us);
  }
  if (won.size() > 0 && catalog != nullptr) {
    w.exec_params(kDeleteAdvisoryMatches, won.str());
    PgArray a_id, a_tracking, a_product, a_match, a_basis, a_reason, a_model, a_version;
    for (int64_t id : won_ids) {
      for (const advisories::Finding& f : findings[id]) {
        const advisories::CatalogProduct& p = catalog->catalog.products()[f.product];
        a_id.Add(id);
        a_tracking.Add(p.tracking_id);
        a_product.Add(p.product_id);
        a_match.Add(f.match);
        a_basis.Add(f.basis);
        a_reason.Add(f.reason);
        a_model.Add(Printable(f.observed_model, 200));
        a_version.Add(Printable(f.observed_version, 200));
      }
    }
    if (a_id.size() > 0) {
      w.exec_params(kInsertAdvisoryMatches, a_id.str(), a_tracking.str(), a_product.str(), a_match.str(), a_basis.str(),
                    a_reason.str(), a_model.str(), a_version.str(), read_us);
    }
  }
  for (int64_t id : won_ids) {
    for (const auto& [key, decision] : results[id]) changes[{id, key}].second = decision.value;
  }
  PgArray e_id, e_key, e_old, e_new;
  for (const auto& [key, values] : changes) {
    if (values.first == values.second) continue;
    if (std::find(std::begin(kWatchedAttributes), std::end(kWatchedAttributes), key.second) ==
        std::end(kWatchedAttributes)) {
      continue;
    }
    e_id.Add(key.first);
    e_key.Add(key.second);
    e_old.Add(values.first);
    e_new.Add(values.second);
  }
  if (e_id.size() > 0) w.exec_params(kClassificationEvents, e_id.str(), e_key.str(), e_old.str(), e_new.str());
  // A device whose type or vendor changed may have joined a group with an accepted segmentation
  // policy: its edges are held against it (migration 025; nothing happens without a policy).
  PgArray regrouped;
  int64_t last = 0;
  for (const auto& [key, values] : changes) {
    if (values.first == values.second || (key.second != "device_type" && key.second != "vendor")) continue;
    if (key.first != last) regrouped.Add(key.first);
    last = key.first;
  }
  if (regrouped.size() > 0) w.exec_params("SELECT auscult_check_device_policies($1::bigint[])", regrouped.str());
  w.commit();
}

}  // namespace auscult::collector
