// LLDP and CDP: facts against tshark on every corpus capture that carries them, and the decoders on
// every truncation of real units.
#include "sensor/parsers/lldp/lldp.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/str_replace.h"
#include "sensor/parsers/cdp/cdp.h"
#include "sensor/parsers/oracle.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::CapturesWith;
using ::auscult::sensor::testing::FactKey;
using ::auscult::sensor::testing::FactsOf;
using ::auscult::sensor::testing::OracleTally;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::TsharkFields;

// tshark prints a multi-line LLDP description with "\n" escaped, and a CDP software version as one
// field per line (the first of which TsharkFields takes); ours are the bytes on the wire. Each
// spelling goes in for comparison.
std::set<FactKey> WithTsharkSpellings(const std::set<FactKey>& facts) {
  std::set<FactKey> out = facts;
  for (const auto& [device, attribute, value] : facts) {
    std::string trimmed = value;
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\0')) trimmed.pop_back();
    out.insert({device, attribute, absl::StrReplaceAll(trimmed, {{"\n", "\\n"}})});
    out.insert({device, attribute, trimmed.substr(0, trimmed.find('\n'))});
  }
  return out;
}

TEST(Lldp, FactsMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally tally("lldp");
  for (const std::string& path : CapturesWith("lldp", {"lldp-cdp/LLDP_and_CDP.pcap"})) {
    if (path.find("malformed/") != std::string::npos) continue;  // checked for survival elsewhere
    std::set<FactKey> theirs;
    for (const auto& r :
         TsharkFields(path, {"eth.src", "lldp.tlv.system.name", "lldp.tlv.system.desc"}, "lldp && !_ws.malformed")) {
      if (!r[1].empty()) theirs.insert({r[0], Attribute::kHostname, r[1]});
      if (!r[2].empty()) theirs.insert({r[0], Attribute::kSystemDescription, r[2]});
    }
    tally.Compare(path, theirs, WithTsharkSpellings(FactsOf(path)));
  }
  EXPECT_GT(tally.expected(), 0);
}

TEST(Cdp, FactsMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally tally("cdp");
  for (const std::string& path : CapturesWith("cdp", {"lldp-cdp/LLDP_and_CDP.pcap"})) {
    std::set<FactKey> theirs;
    for (const auto& r : TsharkFields(path, {"eth.src", "cdp.deviceid", "cdp.platform", "cdp.software_version"},
                                      "cdp && !_ws.malformed")) {
      if (!r[1].empty()) theirs.insert({r[0], Attribute::kHostname, r[1]});
      if (!r[2].empty()) theirs.insert({r[0], Attribute::kModel, r[2]});
      if (!r[3].empty()) theirs.insert({r[0], Attribute::kSystemDescription, r[3]});
    }
    tally.Compare(path, theirs, WithTsharkSpellings(FactsOf(path)));
  }
  EXPECT_GT(tally.expected(), 0);
}

// Every prefix of every real LLDP and CDP unit decodes without reading past it.
TEST(Lldp, DecodersOnEveryTruncation) {
  int units = 0;
  for (const char* name : {"lldp-cdp/LLDP_and_CDP.pcap", "malformed/lldp_asan.pcap"}) {
    const auto path = ::auscult::testing::CapturePath(name);
    ASSERT_TRUE(path) << name;
    ::auscult::sensor::testing::ForEachFrame(*path, [&](const RawFrame& f) {
      Decoder d;
      PacketView v;
      d.Decode(f, v);
      const std::vector<uint8_t> bytes(v.link_payload.begin(), v.link_payload.end());
      for (size_t n = 0; n <= bytes.size(); ++n) {
        const std::span<const uint8_t> cut(bytes.data(), n);
        lldp::Unit u;
        lldp::Error le;
        const bool lldp_ok = lldp::Parse(cut, u, le);
        EXPECT_EQ(lldp_ok, le == lldp::Error::kNone);
        cdp::Packet c;
        cdp::Error ce;
        const bool cdp_ok = cdp::Parse(cut, c, ce);
        EXPECT_EQ(cdp_ok, ce == cdp::Error::kNone);
      }
      ++units;
    });
  }
  EXPECT_GT(units, 0);
}

// LLDP-MED inventory TLVs (no capture in the corpus carries them): built on a real unit.
TEST(Lldp, MedInventory) {
  std::vector<uint8_t> unit = {0x02, 0x07, 0x04, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,  // chassis: MAC
                               0x04, 0x04, 0x05, 'e',  't',  'h',                     // port: ifname
                               0x06, 0x02, 0x00, 0x78};                               // TTL
  auto med = [&](uint8_t subtype, const std::string& value) {
    const size_t length = 4 + value.size();
    unit.push_back(static_cast<uint8_t>(127 << 1 | (length >> 8)));
    unit.push_back(static_cast<uint8_t>(length));
    unit.insert(unit.end(), {0x00, 0x12, 0xbb, subtype});
    unit.insert(unit.end(), value.begin(), value.end());
  };
  med(5, "HW 2.1");
  med(6, "FW 7.0.3");
  med(7, "SW 7.0.3b");
  med(8, "SN1234567");
  med(9, "Example Medical");
  med(10, "InfusionPump 5000");
  unit.insert(unit.end(), {0x00, 0x00});
  lldp::Unit u;
  lldp::Error e;
  ASSERT_TRUE(lldp::Parse(unit, u, e)) << lldp::ErrorName(e);
  EXPECT_EQ(u.chassis_id, "00:11:22:33:44:55");
  EXPECT_EQ(u.port_id, "eth");
  EXPECT_EQ(u.hardware_revision, "HW 2.1");
  EXPECT_EQ(u.firmware_revision, "FW 7.0.3");
  EXPECT_EQ(u.software_revision, "SW 7.0.3b");
  EXPECT_EQ(u.serial_number, "SN1234567");
  EXPECT_EQ(u.manufacturer, "Example Medical");
  EXPECT_EQ(u.model, "InfusionPump 5000");
}

}  // namespace
}  // namespace auscult::sensor
