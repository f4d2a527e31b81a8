// Syslog: senders' HOSTNAME and APP-NAME/TAG against tshark on every corpus capture with syslog
// (and the TCP one, decoded as syslog on request); headers and TCP framing on bytes.
#include <gtest/gtest.h>

#include "absl/strings/str_split.h"
#include "sensor/decode/decoder.h"
#include "sensor/parsers/oracle.h"
#include "sensor/parsers/parser_testing.h"
#include "sensor/parsers/syslog/syslog_message.h"
#include "sensor/parsers/syslog/syslog_parser.h"

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
using ::auscult::testing::RunCommand;

// tshark's syslog fields per frame; `decode_as` adds "-d" rules (tshark takes TCP 514 for rsh).
std::vector<std::vector<std::string>> TsharkSyslog(const std::string& path, const std::string& decode_as) {
  std::vector<std::string> argv = {"tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=/t"};
  if (!decode_as.empty()) argv.insert(argv.end(), {"-d", decode_as});
  for (const char* f :
       {"eth.src", "ip.src", "ipv6.src", "syslog.hostname", "syslog.version", "syslog.appname", "syslog.procid"}) {
    argv.insert(argv.end(), {"-e", f});
  }
  // Not PPPoE: the sensor's decoder does not take PPPoE session frames apart (yet), so syslog
  // inside them (syslog.pcap: nb6, pfSense) never reaches a parser.
  argv.insert(argv.end(), {"-Y", "syslog && !_ws.malformed && !pppoes"});
  const auto r = RunCommand(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::vector<std::string>> rows;
  for (const auto& line : absl::StrSplit(r.out, '\n', absl::SkipEmpty())) {
    std::vector<std::string> row = absl::StrSplit(line, '\t');
    row.resize(7);
    rows.push_back(row);
  }
  return rows;
}

// Every HOSTNAME tshark reads, on its sender, but "-" (nil) and addresses (not names; the brief's
// rule); every 5424 APP-NAME and 3164 TAG (which tshark files as syslog.procid) as software.
std::set<FactKey> TsharkFacts(const std::string& path, const std::string& decode_as, const SensorRun& run) {
  const DeviceKeys key(path);
  std::set<FactKey> theirs;
  for (const auto& r : TsharkSyslog(path, decode_as)) {
    const std::string device = run.Device(key, r[0], r[1].empty() ? r[2] : r[1]);
    if (!r[3].empty() && r[3] != "-" && !syslog::IsIpAddress(r[3])) theirs.insert({device, Attribute::kHostname, r[3]});
    if (r[4] == "1" && !r[5].empty() && r[5] != "-") theirs.insert({device, Attribute::kSoftware, r[5]});
    if (r[4].empty() && !r[3].empty() && !r[6].empty()) theirs.insert({device, Attribute::kSoftware, r[6]});
  }
  return theirs;
}

TEST(Syslog, FactsMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally tally("syslog");
  for (const std::string& path : CapturesWith("syslog", {})) {
    if (path.find("malformed/") != std::string::npos) continue;
    const SensorRun run = RunSensor(path);
    tally.Compare(path, TsharkFacts(path, "", run), run.facts);
  }
  // Syslog over TCP 514 (tshark's rsh port): one stream mixing octet counting and newline
  // framing; tshark splits only the newline-framed messages.
  const auto tcp = ::auscult::testing::CapturePath("syslog/tcp-syslog.pcap");
  ASSERT_TRUE(tcp);
  const SensorRun tcp_run = RunSensor(*tcp);
  const auto theirs = TsharkFacts(*tcp, "tcp.port==514,syslog", tcp_run);
  EXPECT_TRUE(theirs.count({"192.168.1.1", Attribute::kHostname, "mymachine"}));
  tally.Compare(*tcp, theirs, tcp_run.facts);
  EXPECT_GT(tally.expected(), 0);
}

const Host kPump = {{0x00, 0x1b, 0x3c, 0x00, 0x00, 0x01}, {10, 30, 0, 11}};
const Host kMonitor = {{0x00, 0x1b, 0x3c, 0x00, 0x00, 0x02}, {10, 30, 0, 12}};
const Host kRelay = {{0x00, 0x1b, 0x3c, 0x00, 0x00, 0x03}, {10, 30, 0, 13}};
const Host kCollector = {{0x00, 0x1b, 0x3c, 0x00, 0x00, 0x09}, {10, 30, 0, 99}};

// Hosts' names and programs, never what they log; a relay's forwarded names are not its own.
TEST(Syslog, HandBuiltCapture) {
  SyntheticCapture c;
  c.Udp(kPump, 40514, kCollector, 514, "<134>Mar  9 04:44:27 pump-icu-3 infusiond[88]: patient Jane Roe MRN 4711\n");
  c.Udp(kMonitor, 40515, kCollector, 514, "<14>1 2024-01-02T03:04:05Z 10.30.0.12 vitals 12 - - Jane Roe HR 80");
  c.Udp(kMonitor, 40515, kCollector, 514, "<14>1 2024-01-02T03:04:06Z - - - - - nil fields");
  c.Udp(kRelay, 40516, kCollector, 514, "<13>Jan  2 10:09:52 relay-1 rsyslogd: start");
  c.Udp(kRelay, 40516, kCollector, 514, "<13>Jan  2 10:09:53 ward7-scale scaled: weight 70kg");
  SyntheticCapture::Tcp tcp(c, kMonitor, 40601, kCollector, 601);
  const std::string counted = "<14>1 2024-01-02T03:04:05Z mon-12 vitals - - -";
  tcp.Send(true, std::to_string(counted.size()) + " " + counted);
  tcp.Send(true, "<14>1 2024-01-02T03:04:07Z mon-12 alarmd - - - SpO2 low\n");
  tcp.Close();
  const std::string path = SyntheticCapturePath("syslog");
  c.Write(path);
  const SensorRun run = RunSensor(path);
  const auto& ours = run.facts;
  const std::string pump = "00:1b:3c:00:00:01", monitor = "00:1b:3c:00:00:02", relay = "00:1b:3c:00:00:03";
  EXPECT_TRUE(ours.count({pump, Attribute::kHostname, "pump-icu-3"}));
  EXPECT_TRUE(ours.count({pump, Attribute::kSoftware, "infusiond"}));
  EXPECT_TRUE(ours.count({monitor, Attribute::kSoftware, "vitals"}));
  EXPECT_TRUE(ours.count({monitor, Attribute::kHostname, "mon-12"}));  // over TCP 601
  EXPECT_TRUE(ours.count({monitor, Attribute::kSoftware, "alarmd"}));
  EXPECT_TRUE(ours.count({"00:1b:3c:00:00:09", Attribute::kService, "syslog-server"}));
  EXPECT_TRUE(ours.count({relay, Attribute::kHostname, "relay-1"}));
  for (const auto& [device, attribute, value] : ours) {
    EXPECT_NE(value, "ward7-scale") << "a relayed name landed on the relay";
    EXPECT_NE(value, "scaled");
    EXPECT_NE(value, "10.30.0.12") << "an address is no host name";
    EXPECT_NE(value, "-");
    for (const char* phi : {"Jane", "Roe", "4711", "weight", "SpO2"}) {
      EXPECT_EQ(value.find(phi), std::string::npos) << "message text leaked: " << value;
    }
  }
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally tally("syslog (hand-built, UDP)");
  auto theirs = TsharkFacts(path, "", run);
  // The relay's second name is tshark's too; it is not the relay's (see syslog_parser.cc).
  theirs.erase({relay, Attribute::kHostname, "ward7-scale"});
  theirs.erase({relay, Attribute::kSoftware, "scaled"});
  EXPECT_EQ(theirs.size(), 5u);
  tally.Compare(path, theirs, ours);
}

TEST(Syslog, Headers) {
  syslog::Message m;
  syslog::Error e;
  ASSERT_TRUE(syslog::Parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", m, e));
  EXPECT_EQ(m.priority, 34);
  EXPECT_EQ(m.version, 0);
  EXPECT_EQ(m.hostname, "mymachine");
  EXPECT_EQ(m.app_name, "su");
  // RFC 5424 §6.5, examples 1 and 3.
  syslog::Message a;
  ASSERT_TRUE(syslog::Parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed", a, e));
  EXPECT_EQ(a.version, 1);
  EXPECT_EQ(a.hostname, "mymachine.example.com");
  EXPECT_EQ(a.app_name, "su");
  syslog::Message b;
  ASSERT_TRUE(
      syslog::Parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
                    "[exampleSDID@32473 iut=\"3\"] An application event",
                    b, e));
  EXPECT_EQ(b.app_name, "evntslog");
  syslog::Message nil;
  ASSERT_TRUE(syslog::Parse("<14>1 - - - - - -", nil, e));
  EXPECT_EQ(nil.version, 1);
  EXPECT_EQ(nil.hostname, "");
  EXPECT_EQ(nil.app_name, "");
  // Zero-padded day, PID in the tag, NUL and newline at the end.
  syslog::Message z;
  ASSERT_TRUE(syslog::Parse(std::string_view("<5>Jan 01 00:01:47 nb6 nbd[12]: x\n\0", 34), z, e));
  EXPECT_EQ(z.hostname, "nb6");
  EXPECT_EQ(z.app_name, "nbd");
  // rsyslog's RFC 3339 timestamp in a BSD header; the token after the name is no tag (no ':').
  syslog::Message r;
  ASSERT_TRUE(syslog::Parse("<13>2013-09-12T19:16:34.457849+04:00 localhost through rsyslog: test", r, e));
  EXPECT_EQ(r.version, 0);
  EXPECT_EQ(r.hostname, "localhost");
  EXPECT_EQ(r.app_name, "");
  // No timestamp: no hostname (RFC 3164 §4.3.2), not even the tag that looks like one.
  for (const char* no_header : {"<30>snmpd[6956]: Connection from UDP", "<189>72: Mar  3 19:57:17.371: %LINK-5-CHANGED",
                                "<134>854 08/20/2013-19:05:23 CONFIG QLA23XX", "<13>Oct 11 22:14:15 su: failed", "<13>",
                                "<13>Oct 11 22:14:15"}) {
    syslog::Message n;
    ASSERT_TRUE(syslog::Parse(no_header, n, e)) << no_header;
    EXPECT_EQ(n.hostname, "") << no_header;
    EXPECT_EQ(n.app_name, "") << no_header;
  }
  for (const char* bad : {"", "hello", "<>x", "<1234>x", "<192>x", "<01>x", "<a>x", "<12", "34>"}) {
    syslog::Message n;
    EXPECT_FALSE(syslog::Parse(bad, n, e)) << bad;
    EXPECT_EQ(e, syslog::Error::kNoPriority);
  }
  EXPECT_TRUE(syslog::IsIpAddress("10.0.0.1"));
  EXPECT_TRUE(syslog::IsIpAddress("fe80::1"));
  EXPECT_FALSE(syslog::IsIpAddress("host-10.0.0.1"));
}

// The TCP stream of the corpus capture, fed whole and a byte at a time: the same four messages.
TEST(Syslog, TcpFraming) {
  auto counted = [](std::string_view m) { return std::to_string(m.size()) + " " + std::string(m); };
  const std::string stream = counted("<13>Oct 11 22:14:15 mymachine su: 'su root' failed ") +
                             "<14>Oct 11 22:14:16 other su: 'su root' failed\n\r\n" +
                             counted("<15>Oct 11 22:14:17 mymachine sshd: 'su bob' failed") +
                             "<16>Oct 11 22:14:18 mymachine cron: 'su bob' failed\n";
  FlowContext flow;
  flow.transport = kIpProtoTcp;
  flow.responder.port = 514;
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(stream.data()), stream.size());
  ASSERT_TRUE(syslog::Factory()->Wants(flow, Direction::kToResponder, bytes));
  for (size_t chunk : {stream.size(), size_t{1}, size_t{7}}) {
    auto parser = syslog::Factory()->Create(flow);
    RecordingOutput out;
    for (size_t i = 0; i < bytes.size(); i += chunk) {
      parser->OnData(Direction::kToResponder, bytes.subspan(i, std::min(chunk, bytes.size() - i)), 0, out);
    }
    EXPECT_EQ(out.application, "syslog");
    // The second message's name makes the stream a relay's: only the first name is taken.
    EXPECT_EQ(out.Values(Party::kSender, Attribute::kHostname), std::vector<std::string>({"mymachine"}));
    EXPECT_EQ(out.Values(Party::kSender, Attribute::kSoftware), std::vector<std::string>({"su"}));
    EXPECT_EQ(out.Values(Party::kReceiver, Attribute::kService).size(), 4u) << "chunk " << chunk;
    EXPECT_TRUE(out.anomalies.empty());
  }
  // Framing that is neither: counted, and the direction given up.
  for (const char* bad : {"12x <13>", "0 <13>", "99999999 <13>", "hello\n"}) {
    auto parser = syslog::Factory()->Create(flow);
    RecordingOutput out;
    const std::string_view b(bad);
    parser->OnData(Direction::kToResponder, std::span(reinterpret_cast<const uint8_t*>(b.data()), b.size()), 0, out);
    EXPECT_EQ(out.anomalies["syslog_bad_framing"], 1u) << bad;
  }
  EXPECT_FALSE(syslog::Factory()->Wants(flow, Direction::kToResponder, std::vector<uint8_t>{'1', '0', '2', '2', 0}));
}

// Real datagrams cut at every length and damaged: a message or a named error, never a crash.
TEST(Syslog, DecoderOnDamagedBytes) {
  std::vector<std::string> payloads = {"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - x"};
  for (const char* name : {"syslog/syslog_udp.pcap", "syslog/syslog.pcap"}) {
    const auto path = ::auscult::testing::CapturePath(name);
    if (!path) continue;
    ::auscult::sensor::testing::ForEachFrame(*path, [&](const RawFrame& f) {
      Decoder d;
      PacketView v;
      if (payloads.size() < 40 && d.Decode(f, v) && v.ip_protocol == kIpProtoUdp && !v.payload.empty()) {
        payloads.emplace_back(reinterpret_cast<const char*>(v.payload.data()), v.payload.size());
      }
    });
  }
  for (const std::string& p : payloads) {
    for (size_t n = 0; n <= std::min<size_t>(p.size(), 200); ++n) {
      syslog::Message m;
      syslog::Error e;
      const bool ok = syslog::Parse(std::string_view(p).substr(0, n), m, e);
      EXPECT_EQ(ok, e == syslog::Error::kNone);
      EXPECT_LE(m.hostname.size(), n);
    }
    for (size_t i = 0; i < std::min<size_t>(p.size(), 80); ++i) {
      for (char damage : {'\0', ' ', '<', '>', '1', '\xff'}) {
        std::string bad = p;
        bad[i] = damage;
        syslog::Message m;
        syslog::Error e;
        const bool ok = syslog::Parse(bad, m, e);
        EXPECT_EQ(ok, e == syslog::Error::kNone);
      }
    }
  }
}

// No corpus capture in malformed/ holds syslog; every file there goes through without a syslog
// anomaly or fact.
TEST(Syslog, MalformedCaptures) {
  for (const std::string& name : ::auscult::testing::SharedCaptureFiles()) {
    if (!name.starts_with("malformed/")) continue;
    const std::string path = ::auscult::testing::SharedCapturesDir() + "/" + name;
    for (const auto& [anomaly, count] : RunSensor(path).anomalies) EXPECT_FALSE(anomaly.starts_with("syslog_")) << name;
  }
}

}  // namespace
}  // namespace auscult::sensor
