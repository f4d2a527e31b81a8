// DHCPv4: facts against tshark on every corpus capture with DHCP, and the decoder on bytes.
#include "sensor/parsers/dhcp/dhcp_message.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sensor/parsers/oracle.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::CapturesWith;
using ::auscult::sensor::testing::FactKey;
using ::auscult::sensor::testing::FactsOf;
using ::auscult::sensor::testing::OracleTally;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::TsharkAllFields;

// Host names, vendor classes and parameter request lists, on the right device: the client's MAC
// (chaddr) for what a client says, the sender for a server's own vendor class.
TEST(Dhcp, FactsMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally tally("dhcp");
  for (const std::string& path : CapturesWith("dhcp", {"dhcp/dhcp.pcap"})) {
    std::set<FactKey> theirs;
    for (const auto& row : TsharkAllFields(
             path,
             {"dhcp.type", "dhcp.hw.mac_addr", "eth.src", "dhcp.option.hostname", "dhcp.option.vendor_class_id",
              "dhcp.option.request_list_item", "dhcp.ip.relay", "dhcp.hw.type"},
             "dhcp && !_ws.malformed", '\x1e')) {
      // Fields repeat (option 61 carries a MAC under the same name as chaddr): the first is the
      // fixed header's; the request list is every occurrence.
      auto first = [](const std::string& v) { return v.substr(0, v.find('\x1e')); };
      std::vector<std::string> r(row.size());
      for (size_t i = 0; i < row.size(); ++i) r[i] = first(row[i]);
      r[5] = row[5];
      std::replace(r[5].begin(), r[5].end(), '\x1e', ',');
      if (r[7] != "0x01") continue;  // not Ethernet hardware
      const bool request = r[0] == "1";
      if (!r[3].empty()) theirs.insert({r[1], Attribute::kHostname, r[3]});
      if (!r[4].empty() && request) theirs.insert({r[1], Attribute::kDhcpVendorClass, r[4]});
      if (!r[4].empty() && !request && r[6] == "0.0.0.0") theirs.insert({r[2], Attribute::kDhcpVendorClass, r[4]});
      if (!r[5].empty() && request) theirs.insert({r[1], Attribute::kDhcpFingerprint, r[5]});
    }
    tally.Compare(path, theirs, FactsOf(path));
  }
  EXPECT_GT(tally.expected(), 0);
}

// A DHCPDISCOVER as a client sends it (from the bundled capture), cut at every length and with
// its options damaged: never a read out of bounds, always a named error.
TEST(Dhcp, DecoderOnDamagedBytes) {
  const auto path = ::auscult::testing::CapturePath("dhcp/dhcp.pcap");
  ASSERT_TRUE(path);
  std::vector<std::vector<uint8_t>> payloads;
  ::auscult::sensor::testing::ForEachFrame(*path, [&](const RawFrame& f) {
    Decoder d;
    PacketView v;
    if (d.Decode(f, v) && v.ip_protocol == kIpProtoUdp) payloads.emplace_back(v.payload.begin(), v.payload.end());
  });
  ASSERT_FALSE(payloads.empty());
  for (const auto& payload : payloads) {
    dhcp::Message m;
    dhcp::Error e;
    ASSERT_TRUE(dhcp::Parse(payload, m, e)) << dhcp::ErrorName(e);
    EXPECT_TRUE(m.has_client_mac);
    for (size_t n = 0; n < payload.size(); ++n) {
      std::vector<uint8_t> cut(payload.begin(), payload.begin() + n);
      dhcp::Message c;
      const bool ok = dhcp::Parse(cut, c, e);
      EXPECT_EQ(ok, e == dhcp::Error::kNone) << "cut at " << n;
    }
    // An option whose length runs past the message.
    std::vector<uint8_t> bad = payload;
    bad[240] = 12;
    bad[241] = 250;
    dhcp::Message b;
    EXPECT_FALSE(dhcp::Parse(bad, b, e));
    EXPECT_EQ(e, dhcp::Error::kBadOption);
    // BOOTP without the DHCP magic cookie.
    std::vector<uint8_t> bootp = payload;
    bootp[236] = 0;
    EXPECT_FALSE(dhcp::Parse(bootp, b, e));
    EXPECT_EQ(e, dhcp::Error::kBadMagic);
  }
}

// Option 81 in DNS wire format, option 77 with its RFC 3004 length byte, option 52 moving options
// into the file field: built on a real message.
TEST(Dhcp, OptionEncodings) {
  std::vector<uint8_t> m(240, 0);
  m[0] = 1;
  m[1] = 1;
  m[2] = 6;
  for (int i = 0; i < 6; ++i) m[28 + i] = static_cast<uint8_t>(0x10 + i);
  m[236] = 99;
  m[237] = 130;
  m[238] = 83;
  m[239] = 99;
  const std::vector<uint8_t> options = {53,  1,   3, 81, 12, 0x04, 0,   0,   4,   'p', 'u', 'm', 'p', 3,  'l',
                                        'a', 'n', 0, 77, 5,  4,    'i', 'c', 'u', '1', 52,  1,   1,   255};
  m.insert(m.end(), options.begin(), options.end());
  // Option 12 in the (overloaded) file field.
  const std::vector<uint8_t> in_file = {12, 6, 'i', 'n', 'f', 'u', 's', 'e', 255};
  std::copy(in_file.begin(), in_file.end(), m.begin() + 108);
  dhcp::Message msg;
  dhcp::Error e;
  ASSERT_TRUE(dhcp::Parse(m, msg, e)) << dhcp::ErrorName(e);
  EXPECT_EQ(msg.type, 3);
  EXPECT_EQ(msg.fqdn, "pump.lan");
  EXPECT_EQ(msg.user_class, "icu1");
  EXPECT_EQ(msg.hostname, "infuse");
  EXPECT_EQ(msg.client_mac.ToString(), "10:11:12:13:14:15");
}

}  // namespace
}  // namespace auscult::sensor
