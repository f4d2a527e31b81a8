// CSAF 2.0 advisories: CISA's 144 medical advisories (../shared/advisories; the corpus-wide test is
// skipped when it is absent) read whole, with the totals an independent survey in Python counted
// (docs/advisories.md), and hostile documents refused with the file and the JSON path named.
#include "collector/advisories/csaf.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/support/test_support.h"

namespace auscult::collector::advisories {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Csaf, EveryIcsmaAdvisoryReadsWithTheSurveysTotals) {
  const fs::path dir = fs::path(testing::SharedCapturesDir()).parent_path() / "advisories" / "csaf-medical";
  if (!fs::exists(dir)) GTEST_SKIP() << dir << " is not here (the workplace's shared advisories)";
  size_t files = 0, products = 0, vulnerabilities = 0, scores = 0, known_affected = 0, other_status = 0;
  size_t vendor_fixes = 0, with_cpe = 0, ranges = 0;
  std::set<std::string> cves, ids;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    const absl::StatusOr<Advisory> a = ParseCsaf(Read(entry.path()), entry.path().filename().string());
    ASSERT_TRUE(a.ok()) << a.status();
    ++files;
    EXPECT_EQ(a->publisher, "CISA");
    EXPECT_EQ(a->tracking_id.rfind("ICSMA-", 0), 0u) << a->tracking_id;
    ids.insert(a->tracking_id);
    products += a->products.size();
    for (const Product& p : a->products) {
      EXPECT_FALSE(p.vendor.empty()) << entry.path() << " " << p.product_id;
      EXPECT_FALSE(p.product_name.empty()) << entry.path() << " " << p.product_id;
      EXPECT_FALSE(p.version_text.empty()) << entry.path() << " " << p.product_id;
      if (!p.cpe.empty()) ++with_cpe;
      if (p.version_is_range) ++ranges;
    }
    for (const Vulnerability& v : a->vulnerabilities) {
      ++vulnerabilities;
      if (!v.cve.empty()) cves.insert(v.cve);
      for (const Score& s : v.scores) {
        ++scores;
        EXPECT_TRUE(s.cvss_version == "3.0" || s.cvss_version == "3.1") << s.cvss_version;
        EXPECT_EQ(s.vector.rfind("CVSS:3.", 0), 0u) << s.vector;
        EXPECT_GT(s.base_score, 0);
      }
      for (const auto& [status, refs] : v.product_status) {
        (status == "known_affected" ? known_affected : other_status) += refs.size();
      }
      for (const Remediation& r : v.remediations) vendor_fixes += r.category == "vendor_fix";
    }
  }
  std::printf(
      "  %zu files, %zu advisories, %zu products (%zu ranges, %zu with a CPE), %zu vulnerabilities, %zu CVEs, "
      "%zu scores, %zu known_affected references, %zu vendor fixes\n",
      files, ids.size(), products, ranges, with_cpe, vulnerabilities, cves.size(), scores, known_affected,
      vendor_fixes);
  EXPECT_EQ(files, 144u);
  EXPECT_EQ(products, 607u);
  EXPECT_EQ(ranges, 236u);
  EXPECT_EQ(with_cpe, 0u) << "the survey found no identification helper in the corpus";
  EXPECT_EQ(vulnerabilities, 433u);
  EXPECT_EQ(cves.size(), 428u);
  EXPECT_EQ(other_status, 0u) << "only known_affected is used in the corpus";
  EXPECT_EQ(vendor_fixes, 1254u);
}

// The fuzz target's seeds (written by hand in the corpus's shape, with what the corpus lacks: a
// product family, full_product_names, CVSS 4.0, known_not_affected) are valid advisories.
TEST(Csaf, TheFuzzSeedsAreValidAdvisories) {
  const fs::path dir = fs::path(AUSCULT_TEST_DATA_DIR) / "fuzz-seeds" / "csaf_fuzz";
  int n = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const absl::StatusOr<Advisory> a = ParseCsaf(Read(entry.path()), entry.path().filename().string());
    EXPECT_TRUE(a.ok()) << a.status();
    ++n;
  }
  EXPECT_GE(n, 3);
  const absl::StatusOr<Advisory> family = ParseCsaf(Read(dir / "full_product_names"), "full_product_names");
  ASSERT_TRUE(family.ok());
  ASSERT_EQ(family->products.size(), 2u);
  EXPECT_EQ(family->products[0].product_name, "M1") << "a product_name under a product_family names the product";
  EXPECT_EQ(family->products[1].label, "Example Monitor 1.0");
  EXPECT_EQ(family->products[1].version.kind, VersionConstraint::Kind::kAll);
  EXPECT_EQ(family->vulnerabilities.at(0).scores.at(0).cvss_version, "4.0");
}

constexpr char kMinimal[] = R"json({
  "document": {"csaf_version": "2.0", "title": "Example pump", "publisher": {"name": "Vendor PSIRT"},
    "tracking": {"id": "EX-2026-001", "version": "2", "initial_release_date": "2026-01-01T00:00:00Z",
                 "current_release_date": "2026-02-01T00:00:00Z"}},
  "product_tree": {"branches": [{"category": "vendor", "name": "Acme Medical", "branches": [
    {"category": "product_name", "name": "Acme 5000", "branches": [
      {"category": "product_version_range", "name": "<= 2.3.6",
       "product": {"name": "Acme 5000 <= 2.3.6", "product_id": "P1",
                   "product_identification_helper": {"cpe": "cpe:2.3:h:acme:5000:*:*:*:*:*:*:*:*",
                                                     "model_numbers": ["5000", "5000-W"]}}}]}]}]},
  "vulnerabilities": [{"cve": "CVE-2026-0001", "cwe": {"id": "CWE-798", "name": "Use of Hard-coded Credentials"},
    "scores": [{"products": ["P1"], "cvss_v3": {"version": "3.1", "baseScore": 9.8, "baseSeverity": "CRITICAL",
      "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}],
    "product_status": {"known_affected": ["P1"]},
    "remediations": [{"category": "vendor_fix", "details": "Update to 2.3.7.", "product_ids": ["P1"]}]}]
})json";

TEST(Csaf, ReadsEveryFieldMatchingNeeds) {
  const absl::StatusOr<Advisory> a = ParseCsaf(kMinimal, "minimal.json");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->tracking_id, "EX-2026-001");
  EXPECT_EQ(a->version, "2");
  EXPECT_EQ(a->publisher, "Vendor PSIRT");
  ASSERT_EQ(a->products.size(), 1u);
  const Product& p = a->products[0];
  EXPECT_EQ(p.vendor, "Acme Medical");
  EXPECT_EQ(p.product_name, "Acme 5000");
  EXPECT_EQ(p.version_text, "<= 2.3.6");
  EXPECT_TRUE(p.version_is_range);
  EXPECT_EQ(MatchVersion(p.version, "2.3.6").match, VersionMatch::kInside);
  EXPECT_EQ(MatchVersion(p.version, "2.3.7").match, VersionMatch::kOutside);
  EXPECT_EQ(p.cpe, "cpe:2.3:h:acme:5000:*:*:*:*:*:*:*:*");
  EXPECT_EQ(p.model_numbers, (std::vector<std::string>{"5000", "5000-W"}));
  ASSERT_EQ(a->vulnerabilities.size(), 1u);
  const Vulnerability& v = a->vulnerabilities[0];
  EXPECT_EQ(v.cve, "CVE-2026-0001");
  EXPECT_EQ(v.cwe_id, "CWE-798");
  ASSERT_EQ(v.scores.size(), 1u);
  EXPECT_EQ(v.scores[0].base_score, 9.8);
  EXPECT_EQ(v.scores[0].product_ids, (std::vector<std::string>{"P1"}));
  EXPECT_EQ(v.product_status.at("known_affected"), (std::vector<std::string>{"P1"}));
  ASSERT_EQ(v.remediations.size(), 1u);
  EXPECT_EQ(v.remediations[0].details, "Update to 2.3.7.");
}

TEST(Csaf, HostileDocumentsAreRefusedNamingWhere) {
  const std::string ok = kMinimal;
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = ok;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? s : s.replace(at, from.size(), to);
  };
  const std::pair<std::string, std::string> cases[] = {
      {"{not json", "bad.json: not JSON"},
      {"[]", "bad.json: the top level: not an object"},
      {replace(R"("csaf_version": "2.0")", R"("csaf_version": "1.2")"), "document.csaf_version: '1.2', not 2.0"},
      {replace(R"("id": "EX-2026-001")", R"("id": 7)"), "document.tracking.id: not a string"},
      {replace(R"("id": "EX-2026-001", )", ""), "document.tracking.id: missing"},
      {replace(R"("known_affected": ["P1"])", R"("known_affected": ["P9"])"),
       "vulnerabilities[0].product_status.known_affected: P9 is no product of the product tree"},
      {replace(R"("baseScore": 9.8)", R"("baseScore": 99)"),
       "vulnerabilities[0].scores[0].cvss_v3.baseScore: not a number from 0 to 10"},
      {replace(R"("category": "product_name", "name": "Acme 5000", "branches": [)",
               R"("category": "product_name", "name": "Acme 5000", "branches": [7, )"),
       "product_tree.branches[0].branches[0].branches[0]: not an object"},
      {replace(R"("product_id": "P1",)", R"("product_id": "",)"),
       "product_tree.branches[0].branches[0].branches[0].product.product_id: empty"},
      {std::string(kMaxCsafBytes + 1, ' '), "more than an advisory may have"},
  };
  for (const auto& [text, says] : cases) {
    const absl::StatusOr<Advisory> a = ParseCsaf(text, "bad.json");
    ASSERT_FALSE(a.ok()) << says;
    EXPECT_NE(a.status().message().find(says), absl::string_view::npos) << a.status();
  }
  // Branches nested without end are refused, not followed down the stack.
  std::string deep = R"({"document": {"csaf_version": "2.0", "title": "t", "publisher": {"name": "p"},
    "tracking": {"id": "X", "version": "1", "initial_release_date": "d", "current_release_date": "d"}},
    "product_tree": {"branches": [)";
  auto nested = [&](int levels) {
    std::string s = deep;
    for (int i = 0; i < levels; ++i) s += R"({"category": "vendor", "name": "v", "branches": [)";
    for (int i = 0; i < levels; ++i) s += "]}";
    return s + "]}}";
  };
  // Protobuf's JSON reader stops at its depth limit (18 levels of branches here; real trees have
  // at most a dozen categories), so a document nested deeper is refused before it is walked.
  EXPECT_TRUE(ParseCsaf(nested(15), "fine.json").ok()) << "fifteen levels are read";
  for (int levels : {19, 5000}) {
    const absl::StatusOr<Advisory> d = ParseCsaf(nested(levels), "deep.json");
    ASSERT_FALSE(d.ok()) << levels;
    EXPECT_NE(d.status().message().find("deep.json: not JSON, or nested deeper than"), absl::string_view::npos)
        << d.status();
  }
}

}  // namespace
}  // namespace auscult::collector::advisories
