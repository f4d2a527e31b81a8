// LLDP and CDP: facts against tshark on every corpus capture that carries them, and the decoders on
// every truncation of real units.
#include "sensor/parsers/lldp/lldp.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/str_replace.h"
#include "sensor/parsers/cdp/cdp.h"
#include "sensor/parsers/oracle.h"
#include "sensor/parsers/parser_testing.h"

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
    for (const auto& r : TsharkFields(
             path,
             {"eth.src", "lldp.tlv.system.name", "lldp.tlv.system.desc", "lldp.chassis.id.mac", "lldp.chassis.id.ip4",
              "lldp.chassis.id", "lldp.port.id.mac", "lldp.port.id", "lldp.port.desc", "lldp.ieee.802_1.port_vlan.id"},
             "lldp && !_ws.malformed")) {
      if (!r[1].empty()) theirs.insert({r[0], Attribute::kHostname, r[1]});
      if (!r[2].empty()) theirs.insert({r[0], Attribute::kSystemDescription, r[2]});
      // Ids are a MAC or an address when their subtype says so, text otherwise.
      const std::string chassis = !r[3].empty() ? r[3] : !r[4].empty() ? r[4] : r[5];
      if (!chassis.empty()) theirs.insert({r[0], Attribute::kChassisId, chassis});
      const std::string port = !r[6].empty() ? r[6] : r[7];
      if (!port.empty()) {
        // The port as network teams look it up: its id, with its description when that says more.
        theirs.insert({r[0], Attribute::kSwitchPort, r[8].empty() || r[8] == port ? port : port + " (" + r[8] + ")"});
      }
      if (!r[9].empty() && r[9] != "0") theirs.insert({r[0], Attribute::kPortVlan, r[9]});
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
    for (const auto& r : TsharkFields(
             path, {"eth.src", "cdp.deviceid", "cdp.platform", "cdp.software_version", "cdp.portid", "cdp.native_vlan"},
             "cdp && !_ws.malformed")) {
      if (!r[1].empty()) theirs.insert({r[0], Attribute::kHostname, r[1]});
      if (!r[2].empty()) theirs.insert({r[0], Attribute::kModel, r[2]});
      if (!r[3].empty()) theirs.insert({r[0], Attribute::kSystemDescription, r[3]});
      if (!r[4].empty()) theirs.insert({r[0], Attribute::kSwitchPort, r[4]});
      if (!r[5].empty() && r[5] != "0") theirs.insert({r[0], Attribute::kPortVlan, r[5]});
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

// LLDP-MED inventory TLVs (no capture in the corpus carries them): a unit as an infusion pump's
// stack would send it, decoded, then through the whole sensor and against tshark.
std::vector<uint8_t> MedUnit() {
  std::vector<uint8_t> unit = {0x02, 0x07, 0x04, 0x00, 0x1b, 0x3c, 0x00, 0x03, 0x01,  // chassis: MAC
                               0x04, 0x04, 0x05, 'e',  't',  'h',                     // port: ifname
                               0x06, 0x02, 0x00, 0x78};                               // TTL
  auto org = [&](uint32_t oui, uint8_t subtype, const std::vector<uint8_t>& value) {
    const size_t length = 4 + value.size();
    unit.push_back(static_cast<uint8_t>(127 << 1 | (length >> 8)));
    unit.push_back(static_cast<uint8_t>(length));
    unit.insert(unit.end(),
                {static_cast<uint8_t>(oui >> 16), static_cast<uint8_t>(oui >> 8), static_cast<uint8_t>(oui), subtype});
    unit.insert(unit.end(), value.begin(), value.end());
  };
  auto med = [&](uint8_t subtype, const std::string& value) {
    org(0x0012bb, subtype, std::vector<uint8_t>(value.begin(), value.end()));
  };
  med(5, "HW 2.1");
  med(6, "FW 7.0.3");
  med(7, "SW 7.0.3b");
  med(8, "SN1234567");
  med(9, "Example Medical");
  med(10, "InfusionPump 5000");
  org(0x0080c2, 1, {0x00, 0x14});  // IEEE 802.1 port VLAN id 20
  unit.insert(unit.end(), {0x00, 0x00});
  return unit;
}

TEST(Lldp, MedInventory) {
  lldp::Unit u;
  lldp::Error e;
  ASSERT_TRUE(lldp::Parse(MedUnit(), u, e)) << lldp::ErrorName(e);
  EXPECT_EQ(u.chassis_id, "00:1b:3c:00:03:01");
  EXPECT_EQ(u.port_id, "eth");
  EXPECT_EQ(u.hardware_revision, "HW 2.1");
  EXPECT_EQ(u.firmware_revision, "FW 7.0.3");
  EXPECT_EQ(u.software_revision, "SW 7.0.3b");
  EXPECT_EQ(u.serial_number, "SN1234567");
  EXPECT_EQ(u.manufacturer, "Example Medical");
  EXPECT_EQ(u.model, "InfusionPump 5000");
  EXPECT_EQ(u.port_vlan, 20);

  ::auscult::sensor::testing::SyntheticCapture c;
  const ::auscult::sensor::testing::Host pump = {{0x00, 0x1b, 0x3c, 0x00, 0x03, 0x01}, {10, 40, 0, 31}};
  c.Ethernet({0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}, pump, 0x88cc, MedUnit());
  const std::string path = ::auscult::sensor::testing::SyntheticCapturePath("lldp_med");
  c.Write(path);
  const auto ours = FactsOf(path);
  const std::string device = "00:1b:3c:00:03:01";
  for (const auto& [attribute, value] :
       std::vector<std::pair<Attribute, std::string>>{{Attribute::kHardwareVersion, "HW 2.1"},
                                                      {Attribute::kFirmwareVersion, "FW 7.0.3"},
                                                      {Attribute::kSoftwareVersion, "SW 7.0.3b"},
                                                      {Attribute::kSerialNumber, "SN1234567"},
                                                      {Attribute::kVendor, "Example Medical"},
                                                      {Attribute::kModel, "InfusionPump 5000"},
                                                      {Attribute::kPortVlan, "20"}}) {
    EXPECT_TRUE(ours.count({device, attribute, value})) << value;
  }
  if (!HaveTshark()) return;
  OracleTally tally("lldp-med (hand-built)");
  std::set<FactKey> theirs;
  for (const auto& r : TsharkFields(
           path, {"eth.src", "lldp.media.hardware", "lldp.media.firmware", "lldp.media.software", "lldp.media.sn",
                  "lldp.media.manufacturer", "lldp.media.model", "lldp.ieee.802_1.port_vlan.id"})) {
    const Attribute kinds[] = {Attribute::kHardwareVersion, Attribute::kFirmwareVersion, Attribute::kSoftwareVersion,
                               Attribute::kSerialNumber,    Attribute::kVendor,          Attribute::kModel,
                               Attribute::kPortVlan};
    for (size_t i = 0; i < 7; ++i) {
      if (!r[i + 1].empty()) theirs.insert({r[0], kinds[i], r[i + 1]});
    }
  }
  EXPECT_EQ(theirs.size(), 7u);
  tally.Compare(path, theirs, ours);
}

}  // namespace
}  // namespace auscult::sensor
