#ifndef AUSCULT_COLLECTOR_ADVISORIES_MATCHER_H_
#define AUSCULT_COLLECTOR_ADVISORIES_MATCHER_H_

// Which advisories' products a device is, from what the network says of it: its vendor, model,
// software and versions (device evidence), matched against the products of imported CSAF
// advisories. Advisories name products in prose, with no CPE or model helper (docs/advisories.md),
// so both sides are normalised first: vendor names to a canonical key through an explicit alias
// table (never fuzzy: "Contec GmbH" is not "Contec Health"), product names to folded words, model
// numbers to a compact form. Every finding says how sure it is: the version inside an exact list,
// inside a range, or unknown (the product matched and the version decides nothing), with the
// reason. A device whose version falls outside the constraint is not reported. Pure functions.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "collector/advisories/csaf.h"
#include "collector/advisories/version.h"

namespace auscult::collector::advisories {

// N1, N2 of docs/advisories.md: UTF-8 mojibake repaired, Latin-1 letters folded to ASCII, lower
// case; hyphens joined ("Wi-Fi" -> "wifi", "Hill-Rom" -> "hillrom"), other punctuation a space,
// spaces collapsed.
std::string FoldText(std::string_view text);

// N3-N5: the canonical keys of the vendors a name stands for ("Becton, Dickinson and Company (BD)"
// -> bd; "Silex Technology and GE Healthcare" -> silex, ge-healthcare), with the brands and owners
// of the same products ("Welch Allyn" -> welch-allyn, hillrom, baxter). A name the alias table
// does not know is its own key, folded and without legal suffixes. Sorted, unique.
std::vector<std::string> VendorKeys(std::string_view vendor);

// N7, N8: model and part numbers in a text, compact and upper case: words with at least two digits
// and a letter, or three digits ("MX40", "MMT-1715" -> MMT1715, "8015", "M8001A/2A/3A" -> M8001A,
// M8002A, M8003A; a short letter word before a number joins it: "ELI 380" -> 380, ELI380).
// Words with dots are versions, not models.
std::vector<std::string> ModelNumbers(std::string_view text);

// N9: a model family written as a range ("MX400-MX850", "MX400-550", "MP20-MP90").
struct ModelRange {
  std::string prefix;  // upper case letters
  int64_t low = 0, high = 0;
};
std::vector<ModelRange> ModelRanges(std::string_view text);

// One advisory product prepared for matching.
struct CatalogProduct {
  std::string tracking_id, product_id;
  std::string vendor, product_name, version_text;  // as written
  std::vector<std::string> vendor_keys;
  std::vector<std::string> words;           // N6: the folded product name, leading vendor words removed
  std::vector<std::string> excluded_words;  // N10: "..., not including LOGIQ 100 Pro"
  std::vector<std::string> models;          // from the product name and label
  std::vector<std::string> version_models;  // model numbers written where the version belongs
  std::vector<ModelRange> ranges;
  VersionConstraint version;
  bool generic = false;  // N11: a name too short or common to match on its own
  bool affected = true;  // named as affected by some vulnerability (not only fixed or not affected)
};

CatalogProduct PrepareProduct(std::string_view tracking_id, const Product& product, bool affected);

// Every product of an advisory, prepared. A product is affected when some vulnerability lists it
// as known_affected, first_affected, last_affected or under_investigation; one listed only as
// fixed or not affected never makes a finding.
std::vector<CatalogProduct> PrepareAdvisory(const Advisory& advisory);

// What the inventory knows of one device (its evidence values, the classification's vendor and
// model, an analyst's overrides).
struct DeviceIdentity {
  std::vector<std::string> vendors;
  std::vector<std::string> models;
  std::vector<std::string> versions;  // software and firmware versions the device gave
  struct Software {                   // a named software it runs (DICOM toolkit, server banner)
    std::string name;
    std::vector<std::string> versions;  // the versions given by the same protocol
  };
  std::vector<Software> software;
};

struct Finding {
  size_t product = 0;  // index into the catalog
  // exact_version: its version is one the advisory lists; version_range: inside a range;
  // product_only: the product matched and the version decides nothing (see reason).
  std::string match;
  // model_number, model_range, product_name, product_family (the device names only the product
  // line: "Centricity" for "Centricity PACS Server"), software.
  std::string basis;
  // product_only: no_version, all, unparsed:<why>, incomparable, prefix, models_in_version.
  std::string reason;
  std::string observed_model;    // what of the device matched (model, product or software name)
  std::string observed_version;  // the version that decided, if any
};

// Match strength for ordering: exact_version 3, version_range 2, product_only 1.
int MatchRank(std::string_view match);

class Catalog {
 public:
  explicit Catalog(std::vector<CatalogProduct> products);
  const std::vector<CatalogProduct>& products() const { return products_; }
  // The best finding per advisory (tracking id) for this device, strongest first.
  std::vector<Finding> Match(const DeviceIdentity& device) const;

 private:
  std::vector<CatalogProduct> products_;
  std::map<std::string, std::vector<size_t>> by_vendor_;  // vendor key -> products
  std::map<std::string, std::vector<size_t>> by_name_;    // joined product words -> products
};

// A product name glued to its version, as DICOM implementation version names often are
// ("CENTRICITY5.0" -> CENTRICITY and 5.0): at least four letters, then a version. False otherwise.
bool SplitProductVersion(std::string_view text, std::string* product, std::string* version);

// Versions as devices report them, made comparable: "OFFIS_DCMTK_367" (DICOM implementation
// version name) -> 3.6.7; "FW 7.0.3" -> 7.0.3. Returns the text itself when no rule applies.
std::string ObservedVersion(std::string_view raw);

}  // namespace auscult::collector::advisories

#endif  // AUSCULT_COLLECTOR_ADVISORIES_MATCHER_H_
