// NTP: each client's time servers and each server against tshark on every corpus capture with NTP
// and on a hand-built one (control and private-mode replies); the decoder on bytes.
#include <gtest/gtest.h>

#include "sensor/decode/decoder.h"
#include "sensor/parsers/ntp/ntp_message.h"
#include "sensor/parsers/ntp/ntp_parser.h"
#include "sensor/parsers/oracle.h"
#include "sensor/parsers/parser_testing.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::CapturesWith;
using ::auscult::sensor::testing::DeviceKeys;
using ::auscult::sensor::testing::FactKey;
using ::auscult::sensor::testing::Host;
using ::auscult::sensor::testing::OracleTally;
using ::auscult::sensor::testing::RecordingOutput;
using ::auscult::sensor::testing::RunSensor;
using ::auscult::sensor::testing::SensorRun;
using ::auscult::sensor::testing::SyntheticCapture;
using ::auscult::sensor::testing::SyntheticCapturePath;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::TsharkFields;
using Bytes = std::vector<uint8_t>;

// Every client -> server pair tshark shows (mode 3, and mode 1: a symmetric peer the sender
// follows) as a time server of the client, by the server's address; every sender of server
// replies (modes 2, 4, 5) as an NTP server.
std::set<FactKey> TsharkNtp(const std::string& path, const SensorRun& run) {
  const DeviceKeys key(path);
  std::set<FactKey> theirs;
  // ICMP errors quote the NTP packet they answer: not NTP traffic of their sender.
  for (const auto& r : TsharkFields(path, {"eth.src", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "ntp.flags.mode"},
                                    "ntp && !icmp && !icmpv6 && !_ws.malformed")) {
    const std::string device = run.Device(key, r[0], r[1].empty() ? r[2] : r[1]);
    const std::string server = r[3].empty() ? r[4] : r[3];
    if (r[5] == "3" || r[5] == "1") theirs.insert({device, Attribute::kNtpServer, server});
    if (r[5] == "2" || r[5] == "4" || r[5] == "5") theirs.insert({device, Attribute::kService, "ntp-server"});
  }
  return theirs;
}

TEST(Ntp, FactsMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally tally("ntp");
  for (const std::string& path : CapturesWith("ntp", {"mixed/android.pcap"})) {
    if (path.find("malformed/") != std::string::npos) continue;
    const SensorRun run = RunSensor(path);
    tally.Compare(path, TsharkNtp(path, run), run.facts);
  }
  EXPECT_GT(tally.expected(), 0);
}

Bytes Packet(uint8_t version, uint8_t mode, uint8_t stratum) {
  Bytes p(ntp::kHeaderLength, 0);
  p[0] = static_cast<uint8_t>(version << 3 | mode);
  p[1] = stratum;
  return p;
}
// Mode 6 READVAR (opcode 2) reply, and mode 7 MON_GETLIST_1 (42) reply from ntpd (implementation 3).
Bytes ControlReply(bool error) {
  return {0x16, static_cast<uint8_t>(error ? 0xc2 : 0x82), 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
}
Bytes PrivateReply(uint8_t err) { return {0x97, 0x00, 0x03, 42, static_cast<uint8_t>(err << 4), 0x06, 0x00, 0x48}; }

const Host kPump = {{0x00, 0x1b, 0x3c, 0x00, 0x01, 0x01}, {10, 40, 0, 11}};
const Host kClock = {{0x00, 0x1b, 0x3c, 0x00, 0x01, 0x02}, {10, 40, 0, 2}};
const Host kOldClock = {{0x00, 0x1b, 0x3c, 0x00, 0x01, 0x03}, {10, 40, 0, 3}};
const Host kScanner = {{0x00, 0x1b, 0x3c, 0x00, 0x01, 0x09}, {10, 40, 0, 99}};

TEST(Ntp, HandBuiltCapture) {
  SyntheticCapture c;
  c.Udp(kPump, 50123, kClock, 123, Packet(4, 3, 0));
  c.Udp(kClock, 123, kPump, 50123, Packet(4, 4, 2));
  c.Udp(kScanner, 40000, kClock, 123, Bytes{0x16, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0});
  c.Udp(kClock, 123, kScanner, 40000, ControlReply(false));
  c.Udp(kScanner, 40001, kClock, 123, Bytes{0x17, 0x00, 0x03, 42, 0, 0, 0, 0});
  c.Udp(kClock, 123, kScanner, 40001, PrivateReply(0));
  c.Udp(kScanner, 40002, kOldClock, 123, Bytes{0x17, 0x00, 0x03, 42, 0, 0, 0, 0});
  c.Udp(kOldClock, 123, kScanner, 40002, PrivateReply(4));  // INFO_ERR_NODATA: refused, no list
  c.Udp(kPump, 50124, kOldClock, 123, Packet(1, 0, 0));     // NTPv1: no mode; the ports tell
  c.Udp(kOldClock, 123, kPump, 50124, Packet(1, 0, 3));
  const std::string path = SyntheticCapturePath("ntp");
  c.Write(path);
  const SensorRun run = RunSensor(path);
  const std::string pump = "00:1b:3c:00:01:01", clock = "00:1b:3c:00:01:02", old_clock = "00:1b:3c:00:01:03";
  EXPECT_TRUE(run.facts.count({pump, Attribute::kNtpServer, "10.40.0.2"}));
  EXPECT_TRUE(run.facts.count({pump, Attribute::kNtpServer, "10.40.0.3"}));
  EXPECT_TRUE(run.facts.count({clock, Attribute::kService, "ntp-server"}));
  EXPECT_TRUE(run.facts.count({old_clock, Attribute::kService, "ntp-server"}));
  EXPECT_TRUE(run.facts.count({clock, Attribute::kRisk, "ntp_mode6_control_exposed"}));
  EXPECT_TRUE(run.facts.count({clock, Attribute::kRisk, "ntp_mode7_monlist_exposed"}));
  EXPECT_FALSE(run.facts.count({old_clock, Attribute::kRisk, "ntp_mode7_monlist_exposed"}));
  for (const auto& [device, attribute, value] : run.facts) {
    EXPECT_NE(device, "00:1b:3c:00:01:09") << "the scanner serves nothing and uses no server: " << value;
  }
  EXPECT_TRUE(run.anomalies.empty());
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally tally("ntp (hand-built)");
  // tshark shows NTPv1's mode as 0 (reserved); the ports make it client and server here.
  auto theirs = TsharkNtp(path, run);
  EXPECT_EQ(theirs.size(), 2u);
  tally.Compare(path, theirs, run.facts);
}

TEST(Ntp, Packets) {
  ntp::Message m;
  ntp::Error e;
  ASSERT_TRUE(ntp::Parse(Packet(4, 3, 0), m, e));
  EXPECT_EQ(m.version, 4);
  EXPECT_EQ(m.mode, 3);
  ASSERT_TRUE(ntp::Parse(Packet(3, 4, 2), m, e));
  EXPECT_EQ(m.stratum, 2);
  ntp::Message c;
  ASSERT_TRUE(ntp::Parse(ControlReply(false), c, e));
  EXPECT_EQ(c.mode, 6);
  EXPECT_TRUE(c.response);
  EXPECT_EQ(c.request_code, 2);
  EXPECT_EQ(c.error, 0);
  ASSERT_TRUE(ntp::Parse(ControlReply(true), c, e));
  EXPECT_EQ(c.error, 1);
  ntp::Message p;
  ASSERT_TRUE(ntp::Parse(PrivateReply(0), p, e));
  EXPECT_EQ(p.mode, 7);
  EXPECT_EQ(p.version, 2);
  EXPECT_TRUE(p.response);
  EXPECT_EQ(p.request_code, 42);
  ASSERT_TRUE(ntp::Parse(PrivateReply(5), p, e));
  EXPECT_EQ(p.error, 5);
  for (const Bytes& bad : {Bytes{}, Bytes(47, 0x23), Bytes{0x16, 0x82, 0, 1}, Bytes{0x17, 0, 3}}) {
    ntp::Message b;
    EXPECT_FALSE(ntp::Parse(bad, b, e));
    EXPECT_EQ(e, ntp::Error::kTruncated);
  }
  for (uint8_t version : {0, 5, 7}) {
    ntp::Message b;
    EXPECT_FALSE(ntp::Parse(Packet(version, 3, 0), b, e));
    EXPECT_EQ(e, ntp::Error::kBadVersion);
  }
}

// Client requests to a group (manycast) name no server; a second flow's parser keeps its own ends.
TEST(Ntp, ServerAddressIsTheFlowsOtherEnd) {
  FlowContext flow;
  flow.transport = kIpProtoUdp;
  flow.initiator.ip = *IpAddress::Parse("fe80::1");
  flow.initiator.port = 123;
  flow.responder.ip = *IpAddress::Parse("2001:db8::123");
  flow.responder.port = 123;
  ASSERT_TRUE(ntp::Factory()->Wants(flow, Direction::kToResponder, Packet(4, 3, 0)));
  auto parser = ntp::Factory()->Create(flow);
  RecordingOutput out;
  parser->OnData(Direction::kToResponder, Packet(4, 3, 0), 0, out);
  EXPECT_EQ(out.Values(Party::kSender, Attribute::kNtpServer), std::vector<std::string>({"2001:db8::123"}));
  EXPECT_EQ(out.Values(Party::kReceiver, Attribute::kService), std::vector<std::string>({"ntp-server"}));
  flow.responder.ip = *IpAddress::Parse("ff05::101");
  auto manycast = ntp::Factory()->Create(flow);
  RecordingOutput group;
  manycast->OnData(Direction::kToResponder, Packet(4, 3, 0), 0, group);
  EXPECT_TRUE(group.Values(Party::kSender, Attribute::kNtpServer).empty());
  flow.transport = kIpProtoTcp;
  EXPECT_FALSE(ntp::Factory()->Wants(flow, Direction::kToResponder, Packet(4, 3, 0)));
}

// Real packets cut at every length and damaged: a sane message or a named error.
TEST(Ntp, DecoderOnDamagedBytes) {
  std::vector<Bytes> payloads = {ControlReply(false), PrivateReply(0)};
  for (const char* name : {"ntp/ntp.pcap", "ntp/NTPv4.pcap"}) {
    const auto path = ::auscult::testing::CapturePath(name);
    if (!path) continue;
    ::auscult::sensor::testing::ForEachFrame(*path, [&](const RawFrame& f) {
      Decoder d;
      PacketView v;
      if (d.Decode(f, v) && v.ip_protocol == kIpProtoUdp) payloads.emplace_back(v.payload.begin(), v.payload.end());
    });
  }
  for (const Bytes& payload : payloads) {
    ntp::Message m;
    ntp::Error e;
    ASSERT_TRUE(ntp::Parse(payload, m, e)) << ntp::ErrorName(e);
    const size_t minimum = m.mode == 6   ? ntp::kControlHeaderLength
                           : m.mode == 7 ? ntp::kPrivateHeaderLength
                                         : ntp::kHeaderLength;
    for (size_t n = 0; n < payload.size(); ++n) {
      ntp::Message c;
      const bool ok = ntp::Parse(std::span(payload).first(n), c, e);
      EXPECT_EQ(ok, n >= minimum) << "cut at " << n;
      EXPECT_EQ(ok, e == ntp::Error::kNone);
    }
    for (int b = 0; b < 256; ++b) {
      Bytes bad = payload;
      bad[0] = static_cast<uint8_t>(b);
      ntp::Message d;
      const bool ok = ntp::Parse(bad, d, e);
      EXPECT_EQ(ok, e == ntp::Error::kNone);
      if (ok) {
        EXPECT_LE(d.version, 4);
      }
    }
  }
}

// No capture in malformed/ holds NTP; none of them makes the parser count or claim anything.
TEST(Ntp, MalformedCaptures) {
  for (const std::string& name : ::auscult::testing::SharedCaptureFiles()) {
    if (!name.starts_with("malformed/")) continue;
    const SensorRun run = RunSensor(::auscult::testing::SharedCapturesDir() + "/" + name);
    for (const auto& [anomaly, count] : run.anomalies) EXPECT_FALSE(anomaly.starts_with("ntp_")) << name;
  }
}

}  // namespace
}  // namespace auscult::sensor
