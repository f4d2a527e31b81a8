// libFuzzer target for the CSAF 2.0 reader (collector/advisories/csaf.h): the advisories an
// operator imports come from vendors' and agencies' sites, and a file may be damaged or hostile.
//
// Contracts checked besides what ASan/UBSan catch:
//  - a refusal has a message that starts with the file's name;
//  - an accepted advisory has a tracking id, unique non-empty product ids, and every product id a
//    vulnerability names (scores, status, remediations) is one of its products;
//  - every product's version constraint answers MatchVersion for a few versions without trouble;
//  - the matcher (collector/advisories/matcher.h) prepares every product, and a device named after
//    a product's vendor and name is matched without trouble, its findings naming catalog products.
//
// Input: the JSON text. Seeds: tests/data/fuzz-seeds/csaf_fuzz (written by hand in the corpus's shape).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "collector/advisories/csaf.h"
#include "collector/advisories/matcher.h"
#include "google/protobuf/stubs/logging.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "CSAF reader broke its contract: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);  // protobuf's JSON parser logs each refusal
    return true;
  }();
  (void)quiet;
  using namespace auscult::collector::advisories;
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<Advisory> a = ParseCsaf(json, "fuzz.json");
  if (!a.ok()) {
    Require(a.status().message().substr(0, 10) == "fuzz.json:", "a refusal names the file");
    return 0;
  }
  Require(!a->tracking_id.empty(), "a tracking id");
  std::set<std::string> ids;
  for (const Product& p : a->products) {
    Require(!p.product_id.empty(), "a product id");
    Require(ids.insert(p.product_id).second, "product ids unique");
    for (const char* v : {"1.0", "2.3.6", "B.06.18", "", "U61"}) (void)MatchVersion(p.version, v);
  }
  // The matcher on hostile names: each product's own name and vendor find it.
  const std::vector<CatalogProduct> prepared = PrepareAdvisory(*a);
  Require(prepared.size() == a->products.size(), "every product prepared");
  const Catalog catalog(prepared);
  for (size_t i = 0; i < prepared.size() && i < 8; ++i) {
    const CatalogProduct& p = prepared[i];
    const std::vector<Finding> found = catalog.Match(DeviceIdentity{{p.vendor}, {p.product_name}, {}, {}});
    for (const Finding& f : found) Require(f.product < prepared.size(), "findings name catalog products");
    (void)ObservedVersion(p.version_text);
    std::string product, version;
    (void)SplitProductVersion(p.version_text, &product, &version);
  }
  for (const Vulnerability& v : a->vulnerabilities) {
    for (const Score& s : v.scores) {
      for (const std::string& id : s.product_ids) Require(ids.contains(id), "scores name products");
      Require(s.base_score >= 0 && s.base_score <= 10, "a base score from 0 to 10");
    }
    for (const auto& [status, refs] : v.product_status) {
      for (const std::string& id : refs) Require(ids.contains(id), "product_status names products");
    }
    for (const Remediation& r : v.remediations) {
      for (const std::string& id : r.product_ids) Require(ids.contains(id), "remediations name products");
    }
  }
  return 0;
}
