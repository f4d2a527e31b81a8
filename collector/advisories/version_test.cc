// Version constraints as CISA's medical advisories write them: each case is a constraint and an
// observed version taken from the ICSMA corpus (docs/advisories.md), with what a security team
// should be told.
#include "collector/advisories/version.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "tests/support/test_support.h"

namespace auscult::collector::advisories {
namespace {

struct Case {
  const char* constraint;
  const char* observed;
  VersionMatch expected;
  const char* reason = "";  // for kUnknown
};

std::string Name(VersionMatch m) {
  return m == VersionMatch::kInside ? "inside" : (m == VersionMatch::kOutside ? "outside" : "unknown");
}

TEST(AdvisoryVersion, ConstraintsFromTheCorpusDecideAsTheVendorsMeant) {
  const Case cases[] = {
      {"<= 9.33.1", "9.33.0", VersionMatch::kInside},
      {"<= 9.33.1", "9.33.1", VersionMatch::kInside},
      {"<= 9.33.1", "9.33.2", VersionMatch::kOutside},
      {"<=1.52", "1.52", VersionMatch::kInside},
      // 24-151-02 names 1.52.01 as the fix, but "<= 1.52" alone may mean the whole 1.52 line.
      {"<=1.52", "1.52.01", VersionMatch::kUnknown, "prefix"},
      {"<= 9.33", "9.33.1", VersionMatch::kUnknown, "prefix"},
      {"< B.06.18", "B.06.17", VersionMatch::kInside},
      {"< B.06.18", "B.06.18", VersionMatch::kOutside},
      {"< B.06.18", "A.10.01", VersionMatch::kInside},
      {">= 4.4 | <= 4.12", "4.10", VersionMatch::kInside},
      {">= 4.4 | <= 4.12", "4.3", VersionMatch::kOutside},
      {">= 4.4 | <= 4.12", "4.13", VersionMatch::kOutside},
      {"< 1.10", "1.9", VersionMatch::kInside},
      {"< 1.10", "1.10", VersionMatch::kOutside},
      {"<= 2.6A", "2.6", VersionMatch::kInside},
      {"<= 2.6A", "2.6A", VersionMatch::kInside},
      {"<= 2.6A", "2.6B", VersionMatch::kOutside},
      // U and L are regions (the United States, the rest of the world), not an order.
      {"<= U61 |<= L81", "L70", VersionMatch::kInside},
      {"<= U61 |<= L81", "U70", VersionMatch::kOutside},
      {"<= U61 |<= L81", "X10", VersionMatch::kUnknown, "incomparable"},
      {">=BT02 | <= BT06", "BT04", VersionMatch::kInside},
      {">=BT02 | <= BT06", "BT08", VersionMatch::kOutside},
      {"<= 12.2.x.x", "12.2.8.410", VersionMatch::kInside},
      {"<= 12.2.x.x", "12.3", VersionMatch::kOutside},
      {"12.x", "12.7", VersionMatch::kInside},
      {"12.x", "13.0", VersionMatch::kOutside},
      {"< 3.x", "2.9", VersionMatch::kInside},
      {"< 3.x", "3.1", VersionMatch::kOutside},
      {"<=2023.3_Build_9342", "2023.3 build 9000", VersionMatch::kInside},
      {"<=2023.3_Build_9342", "2023.3 Build 9400", VersionMatch::kOutside},
      {"1.4.2.0-9d9eff4", "1.4.2.0", VersionMatch::kInside},
      {"<=5.17.1-754993421", "5.17.0", VersionMatch::kInside},
      {"1.1 | 1.2 | 1.4 | 1.5", "1.4", VersionMatch::kInside},
      {"1.1 | 1.2 | 1.4 | 1.5", "1.3", VersionMatch::kOutside},
      {"<=N", "K", VersionMatch::kInside},
      {"<=N", "P", VersionMatch::kOutside},
      {"2.3.6 and  below", "2.3.5", VersionMatch::kInside},
      {"2.3.6 and  below", "2.4", VersionMatch::kOutside},
      {">= 2018-1 | <= 2021-1", "2019-3", VersionMatch::kInside},
      {"Version 1.3", "v1.3", VersionMatch::kInside},
      {"< 012U000040", "011U000099", VersionMatch::kInside},
      // Numbers against letters at the same place cannot be ordered.
      {"< B.06.18", "1.3", VersionMatch::kUnknown, "incomparable"},
      // Not versions: kept and reported, never guessed.
      {"vers:all/*", "4.2", VersionMatch::kUnknown, "all"},
      {"distributed  < april 1, 2018", "1.0", VersionMatch::kUnknown, "unparsed:date"},
      {"<8/30/2024", "1.0", VersionMatch::kUnknown, "unparsed:date"},
      {"<= 1.54 (integrated into GE MobileLink)", "1.0", VersionMatch::kUnknown, "unparsed:composite"},
      {"<=11.2 on Windows 8.1 with IIS 7.5", "11.0", VersionMatch::kUnknown, "unparsed:composite"},
      {"A.01 <= C.0x | 4.0", "B.01", VersionMatch::kUnknown, "unparsed:free_text"},
      {"<= 9.33.1", "", VersionMatch::kUnknown, "no_version"},
  };
  for (const Case& c : cases) {
    const VersionConstraint constraint = ParseVersionConstraint(c.constraint);
    const VersionVerdict v = MatchVersion(constraint, c.observed);
    EXPECT_EQ(Name(v.match), Name(c.expected))
        << "'" << c.constraint << "' with '" << c.observed << "' (" << v.reason << ")";
    if (c.expected == VersionMatch::kUnknown) {
      EXPECT_EQ(v.reason, c.reason) << c.constraint << " / " << c.observed;
    }
  }
}

TEST(AdvisoryVersion, ComparesPartByPart) {
  EXPECT_EQ(CompareVersions("4.4", "4.12").order, Order::kLess);
  EXPECT_EQ(CompareVersions("1.2", "1.2.0").order, Order::kEqual);
  EXPECT_FALSE(CompareVersions("1.2", "1.2.0").prefix) << "a zero part adds nothing";
  EXPECT_TRUE(CompareVersions("9.33", "9.33.1").prefix);
  EXPECT_EQ(CompareVersions("C.00.04", "B.12").order, Order::kGreater);
  EXPECT_EQ(CompareVersions("5.89.05", "5.89.05b").order, Order::kLess);
  EXPECT_EQ(CompareVersions("U61", "L81").order, Order::kIncomparable);
  EXPECT_EQ(CompareVersions("1.3", "B.02").order, Order::kIncomparable);
  EXPECT_EQ(CompareVersions("V1.11.00", "1.11").order, Order::kEqual);
  EXPECT_EQ(CompareVersions("99999999999999999999.1", "99999999999999999998.9").order, Order::kGreater);
}

TEST(AdvisoryVersion, ARangeWrittenWithOperatorsIsOneInterval) {
  const VersionConstraint c = ParseVersionConstraint(">= 6.0.0 | <= 6.3.1");
  ASSERT_EQ(c.kind, VersionConstraint::Kind::kSet);
  ASSERT_EQ(c.intervals.size(), 1u);
  EXPECT_EQ(c.intervals[0].lower->version, "6.0.0");
  EXPECT_EQ(c.intervals[0].upper->version, "6.3.1");
  const VersionConstraint u = ParseVersionConstraint("<= U61 |<= L81");
  EXPECT_EQ(u.intervals.size(), 2u) << "two upper bounds are a union";
  EXPECT_EQ(ParseVersionConstraint("").kind, VersionConstraint::Kind::kUnparsed);
  EXPECT_EQ(ParseVersionConstraint("  vers:all/*  ").kind, VersionConstraint::Kind::kAll);
}

// Every version branch of CISA's 144 ICSMA advisories (../shared/advisories; skipped when absent):
// each is parsed or said to be unparsed with a reason, and the counts are those a separate survey
// with Python found (docs/advisories.md): 607 leaves, 258 of them "vers:all/*".
void Leaves(const google::protobuf::Value& branch, std::vector<std::string>& out) {
  const auto& f = branch.struct_value().fields();
  if (const auto c = f.find("category"); c != f.end()) {
    const std::string& category = c->second.string_value();
    if (category == "product_version" || category == "product_version_range")
      out.push_back(f.at("name").string_value());
  }
  if (const auto b = f.find("branches"); b != f.end()) {
    for (const auto& child : b->second.list_value().values()) Leaves(child, out);
  }
}

TEST(AdvisoryVersion, EveryVersionOfTheIcsmaCorpusIsParsedOrExplained) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(testing::SharedCapturesDir()).parent_path() / "advisories" / "csaf-medical";
  if (!fs::exists(dir)) GTEST_SKIP() << dir << " is not here (the workplace's shared advisories)";
  std::vector<std::string> versions;
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    google::protobuf::Value doc;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(text.str(), &doc).ok()) << entry.path();
    ++files;
    for (const auto& b :
         doc.struct_value().fields().at("product_tree").struct_value().fields().at("branches").list_value().values()) {
      Leaves(b, versions);
    }
  }
  EXPECT_EQ(files, 144);
  EXPECT_EQ(versions.size(), 607u);
  std::map<std::string, int> kinds;
  for (const std::string& v : versions) {
    const VersionConstraint c = ParseVersionConstraint(v);
    kinds[c.kind == VersionConstraint::Kind::kAll
              ? "all"
              : (c.kind == VersionConstraint::Kind::kSet ? "set" : "unparsed:" + c.why_unparsed)]++;
    if (c.kind == VersionConstraint::Kind::kSet) {
      ASSERT_FALSE(c.intervals.empty()) << v;
      // Every bound it kept is a version this code can read again.
      for (const VersionInterval& i : c.intervals) {
        for (const auto* b : {&i.lower, &i.upper}) {
          if (b->has_value()) {
            EXPECT_NE(CompareVersions((*b)->version, (*b)->version).order, Order::kIncomparable) << v;
          }
        }
      }
    }
  }
  for (const auto& [kind, n] : kinds) std::printf("  %-22s %d\n", kind.c_str(), n);
  EXPECT_EQ(kinds["all"], 258);
  EXPECT_GE(kinds["set"], 230) << "the survey's prototype read 231";
  EXPECT_GE(kinds["unparsed:date"], 25);
}

}  // namespace
}  // namespace auscult::collector::advisories
