#include "collector/cli/segments_csv.h"

#include <gtest/gtest.h>

namespace auscult::cli {
namespace {

TEST(SegmentsCsv, ReadsColumnsInAnyOrder) {
  const auto r = ParseSegmentsCsv(
      "# the north wing\r\n"
      "Department,site,CIDR,vlan,wing\r\n"
      "Radiology,st-marys,10.20.0.0/16,,north\r\n"
      "\"ICU 3, beds 1-12\",st-marys,,120,north\r\n"
      "\r\n"
      "\"Lab \"\"B\"\"\", ,10.30.1.0/24,31, south \n",
      "map.csv");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].department(), "Radiology");
  EXPECT_EQ((*r)[0].cidr(), "10.20.0.0/16");
  EXPECT_EQ((*r)[0].vlan(), 0u);
  EXPECT_EQ((*r)[1].department(), "ICU 3, beds 1-12");
  EXPECT_EQ((*r)[1].vlan(), 120u);
  EXPECT_EQ((*r)[2].department(), "Lab \"B\"");
  EXPECT_EQ((*r)[2].site(), "");
  EXPECT_EQ((*r)[2].wing(), "south");
}

TEST(SegmentsCsv, ErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"", "map.csv: no header line"},
      {"site,room\n", "map.csv:1: unknown column 'room'"},
      {"site,wing\n", "map.csv:1: the header needs a cidr or a vlan column"},
      {"cidr,cidr\n", "map.csv:1: column 'cidr' appears twice"},
      {"cidr,vlan\n10.0.0.0/8\n", "map.csv:2: 1 fields where the header names 2"},
      {"cidr,vlan\n10.0.0.0/8,5000\n", "map.csv:2: vlan '5000' is not a VLAN id"},
      {"cidr,vlan\n,\n", "map.csv:2: a segment needs a network"},
      {"cidr,department\n10.0.0.0/8,\"open\n", "map.csv:2: a quoted field is not closed"},
      {"cidr,department\n10.0.0.0/8,Caf\xe9\n", "map.csv:2: not UTF-8 text"},
  };
  for (const Case& c : cases) {
    const auto r = ParseSegmentsCsv(c.text, "map.csv");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(std::string(r.status().message()).find(c.message), std::string::npos) << r.status();
  }
}

}  // namespace
}  // namespace auscult::cli
