#include "collector/cli/advisory_commands.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <system_error>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "collector/cli/output_format.h"
#include "collector/cli/table.h"
#include "common/data_files.h"
#include "common/logging.h"
#include "common/text.h"

ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(std::string, vendor);

ABSL_FLAG(bool, matched, false, "advisories list: only those that concern a device of the inventory");
ABSL_FLAG(std::string, cve, "", "advisories list: only those with this CVE id");

namespace auscult::cli {
namespace {

namespace fs = std::filesystem;

// What one call carries at most: well under the collector's default message limit (16 MiB).
constexpr size_t kMaxCallBytes = 8 << 20;
constexpr size_t kMaxCallDocuments = 200;
constexpr size_t kMaxDocumentBytes = 16 << 20;  // the collector's reader refuses larger ones

std::string Day(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%d", ToTime(t), absl::UTCTimeZone());
}

std::string Score(double s) { return s > 0 ? absl::StrFormat("%.1f", s) : "-"; }

// "version_range" as a reader says it.
std::string MatchWords(const v1::AdvisoryMatch& m) {
  if (m.match() == "exact_version") return "affected (exact version)";
  if (m.match() == "version_range") return "affected (version in range)";
  return absl::StrCat("possibly (", m.reason(), ")");
}

void CveJson(JsonWriter& j, const v1::AdvisoryCve& c) {
  j.BeginObject();
  j.Key("cve").String(c.cve());
  j.Key("cwe").String(c.cwe());
  j.Key("status").String(c.status());
  j.Key("cvss_version").String(c.cvss_version());
  j.Key("base_score").Double(c.base_score());
  j.Key("vector").String(c.vector());
  j.Key("severity").String(c.severity());
  j.Key("remediations").BeginArray();
  for (const auto& r : c.remediations()) {
    j.BeginObject();
    j.Key("category").String(r.category());
    j.Key("details").String(r.details());
    j.Key("url").String(r.url());
    j.EndObject();
  }
  j.EndArray();
  j.EndObject();
}

void SummaryJson(JsonWriter& j, const v1::AdvisorySummary& s) {
  j.Key("tracking_id").String(s.tracking_id());
  j.Key("title").String(s.title());
  j.Key("publisher").String(s.publisher());
  j.Key("version").String(s.version());
  j.Key("initial_release").String(s.has_initial_release() ? Rfc3339(s.initial_release()) : "");
  j.Key("current_release").String(s.has_current_release() ? Rfc3339(s.current_release()) : "");
  j.Key("cves").BeginArray();
  for (const auto& c : s.cves()) j.String(c);
  j.EndArray();
  j.Key("max_cvss").Double(s.max_cvss());
  j.Key("product_count").Int(s.products());
  j.Key("devices_affected").Int(s.devices_affected());
  j.Key("devices_possibly_affected").Int(s.devices_possibly_affected());
  j.Key("imported").String(Rfc3339(s.imported()));
}

// The vendor's fixes for a match, each text once.
std::vector<std::string> VendorFixes(const google::protobuf::RepeatedPtrField<v1::AdvisoryCve>& cves) {
  std::vector<std::string> out;
  for (const auto& c : cves) {
    for (const auto& r : c.remediations()) {
      if (r.category() == "vendor_fix" && std::find(out.begin(), out.end(), r.details()) == out.end()) {
        out.push_back(r.details());
      }
    }
  }
  return out;
}

}  // namespace

void AdvisoryMatchJson(JsonWriter& j, const v1::AdvisoryMatch& m, bool with_device) {
  j.BeginObject();
  j.Key("tracking_id").String(m.tracking_id());
  j.Key("title").String(m.title());
  j.Key("product_id").String(m.product_id());
  j.Key("product_vendor").String(m.product_vendor());
  j.Key("product_name").String(m.product_name());
  j.Key("affected_versions").String(m.affected_versions());
  j.Key("match").String(m.match());
  j.Key("basis").String(m.basis());
  j.Key("reason").String(m.reason());
  j.Key("observed_model").String(m.observed_model());
  j.Key("observed_version").String(m.observed_version());
  j.Key("max_cvss").Double(m.max_cvss());
  j.Key("matched").String(Rfc3339(m.matched()));
  if (with_device) {
    j.Key("device_id").Int(m.device_id());
    j.Key("device_vendor").String(m.device_vendor());
    j.Key("device_model").String(m.device_model());
    j.Key("device_type").String(m.device_type());
    j.Key("patient_connection").String(m.patient_connection());
    j.Key("device_risk").Int(m.device_risk());
    j.Key("department").String(m.department());
  } else {
    j.Key("cves").BeginArray();
    for (const auto& c : m.cves()) CveJson(j, c);
    j.EndArray();
  }
  j.EndObject();
}

void PrintDeviceAdvisories(const v1::Device& d) {
  if (d.advisories_size() == 0) return;
  std::cout << "  advisories: " << d.advisories_size() << " (`auscult advisories show ID` for each)\n";
  for (const auto& m : d.advisories()) {
    std::vector<std::string> cves;
    for (const auto& c : m.cves()) {
      if (!c.cve().empty() && std::find(cves.begin(), cves.end(), c.cve()) == cves.end()) cves.push_back(c.cve());
    }
    std::cout << "    " << m.tracking_id() << "  CVSS " << Score(m.max_cvss()) << "  " << MatchWords(m) << "\n"
              << "      " << Printable(m.product_vendor(), 60) << " " << Printable(m.product_name(), 80) << " "
              << Printable(m.affected_versions(), 60) << "; matched on " << m.basis() << " "
              << Printable(m.observed_model(), 60)
              << (m.observed_version().empty() ? "" : ", version " + Printable(m.observed_version(), 40)) << "\n";
    if (!cves.empty()) std::cout << "      " << absl::StrJoin(cves, ", ") << "\n";
    const std::vector<std::string> fixes = VendorFixes(m.cves());
    if (!fixes.empty()) std::cout << "      fix: " << Printable(fixes.front(), 300) << "\n";
  }
}

std::vector<std::string> AdvisoryFiles(const std::vector<std::string>& paths, std::vector<std::string>* errors) {
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    std::error_code ec;
    const fs::file_status st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      errors->push_back(absl::StrCat(p, ": no such file or folder"));
    } else if (fs::is_directory(st)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec) && it->path().extension() == ".json") found.push_back(it->path().string());
      }
      if (ec) errors->push_back(absl::StrCat(p, ": cannot read the folder: ", ec.message()));
      std::sort(found.begin(), found.end());
      if (found.empty() && !ec) errors->push_back(absl::StrCat(p, ": no .json files in the folder"));
      out.insert(out.end(), found.begin(), found.end());
    } else {
      out.push_back(p);
    }
  }
  return out;
}

int ImportAdvisories(const QueryContext& q, const std::vector<std::string>& paths) {
  std::vector<std::string> errors;
  const std::vector<std::string> files = AdvisoryFiles(paths, &errors);
  for (const std::string& e : errors) std::fprintf(stderr, "auscult: advisories import: %s\n", Printable(e).c_str());
  std::vector<v1::AdvisoryImportResult> results;
  int failed = static_cast<int>(errors.size());
  v1::ImportAdvisoriesRequest req;
  size_t bytes = 0;
  auto send = [&]() -> int {
    if (req.documents_size() == 0) return 0;
    v1::ImportAdvisoriesResponse response;
    grpc::ClientContext ctx;
    SetDeadline(ctx, q);
    if (grpc::Status s = q.stub->ImportAdvisories(&ctx, req, &response); !s.ok()) return FailCall(s, q.target);
    for (v1::AdvisoryImportResult& r : *response.mutable_results()) results.push_back(std::move(r));
    req.clear_documents();
    bytes = 0;
    return 0;
  };
  for (const std::string& file : files) {
    absl::StatusOr<std::string> content = ReadFileAtMost(file, kMaxDocumentBytes, "advisory");
    if (!content.ok()) {
      std::fprintf(stderr, "auscult: advisories import: %s\n", Printable(AsStd(content.status().message())).c_str());
      ++failed;
      continue;
    }
    if (bytes + content->size() > kMaxCallBytes || req.documents_size() >= static_cast<int>(kMaxCallDocuments)) {
      if (int rc = send(); rc != 0) return rc;
    }
    bytes += content->size();
    v1::AdvisoryDocument* doc = req.add_documents();
    doc->set_name(fs::path(file).filename().string());
    doc->set_content(*std::move(content));
  }
  if (int rc = send(); rc != 0) return rc;
  std::map<std::string, int> outcomes;
  for (const auto& r : results) {
    ++outcomes[r.outcome()];
    if (r.outcome() == "refused") ++failed;
  }
  if (absl::GetFlag(FLAGS_json)) {
    JsonWriter j(/*pretty=*/true);
    j.BeginArray();
    for (const auto& r : results) {
      j.BeginObject();
      j.Key("file").String(r.name());
      j.Key("tracking_id").String(r.tracking_id());
      j.Key("version").String(r.version());
      j.Key("outcome").String(r.outcome());
      j.Key("error").String(r.error());
      j.Key("products").Int(r.products());
      j.Key("vulnerabilities").Int(r.vulnerabilities());
      j.Key("replaced_version").String(r.replaced_version());
      j.EndObject();
    }
    j.EndArray();
    std::cout << j.str() << "\n";
  } else {
    for (const auto& r : results) {
      if (r.outcome() == "refused") {
        std::fprintf(stderr, "auscult: advisories import: refused %s\n", Printable(r.error(), 1024).c_str());
        continue;
      }
      std::cout << absl::StrFormat(
          "%-9s %s version %s (%d products, %d vulnerabilities)%s from %s\n", r.outcome(),
          Printable(r.tracking_id(), 64), Printable(r.version(), 16), r.products(), r.vulnerabilities(),
          r.replaced_version().empty() ? std::string()
                                       : absl::StrCat(r.outcome() == "older" ? "; kept version " : "; was version ",
                                                      Printable(r.replaced_version(), 16)),
          Printable(r.name(), 128));
    }
    std::string summary;
    for (const char* o : {"imported", "updated", "unchanged", "older", "refused"}) {
      absl::StrAppend(&summary, summary.empty() ? "" : ", ", outcomes[o], " ", o);
    }
    std::cout << results.size() << " documents: " << summary
              << (errors.empty() ? "" : absl::StrCat("; ", errors.size(), " paths not read")) << "\n";
    if (outcomes["imported"] + outcomes["updated"] > 0) {
      std::cout << "the collector matches them to the inventory within seconds (`auscult advisories list --matched`)\n";
    }
  }
  return failed > 0 ? 1 : 0;
}

int ListAdvisories(const QueryContext& q) {
  v1::ListAdvisoriesRequest req;
  req.set_matched_only(absl::GetFlag(FLAGS_matched));
  req.set_cve(absl::GetFlag(FLAGS_cve));
  req.set_vendor(absl::GetFlag(FLAGS_vendor));
  v1::ListAdvisoriesResponse response;
  grpc::ClientContext ctx;
  SetDeadline(ctx, q);
  if (grpc::Status s = q.stub->ListAdvisories(&ctx, req, &response); !s.ok()) return FailCall(s, q.target);
  if (absl::GetFlag(FLAGS_json)) {
    JsonWriter j(/*pretty=*/true);
    j.BeginArray();
    for (const auto& a : response.advisories()) {
      j.BeginObject();
      SummaryJson(j, a);
      j.EndObject();
    }
    j.EndArray();
    std::cout << j.str() << "\n";
    return 0;
  }
  Table t({"ADVISORY", "RELEASED", "CVSS", "AFFECTED", "POSSIBLY", "CVES", "TITLE"},
          {false, false, true, true, true, false, false});
  int affected = 0, possibly = 0;
  for (const auto& a : response.advisories()) {
    std::string cves = a.cves_size() > 0 ? a.cves(0) : "-";
    if (a.cves_size() > 1) absl::StrAppend(&cves, " +", a.cves_size() - 1);
    t.AddRow({Printable(a.tracking_id(), 32), Day(a.current_release()), Score(a.max_cvss()),
              absl::StrCat(a.devices_affected()), absl::StrCat(a.devices_possibly_affected()), cves,
              Printable(a.title(), 70)});
    affected += a.devices_affected() > 0;
    possibly += a.devices_possibly_affected() > 0;
  }
  std::cout << t.Render() << response.advisories_size() << " advisories; " << affected << " with affected devices, "
            << possibly << " with possibly affected devices\n";
  return 0;
}

int ShowAdvisory(const QueryContext& q, const std::string& tracking_id) {
  v1::GetAdvisoryRequest req;
  req.set_tracking_id(tracking_id);
  v1::Advisory a;
  grpc::ClientContext ctx;
  SetDeadline(ctx, q);
  if (grpc::Status s = q.stub->GetAdvisory(&ctx, req, &a); !s.ok()) return FailCall(s, q.target);
  const v1::AdvisorySummary& s = a.summary();
  if (absl::GetFlag(FLAGS_json)) {
    JsonWriter j(/*pretty=*/true);
    j.BeginObject();
    SummaryJson(j, s);
    j.Key("products").BeginArray();
    for (const auto& p : a.products()) {
      j.BeginObject();
      j.Key("product_id").String(p.product_id());
      j.Key("vendor").String(p.vendor());
      j.Key("product_name").String(p.product_name());
      j.Key("label").String(p.label());
      j.Key("version_text").String(p.version_text());
      j.Key("version_kind").String(p.version_kind());
      j.Key("cpe").String(p.cpe());
      j.Key("cves").BeginArray();
      for (const auto& c : p.cves()) CveJson(j, c);
      j.EndArray();
      j.EndObject();
    }
    j.EndArray();
    j.Key("devices").BeginArray();
    for (const auto& m : a.devices()) AdvisoryMatchJson(j, m, /*with_device=*/true);
    j.EndArray();
    j.EndObject();
    std::cout << j.str() << "\n";
    return 0;
  }
  std::cout << Printable(s.tracking_id(), 64) << " version " << Printable(s.version(), 16) << ": "
            << Printable(s.title(), 200) << "\n"
            << "  publisher " << Printable(s.publisher(), 80) << ", released " << Day(s.initial_release())
            << ", updated " << Day(s.current_release()) << "; highest CVSS " << Score(s.max_cvss()) << "\n"
            << "  CVEs: " << OrDash(absl::StrJoin(s.cves(), ", ")) << "\n\n";
  Table products({"PRODUCT", "VENDOR", "NAME", "VERSIONS", "CVSS", "CVES"}, {false, false, false, false, true, false});
  std::vector<std::string> fixes;
  for (const auto& p : a.products()) {
    std::set<std::string> cves;
    double max = 0;
    for (const auto& c : p.cves()) {
      if (!c.cve().empty()) cves.insert(c.cve());
      max = std::max(max, c.base_score());
      for (const auto& r : c.remediations()) {
        if (r.category() == "vendor_fix" && std::find(fixes.begin(), fixes.end(), r.details()) == fixes.end()) {
          fixes.push_back(r.details());
        }
      }
    }
    products.AddRow({Printable(p.product_id(), 24), Printable(p.vendor(), 30), Printable(p.product_name(), 60),
                     Printable(p.version_text(), 40), Score(max), OrDash(absl::StrJoin(cves, ","))});
  }
  std::cout << products.Render();
  if (!fixes.empty()) {
    std::cout << "\nvendor fixes:\n";
    for (const auto& f : fixes) std::cout << "  - " << Printable(f, 400) << "\n";
  }
  std::cout << "\n";
  if (a.devices_size() == 0) {
    std::cout << "no device of the inventory matches its products\n";
    return 0;
  }
  Table devices({"DEVICE", "RISK", "TYPE", "DEPARTMENT", "VENDOR", "MODEL", "MATCH", "ON", "VERSION", "PRODUCT"},
                {true, true, false, false, false, false, false, false, false, false});
  for (const auto& m : a.devices()) {
    devices.AddRow({absl::StrCat(m.device_id()), absl::StrCat(m.device_risk()),
                    m.device_type() == "unknown" ? "-" : m.device_type(), OrDash(Printable(m.department(), 30)),
                    OrDash(Printable(m.device_vendor(), 30)), OrDash(Printable(m.device_model(), 30)), MatchWords(m),
                    m.basis(), OrDash(Printable(m.observed_version(), 24)), Printable(m.product_id(), 24)});
  }
  std::cout << devices.Render() << s.devices_affected() << " devices affected, " << s.devices_possibly_affected()
            << " possibly affected\n";
  return 0;
}

}  // namespace auscult::cli
