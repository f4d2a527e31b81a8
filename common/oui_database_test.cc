#include "common/oui_database.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace auscult {
namespace {

std::string TempDir() {
  std::string t = "/tmp/auscult-oui-XXXXXX";
  EXPECT_NE(mkdtemp(t.data()), nullptr);
  return t;
}

TEST(OuiDatabase, LongestAssignedPrefixWins) {
  const std::string dir = TempDir();
  std::ofstream(dir + "/oui.csv") << "Registry,Assignment,Organization Name,Organization Address\n"
                                  << "MA-L,001122,\"Large, Inc.\",Somewhere\n"
                                  << "MA-L,0A1122,Local Bit Corp,Nowhere\n"
                                  << "MA-L,ZZ,broken line,\n";
  std::ofstream(dir + "/mam.csv") << "Registry,Assignment,Organization Name,Organization Address\n"
                                  << "MA-M,0011223,Medium GmbH,Here\n";
  std::ofstream(dir + "/oui36.csv") << "Registry,Assignment,Organization Name,Organization Address\n"
                                    << "MA-S,001122334,Small BV,There\n";
  auto db = OuiDatabase::Load(dir);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->size(), 4u);
  EXPECT_EQ((*db)->skipped_lines(), 1u);
  EXPECT_EQ((*db)->Lookup(*MacAddress::Parse("00:11:22:33:44:55")), "Small BV");
  EXPECT_EQ((*db)->Lookup(*MacAddress::Parse("00:11:22:35:44:55")), "Medium GmbH");
  EXPECT_EQ((*db)->Lookup(*MacAddress::Parse("00:11:22:f5:44:55")), "Large, Inc.");
  EXPECT_EQ((*db)->Lookup(*MacAddress::Parse("00:11:23:00:00:00")), "");
  // A locally administered MAC is nobody's assignment, whatever its prefix looks like.
  EXPECT_EQ((*db)->Lookup(*MacAddress::Parse("0a:11:22:00:00:00")), "");
  std::filesystem::remove_all(dir);
}

TEST(OuiDatabase, MissingDirectoryIsAClearError) {
  auto db = OuiDatabase::Load("/nonexistent/ieee");
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find("/nonexistent/ieee/oui.csv"), std::string::npos);
}

// Debian's real files load, and agree with a line of oui.csv read independently.
TEST(OuiDatabase, DebianIeeeData) {
  const std::string dir(OuiDatabase::kDefaultDirectory);
  std::ifstream in(dir + "/oui.csv");
  if (!in) GTEST_SKIP() << "ieee-data is not installed";
  auto db = OuiDatabase::Load(dir);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_GT((*db)->size(), 30000u);
  std::string line;
  std::getline(in, line);  // header
  int examined = 0;
  int agreed = 0;
  while (std::getline(in, line) && examined < 1000) {
    // Lines without quotes: MA-L,XXXXXX,Name,Address
    if (line.find('"') != std::string::npos) continue;
    const size_t a = line.find(',');
    const size_t b = line.find(',', a + 1);
    const size_t c = line.find(',', b + 1);
    const std::string hex = line.substr(a + 1, b - a - 1);
    std::string name = line.substr(b + 1, c - b - 1);
    const auto mac =
        MacAddress::Parse(hex.substr(0, 2) + ":" + hex.substr(2, 2) + ":" + hex.substr(4, 2) + ":00:00:00");
    if (!mac || mac->IsLocallyAdministered() || mac->IsGroup()) continue;
    while (!name.empty() && name.back() == ' ') name.pop_back();
    // Blocks the IEEE subdivided (MA-M, MA-S) are listed under its own name; the sub-block wins.
    if (name == "IEEE Registration Authority") continue;
    ++examined;
    // A longer (MA-M/MA-S) assignment under the same prefix may win for this MAC; rarely.
    agreed += std::string((*db)->Lookup(*mac)) == name;
  }
  EXPECT_EQ(examined, 1000);
  EXPECT_GE(agreed, 990);
}

}  // namespace
}  // namespace auscult
