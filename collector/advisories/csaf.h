#ifndef AUSCULT_COLLECTOR_ADVISORIES_CSAF_H_
#define AUSCULT_COLLECTOR_ADVISORIES_CSAF_H_

// Reads a security advisory in CSAF 2.0 (the format CISA and manufacturers publish; OASIS CSAF
// 2.0 standard) into what matching needs: the products of its product tree (vendor, product
// name, version constraint, identification helpers), and per vulnerability its CVE, CWE, scores
// per product, product status and remediations. Untrusted input: bounded in size, every field
// checked for its type, and a refusal names the file and the JSON path of what is wrong.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/advisories/version.h"

namespace auscult::collector::advisories {

inline constexpr size_t kMaxCsafBytes = 16 << 20;  // CISA's largest medical advisory is about 300 KB
inline constexpr size_t kMaxCsafProducts = 100000;

struct Product {
  std::string product_id;    // unique within its document ("CSAFPID-0001")
  std::string vendor;        // the vendor branch's name, as written
  std::string product_name;  // the product_name (or product_family) branch's name, as written
  std::string label;         // product.name: often the whole product in words
  std::string version_text;  // the product_version or product_version_range branch's name; "" if none
  bool version_is_range = false;
  VersionConstraint version;  // parsed from version_text (kAll when the tree gives no version)
  std::string cpe;            // product_identification_helper, when given
  std::vector<std::string> model_numbers;
};

struct Score {
  std::string cvss_version;  // "3.0", "3.1", "4.0", "2.0"
  double base_score = 0;
  std::string vector;
  std::string severity;
  std::vector<std::string> product_ids;
};

struct Remediation {
  std::string category;  // vendor_fix, mitigation, workaround, none_available, no_fix_planned
  std::string details;
  std::string url;
  std::vector<std::string> product_ids;
};

struct Vulnerability {
  std::string cve;  // may be empty: CSAF allows a vulnerability without one
  std::string cwe_id, cwe_name;
  std::vector<Score> scores;
  // product_status: known_affected, fixed, known_not_affected, first_fixed, ... -> product ids
  std::map<std::string, std::vector<std::string>> product_status;
  std::vector<Remediation> remediations;
};

struct Advisory {
  std::string tracking_id;  // "ICSMA-20-317-01": an advisory's identity across its revisions
  std::string version;      // tracking.version: "1", "2", ... (a later one replaces an earlier one)
  std::string title;
  std::string publisher;
  std::string initial_release, current_release;  // RFC 3339, as written
  std::vector<Product> products;
  std::vector<Vulnerability> vulnerabilities;
};

// `name` names the file in errors ("icsma-20-317-01.json: product_tree.branches[0]: ...").
absl::StatusOr<Advisory> ParseCsaf(std::string_view json, std::string_view name);

}  // namespace auscult::collector::advisories

#endif  // AUSCULT_COLLECTOR_ADVISORIES_CSAF_H_
