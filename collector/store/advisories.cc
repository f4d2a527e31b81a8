#include "collector/store/advisories.h"

#include <pqxx/pqxx>

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "collector/advisories/csaf.h"
#include "collector/store/enum_names.h"
#include "collector/store/pg_array.h"
#include "common/json_writer.h"
#include "common/logging.h"
#include "common/text.h"
#include "spdlog/spdlog.h"

namespace auscult::collector {
namespace {

using advisories::Advisory;
using advisories::Product;
using advisories::VersionConstraint;

std::string VersionKind(const VersionConstraint& v) {
  switch (v.kind) {
    case VersionConstraint::Kind::kAll:
      return "all";
    case VersionConstraint::Kind::kSet:
      return "set";
    case VersionConstraint::Kind::kUnparsed:
      return absl::StrCat("unparsed:", v.why_unparsed);
  }
  return "";
}

// An RFC 3339 time as the document wrote it, or "" (stored NULL) when it is not one.
std::string Rfc3339OrEmpty(const std::string& text) {
  absl::Time t;
  std::string err;
  return absl::ParseTime(absl::RFC3339_full, text, &t, &err) ? text : "";
}

// Which of two versions of an advisory is newer: tracking.version ("1", "2", or semantic
// versions), then the current release date. > 0 when `a` is newer.
int NewerVersion(const std::string& a_version, const std::string& a_release, const std::string& b_version,
                 const std::string& b_release) {
  const advisories::Comparison cmp = advisories::CompareVersions(a_version, b_version);
  if (cmp.order == advisories::Order::kGreater) return 1;
  if (cmp.order == advisories::Order::kLess) return -1;
  if (a_release > b_release) return 1;  // RFC 3339 in UTC ("Z") compares as text
  if (a_release < b_release) return -1;
  return 0;
}

constexpr char kInsertAdvisory[] = R"sql(
INSERT INTO advisories (tracking_id, version, title, publisher, initial_release, current_release, source_name,
                        sha256, document, imported_by)
VALUES ($1, $2, $3, $4, NULLIF($5, '')::timestamptz, NULLIF($6, '')::timestamptz, $7,
        encode(sha256(convert_to($8, 'UTF8')), 'hex'), $8, $9))sql";

constexpr char kInsertProducts[] = R"sql(
INSERT INTO advisory_products (tracking_id, product_id, vendor, product_name, label, version_text, version_kind, cpe)
SELECT $1, t.* FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS t)sql";

constexpr char kInsertVulnerabilities[] = R"sql(
INSERT INTO advisory_vulnerabilities (tracking_id, ordinal, product_id, status, cve, cwe, cvss_version, base_score,
                                      vector, severity)
SELECT $1, t.* FROM unnest($2::integer[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::real[],
                           $9::text[], $10::text[]) AS t
ON CONFLICT DO NOTHING)sql";

constexpr char kInsertRemediations[] = R"sql(
INSERT INTO advisory_remediations (tracking_id, ordinal, product_id, position, category, details, url)
SELECT $1, t.* FROM unnest($2::integer[], $3::text[], $4::integer[], $5::text[], $6::text[], $7::text[]) AS t
ON CONFLICT DO NOTHING)sql";

void InsertAdvisory(pqxx::work& w, const Advisory& a, const std::string& name, const std::string& document,
                    const std::string& who) {
  w.exec_params(kInsertAdvisory, a.tracking_id, a.version, a.title, a.publisher, Rfc3339OrEmpty(a.initial_release),
                Rfc3339OrEmpty(a.current_release), name, document, who);
  PgArray id, vendor, product, label, version, kind, cpe;
  for (const Product& p : a.products) {
    id.Add(p.product_id);
    vendor.Add(p.vendor);
    product.Add(p.product_name);
    label.Add(p.label);
    version.Add(p.version_text);
    kind.Add(VersionKind(p.version));
    cpe.Add(p.cpe);
  }
  w.exec_params(kInsertProducts, a.tracking_id, id.str(), vendor.str(), product.str(), label.str(), version.str(),
                kind.str(), cpe.str());
  PgArray v_ord, v_product, v_status, v_cve, v_cwe, v_cvss, v_score, v_vector, v_severity;
  PgArray r_ord, r_product, r_pos, r_category, r_details, r_url;
  for (size_t i = 0; i < a.vulnerabilities.size(); ++i) {
    const advisories::Vulnerability& v = a.vulnerabilities[i];
    const std::string cwe = v.cwe_id.empty() ? "" : absl::StrCat(v.cwe_id, v.cwe_name.empty() ? "" : " ", v.cwe_name);
    // The score of each product: the newest CVSS version given for it.
    std::map<std::string, const advisories::Score*> scores;
    for (const advisories::Score& s : v.scores) {
      for (const std::string& p : s.product_ids) scores.try_emplace(p, &s);
    }
    for (const auto& [status, ids] : v.product_status) {
      for (const std::string& p : ids) {
        v_ord.Add(static_cast<int64_t>(i));
        v_product.Add(p);
        v_status.Add(status);
        v_cve.Add(v.cve);
        v_cwe.Add(cwe);
        const auto s = scores.find(p);
        v_cvss.Add(s == scores.end() ? std::string() : s->second->cvss_version);
        if (s == scores.end()) {
          v_score.AddNull();
        } else {
          v_score.Add(s->second->base_score);
        }
        v_vector.Add(s == scores.end() ? std::string() : s->second->vector);
        v_severity.Add(s == scores.end() ? std::string() : s->second->severity);
      }
    }
    std::map<std::string, int64_t> position;
    for (const advisories::Remediation& r : v.remediations) {
      for (const std::string& p : r.product_ids) {
        r_ord.Add(static_cast<int64_t>(i));
        r_product.Add(p);
        r_pos.Add(position[p]++);
        r_category.Add(r.category);
        r_details.Add(r.details);
        r_url.Add(r.url);
      }
    }
  }
  if (v_ord.size() > 0) {
    w.exec_params(kInsertVulnerabilities, a.tracking_id, v_ord.str(), v_product.str(), v_status.str(), v_cve.str(),
                  v_cwe.str(), v_cvss.str(), v_score.str(), v_vector.str(), v_severity.str());
  }
  if (r_ord.size() > 0) {
    w.exec_params(kInsertRemediations, a.tracking_id, r_ord.str(), r_product.str(), r_pos.str(), r_category.str(),
                  r_details.str(), r_url.str());
  }
}

bool IsPrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// A LIKE pattern that matches `text` literally.
std::string EscapeLike(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::vector<std::string> SplitCommas(const std::string& text) { return absl::StrSplit(text, ',', absl::SkipEmpty()); }

// An advisory's summary: these columns of dashboard.advisories (as `a`), read by FillSummary.
#define AUSCULT_ADVISORY_SUMMARY                                                                          \
  "a.tracking_id, a.title, a.publisher, a.version, COALESCE(auscult_us(a.initial_release), 0),"          \
  " COALESCE(auscult_us(a.current_release), 0), a.cves, COALESCE(a.max_cvss, 0)::float8, a.products,"     \
  " a.devices_affected, a.devices_possibly_affected, auscult_us(a.imported_at)"

void FillSummary(const pqxx::row& r, v1::AdvisorySummary* s) {
  s->set_tracking_id(r.at(0).as<std::string>());
  s->set_title(r.at(1).as<std::string>());
  s->set_publisher(r.at(2).as<std::string>());
  s->set_version(r.at(3).as<std::string>());
  if (int64_t us = r.at(4).as<int64_t>(); us != 0) FromMicros(us, s->mutable_initial_release());
  if (int64_t us = r.at(5).as<int64_t>(); us != 0) FromMicros(us, s->mutable_current_release());
  for (std::string& cve : SplitCommas(r.at(6).as<std::string>())) s->add_cves(std::move(cve));
  s->set_max_cvss(r.at(7).as<double>());
  s->set_products(r.at(8).as<int32_t>());
  s->set_devices_affected(r.at(9).as<int32_t>());
  s->set_devices_possibly_affected(r.at(10).as<int32_t>());
  FromMicros(r.at(11).as<int64_t>(), s->mutable_imported());
}

}  // namespace

absl::StatusOr<v1::ImportAdvisoriesResponse> ImportAdvisories(pqxx::connection_base& c,
                                                              const v1::ImportAdvisoriesRequest& request,
                                                              const std::string& who) {
  if (request.documents_size() == 0) return absl::InvalidArgumentError("documents: none given");
  if (static_cast<size_t>(request.documents_size()) > kMaxAdvisoryDocumentsPerImport) {
    return absl::InvalidArgumentError(
        absl::StrCat("documents: at most ", kMaxAdvisoryDocumentsPerImport, " per call (split the import)"));
  }
  v1::ImportAdvisoriesResponse response;
  for (const v1::AdvisoryDocument& doc : request.documents()) {
    v1::AdvisoryImportResult* result = response.add_results();
    const std::string name = doc.name().empty() ? std::string("(unnamed)") : Printable(doc.name(), 256);
    result->set_name(name);
    absl::StatusOr<Advisory> parsed = advisories::ParseCsaf(doc.content(), name);
    if (!parsed.ok()) {
      result->set_outcome("refused");
      // The reader quotes what it refused, which may be any bytes: a response string must be UTF-8.
      result->set_error(Printable(AsStd(parsed.status().message()), 1024));
      continue;
    }
    const Advisory& a = *parsed;
    if (a.tracking_id.empty() || a.tracking_id.size() > 256 || !IsPrintableAscii(a.tracking_id)) {
      result->set_outcome("refused");
      result->set_error(absl::StrCat(name, ": document.tracking.id: missing or not printable"));
      continue;
    }
    result->set_tracking_id(a.tracking_id);
    result->set_version(Printable(a.version, 64));
    result->set_products(static_cast<int32_t>(a.products.size()));
    result->set_vulnerabilities(static_cast<int32_t>(a.vulnerabilities.size()));
    // A deadlock with the classifier rewriting matches of the advisory's products is tried again.
    auto apply = [&] {
      pqxx::work w(c);
      // One import of an advisory at a time, whoever imports it.
      w.exec_params("SELECT pg_advisory_xact_lock(hashtext('auscult_advisory:' || $1))", a.tracking_id);
      const pqxx::result old = w.exec_params(
          "SELECT version, COALESCE(to_char(current_release AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
          "''),"
          " sha256 = encode(sha256(convert_to($2, 'UTF8')), 'hex')"
          " FROM advisories WHERE tracking_id = $1",
          a.tracking_id, doc.content());
      if (!old.empty()) {
        if (old[0].at(2).as<bool>()) {
          result->set_outcome("unchanged");
          w.commit();
          return;
        }
        const std::string old_version = old[0].at(0).as<std::string>();
        absl::Time release;
        std::string err, ours;
        if (absl::ParseTime(absl::RFC3339_full, a.current_release, &release, &err)) {
          ours = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", release, absl::UTCTimeZone());
        }
        if (NewerVersion(a.version, ours, old_version, old[0].at(1).as<std::string>()) < 0) {
          result->set_outcome("older");
          result->set_replaced_version(old_version);
          w.commit();
          return;
        }
        result->set_outcome("updated");
        result->set_replaced_version(old_version);
        w.exec_params("DELETE FROM advisories WHERE tracking_id = $1", a.tracking_id);
      } else {
        result->set_outcome("imported");
      }
      try {
        InsertAdvisory(w, a, name, doc.content(), who);
      } catch (const pqxx::data_exception& e) {
        // Text PostgreSQL refuses (a NUL byte, invalid UTF-8 in a field the reader passed through).
        result->set_outcome("refused");
        result->set_error(absl::StrCat(name, ": refused by the database: ", Printable(e.what(), 200)));
        return;  // the transaction is abandoned
      }
      JsonWriter detail;
      detail.BeginObject()
          .Key("tracking_id")
          .String(a.tracking_id)
          .Key("version")
          .String(a.version)
          .Key("outcome")
          .String(result->outcome())
          .Key("file")
          .String(name)
          .EndObject();
      w.exec_params("INSERT INTO admin_actions (who, action, detail) VALUES ($1, 'import_advisory', $2::jsonb)", who,
                    detail.str());
      w.exec("UPDATE collector_settings SET value = (value::bigint + 1)::text WHERE name = 'advisories_version'");
      w.commit();
    };
    for (int attempt = 1;; ++attempt) {
      try {
        apply();
        break;
      } catch (const pqxx::transaction_rollback&) {
        if (attempt == 3) throw;
      }
    }
  }
  return response;
}

absl::StatusOr<v1::ListAdvisoriesResponse> ListAdvisories(pqxx::connection_base& c,
                                                          const v1::ListAdvisoriesRequest& request) {
  if (request.cve().size() > 64 || request.vendor().size() > 256) {
    return absl::InvalidArgumentError("cve, vendor: too long");
  }
  pqxx::read_transaction t(c);
  v1::ListAdvisoriesResponse response;
  const pqxx::result rows = t.exec_params(
      R"sql(
SELECT )sql" AUSCULT_ADVISORY_SUMMARY R"sql(
FROM dashboard.advisories a
WHERE (NOT $1::boolean OR a.devices_affected + a.devices_possibly_affected > 0)
  AND ($2::text = '' OR EXISTS (SELECT 1 FROM advisory_vulnerabilities v
                                WHERE v.tracking_id = a.tracking_id AND v.cve = upper($2::text)))
  AND ($3::text = '' OR EXISTS (SELECT 1 FROM advisory_products p
                                WHERE p.tracking_id = a.tracking_id AND p.vendor ILIKE '%' || $3::text || '%'))
ORDER BY a.devices_affected + a.devices_possibly_affected > 0 DESC, a.max_cvss DESC NULLS LAST,
         a.current_release DESC NULLS LAST, a.tracking_id
LIMIT 100000)sql",
      request.matched_only(), std::string(absl::StripAsciiWhitespace(request.cve())), EscapeLike(request.vendor()));
  for (const pqxx::row& r : rows) FillSummary(r, response.add_advisories());
  return response;
}

namespace {

// The CVEs of products, keyed by (tracking id, product id), with their remediations.
std::map<std::pair<std::string, std::string>, std::vector<v1::AdvisoryCve>> ProductCves(
    pqxx::transaction_base& t, const std::string& tracking_id) {
  std::map<std::pair<std::string, std::string>, std::vector<v1::AdvisoryCve>> out;
  std::map<std::tuple<std::string, int, std::string>, std::vector<v1::AdvisoryRemediation>> remediations;
  for (const pqxx::row& r : t.exec_params("SELECT ordinal, product_id, category, details, url"
                                          " FROM advisory_remediations WHERE tracking_id = $1"
                                          " ORDER BY ordinal, product_id, position",
                                          tracking_id)) {
    v1::AdvisoryRemediation m;
    m.set_category(r.at(2).as<std::string>());
    m.set_details(r.at(3).as<std::string>());
    m.set_url(r.at(4).as<std::string>());
    remediations[{tracking_id, r.at(0).as<int>(), r.at(1).as<std::string>()}].push_back(std::move(m));
  }
  for (const pqxx::row& r : t.exec_params(
           "SELECT ordinal, product_id, status, cve, cwe, cvss_version, COALESCE(base_score, 0)::numeric::float8,"
           " vector, severity FROM advisory_vulnerabilities WHERE tracking_id = $1"
           " ORDER BY ordinal, product_id, status",
           tracking_id)) {
    v1::AdvisoryCve cve;
    const int ordinal = r.at(0).as<int>();
    const std::string product = r.at(1).as<std::string>();
    cve.set_status(r.at(2).as<std::string>());
    cve.set_cve(r.at(3).as<std::string>());
    cve.set_cwe(r.at(4).as<std::string>());
    cve.set_cvss_version(r.at(5).as<std::string>());
    cve.set_base_score(r.at(6).as<double>());
    cve.set_vector(r.at(7).as<std::string>());
    cve.set_severity(r.at(8).as<std::string>());
    if (auto it = remediations.find({tracking_id, ordinal, product}); it != remediations.end()) {
      for (v1::AdvisoryRemediation& m : it->second) *cve.add_remediations() = m;
    }
    out[{tracking_id, product}].push_back(std::move(cve));
  }
  return out;
}

constexpr char kMatches[] = R"sql(
SELECT m.device_id, m.tracking_id, a.title, m.product_id, p.vendor, p.product_name, p.version_text, m.match,
       m.basis, m.reason, m.observed_model, m.observed_version, auscult_us(m.matched_at),
       auscult_display(m.device_id, 'vendor'), auscult_display(m.device_id, 'model'),
       COALESCE(ov.value, (SELECT k.value FROM device_classification k
                           WHERE k.device_id = m.device_id AND k.key = 'device_type'), 'unknown'),
       COALESCE(pc.value, (SELECT k.value FROM device_classification k
                           WHERE k.device_id = m.device_id AND k.key = 'patient_connection'), 'unknown'),
       COALESCE((SELECT r.score FROM device_risk r WHERE r.device_id = m.device_id), 0),
       COALESCE(dep.value, auscult_department(m.device_id, d.site))
FROM device_advisories m
JOIN devices d ON d.device_id = m.device_id
JOIN advisories a ON a.tracking_id = m.tracking_id
JOIN advisory_products p ON p.tracking_id = m.tracking_id AND p.product_id = m.product_id
LEFT JOIN device_overrides ov ON ov.device_id = m.device_id AND ov.field = 'device_type'
LEFT JOIN device_overrides pc ON pc.device_id = m.device_id AND pc.field = 'patient_connection'
LEFT JOIN device_overrides dep ON dep.device_id = m.device_id AND dep.field = 'department'
WHERE ($1::bigint = 0 OR m.device_id = $1::bigint) AND ($2::text = '' OR m.tracking_id = $2::text)
ORDER BY CASE m.match WHEN 'exact_version' THEN 0 WHEN 'version_range' THEN 1 ELSE 2 END, m.tracking_id,
         m.device_id
LIMIT 100000)sql";

std::vector<v1::AdvisoryMatch> Matches(pqxx::transaction_base& t, int64_t device_id, const std::string& tracking_id) {
  std::vector<v1::AdvisoryMatch> out;
  std::map<std::string, std::map<std::pair<std::string, std::string>, std::vector<v1::AdvisoryCve>>> cves;
  for (const pqxx::row& r : t.exec_params(kMatches, device_id, tracking_id)) {
    v1::AdvisoryMatch m;
    m.set_device_id(r.at(0).as<int64_t>());
    m.set_tracking_id(r.at(1).as<std::string>());
    m.set_title(r.at(2).as<std::string>());
    m.set_product_id(r.at(3).as<std::string>());
    m.set_product_vendor(r.at(4).as<std::string>());
    m.set_product_name(r.at(5).as<std::string>());
    m.set_affected_versions(r.at(6).as<std::string>());
    m.set_match(r.at(7).as<std::string>());
    m.set_basis(r.at(8).as<std::string>());
    m.set_reason(r.at(9).as<std::string>());
    m.set_observed_model(r.at(10).as<std::string>());
    m.set_observed_version(r.at(11).as<std::string>());
    FromMicros(r.at(12).as<int64_t>(), m.mutable_matched());
    m.set_device_vendor(r.at(13).as<std::string>());
    m.set_device_model(r.at(14).as<std::string>());
    m.set_device_type(r.at(15).as<std::string>());
    m.set_patient_connection(r.at(16).as<std::string>());
    m.set_device_risk(r.at(17).as<int32_t>());
    m.set_department(r.at(18).as<std::string>());
    auto it = cves.find(m.tracking_id());
    if (it == cves.end()) it = cves.emplace(m.tracking_id(), ProductCves(t, m.tracking_id())).first;
    if (auto p = it->second.find({m.tracking_id(), m.product_id()}); p != it->second.end()) {
      double max = 0;
      for (const v1::AdvisoryCve& cve : p->second) {
        *m.add_cves() = cve;
        max = std::max(max, cve.base_score());
      }
      m.set_max_cvss(max);
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

std::vector<v1::AdvisoryMatch> DeviceAdvisories(pqxx::transaction_base& t, int64_t device_id) {
  return Matches(t, device_id, "");
}

absl::StatusOr<v1::Advisory> GetAdvisory(pqxx::connection_base& c, const v1::GetAdvisoryRequest& request) {
  const std::string id = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(request.tracking_id()));
  if (id.empty() || id.size() > 256) return absl::InvalidArgumentError("tracking_id: give an advisory's id");
  pqxx::read_transaction t(c);
  const pqxx::result rows = t.exec_params(
      "SELECT " AUSCULT_ADVISORY_SUMMARY " FROM dashboard.advisories a WHERE upper(a.tracking_id) = $1",
      id);
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("no advisory ", Printable(id, 64), " was imported"));
  v1::Advisory out;
  const pqxx::row& r = rows[0];
  FillSummary(r, out.mutable_summary());
  const std::string tracking_id = out.summary().tracking_id();
  auto cves = ProductCves(t, tracking_id);
  for (const pqxx::row& p : t.exec_params("SELECT product_id, vendor, product_name, label, version_text, version_kind,"
                                          " cpe FROM advisory_products WHERE tracking_id = $1"
                                          " ORDER BY length(product_id), product_id",
                                          tracking_id)) {
    v1::AdvisoryProduct* product = out.add_products();
    product->set_product_id(p.at(0).as<std::string>());
    product->set_vendor(p.at(1).as<std::string>());
    product->set_product_name(p.at(2).as<std::string>());
    product->set_label(p.at(3).as<std::string>());
    product->set_version_text(p.at(4).as<std::string>());
    product->set_version_kind(p.at(5).as<std::string>());
    product->set_cpe(p.at(6).as<std::string>());
    for (const v1::AdvisoryCve& cve : cves[{tracking_id, product->product_id()}]) *product->add_cves() = cve;
  }
  for (v1::AdvisoryMatch& m : Matches(t, 0, tracking_id)) {
    m.clear_cves();  // the products above carry them
    *out.add_devices() = std::move(m);
  }
  return out;
}

std::string AdvisoriesVersion(pqxx::connection_base& c) {
  pqxx::read_transaction t(c);
  const pqxx::result r = t.exec("SELECT value FROM collector_settings WHERE name = 'advisories_version'");
  return r.empty() ? std::string("0") : r[0].at(0).as<std::string>();
}

std::shared_ptr<const AdvisoryCatalog> LoadAdvisoryCatalog(pqxx::connection_base& c) {
  auto catalog = std::make_shared<AdvisoryCatalog>();
  std::vector<advisories::CatalogProduct> products;
  {
    pqxx::read_transaction t(c);
    const pqxx::result v = t.exec("SELECT value FROM collector_settings WHERE name = 'advisories_version'");
    catalog->version = v.empty() ? std::string("0") : v[0].at(0).as<std::string>();
    // One at a time: the documents can be many megabytes in all.
    for (const pqxx::row& row : t.exec("SELECT tracking_id, source_name, document FROM advisories")) {
      const std::string id = row.at(0).as<std::string>();
      absl::StatusOr<Advisory> a = advisories::ParseCsaf(row.at(2).as<std::string>(), row.at(1).as<std::string>());
      if (!a.ok()) {
        spdlog::error("advisory {} is stored but does not read ({}): it is left out of matching", Printable(id, 64),
                      a.status().message());
        continue;
      }
      for (advisories::CatalogProduct& p : advisories::PrepareAdvisory(*a)) products.push_back(std::move(p));
    }
    for (const pqxx::row& r : t.exec("SELECT tracking_id, product_id, max(base_score)::numeric::float8,"
                                     " array_to_string(array_agg(DISTINCT cve) FILTER (WHERE cve <> ''), ',')"
                                     " FROM advisory_vulnerabilities"
                                     " WHERE status IN ('known_affected', 'first_affected', 'last_affected',"
                                     "                  'under_investigation')"
                                     " GROUP BY 1, 2")) {
      AdvisoryCatalog::Severity& s = catalog->severity[{r.at(0).as<std::string>(), r.at(1).as<std::string>()}];
      s.max_cvss = r.at(2).is_null() ? 0 : r.at(2).as<double>();
      s.cves = SplitCommas(r.at(3).is_null() ? std::string() : r.at(3).as<std::string>());
    }
  }
  catalog->catalog = advisories::Catalog(std::move(products));
  return catalog;
}

}  // namespace auscult::collector
