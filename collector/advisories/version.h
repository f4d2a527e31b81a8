#ifndef AUSCULT_COLLECTOR_ADVISORIES_VERSION_H_
#define AUSCULT_COLLECTOR_ADVISORIES_VERSION_H_

// Versions as medical-device advisories write them, and whether an observed version falls inside
// an advisory's constraint. The rules come from a survey of CISA's 144 ICSMA advisories in CSAF 2.0
// (docs/advisories.md): dotted numbers compared part by part (4.4 < 4.12, 1.52 < 1.52.01), letter
// revisions (B.06.17 < B.06.18, 2.6 < 2.6A), region tags that are not an order (U61 and L81),
// wildcards (12.x), build qualifiers (2023.3_Build_9342), hash suffixes (1.4.2.0-9d9eff4), and
// constraints that are not versions at all (dates, shipping windows), which are kept and reported,
// never guessed. Pure functions: no database.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace auscult::collector::advisories {

enum class Order { kLess, kEqual, kGreater, kIncomparable };

struct Comparison {
  Order order = Order::kIncomparable;
  // The two agree on every part the shorter one has, and the longer has more (9.33 and 9.33.1):
  // an advisory that says "<= 9.33" may mean the whole 9.33 line.
  bool prefix = false;
};

// Compares two version strings (case-insensitive; a leading "version", "ver", "rev", "release" or
// a "v" before a digit is ignored).
Comparison CompareVersions(std::string_view a, std::string_view b);

struct VersionBound {
  std::string version;
  bool inclusive = true;
};
// One interval of versions; an absent bound is open. An exact version is [v, v].
struct VersionInterval {
  std::optional<VersionBound> lower, upper;
};

struct VersionConstraint {
  enum class Kind { kAll, kSet, kUnparsed };
  Kind kind = Kind::kUnparsed;
  std::vector<VersionInterval> intervals;  // kSet: the union of these
  std::string raw;                         // as the advisory wrote it
  std::string why_unparsed;                // kUnparsed: date, composite, free_text, empty
};

// Parses a product_version or product_version_range branch name: "vers:all/*", "<= 9.33.1",
// ">= 4.4 | <= 4.12" (one interval), "<= U61 |<= L81" (a union), "1.1 | 1.2", "12.x".
VersionConstraint ParseVersionConstraint(std::string_view text);

enum class VersionMatch {
  kInside,   // the observed version is inside the constraint
  kOutside,  // it is outside every interval
  kUnknown,  // all versions, an unparsed constraint, versions that cannot be compared, or a prefix
};
struct VersionVerdict {
  VersionMatch match = VersionMatch::kUnknown;
  std::string reason;  // for kUnknown: all, unparsed:<why>, incomparable, prefix, no_version
};
VersionVerdict MatchVersion(const VersionConstraint& constraint, std::string_view observed);

}  // namespace auscult::collector::advisories

#endif  // AUSCULT_COLLECTOR_ADVISORIES_VERSION_H_
