#ifndef AUSCULT_COMMON_OUI_DATABASE_H_
#define AUSCULT_COMMON_OUI_DATABASE_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/mac_address.h"

namespace auscult {

// The IEEE registration authority's MAC address block assignments (MA-L, MA-M, MA-S and IAB), read
// at run time from Debian's ieee-data CSV files so that the vendor table stays as current as the
// package, and is not a copy in our tree.
class OuiDatabase {
 public:
  static constexpr std::string_view kDefaultDirectory = "/usr/share/ieee-data";

  // Loads oui.csv, mam.csv, oui36.csv and iab.csv from `directory`. oui.csv must exist; the others
  // are optional. Malformed lines are skipped and counted.
  static absl::StatusOr<std::unique_ptr<OuiDatabase>> Load(const std::string& directory);

  // The organisation that holds the longest assigned prefix of `mac`, or empty if none. Locally
  // administered addresses are never looked up: their prefix is not an assignment.
  std::string_view Lookup(const MacAddress& mac) const;

  size_t size() const { return l_.size() + m_.size() + s_.size(); }
  size_t skipped_lines() const { return skipped_lines_; }

 private:
  absl::Status LoadFile(const std::string& path, bool required);

  // Keyed by the assigned prefix, right-aligned: 24, 28 or 36 bits.
  absl::flat_hash_map<uint64_t, std::string> l_, m_, s_;
  size_t skipped_lines_ = 0;
};

}  // namespace auscult

#endif  // AUSCULT_COMMON_OUI_DATABASE_H_
