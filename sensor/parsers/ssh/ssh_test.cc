// SSH: identification strings against tshark on the corpus capture with SSH (which starts
// mid-session and holds none) and on hand-built connections; the line reader on bytes.
#include <gtest/gtest.h>

#include "sensor/parsers/oracle.h"
#include "sensor/parsers/parser_testing.h"
#include "sensor/parsers/ssh/ssh_message.h"
#include "sensor/parsers/ssh/ssh_parser.h"

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

const Host kWorkstation = {{0x00, 0x1b, 0x3c, 0x00, 0x02, 0x01}, {10, 50, 0, 11}};
const Host kPacs = {{0x00, 0x1b, 0x3c, 0x00, 0x02, 0x02}, {10, 50, 0, 2}};
const Host kGateway = {{0x00, 0x1b, 0x3c, 0x00, 0x02, 0x03}, {10, 50, 0, 3}};
const Host kScope = {{0x00, 0x1b, 0x3c, 0x00, 0x02, 0x04}, {10, 50, 0, 4}};
const std::string kPacsMac = "00:1b:3c:00:02:02", kWorkstationMac = "00:1b:3c:00:02:01";
const std::string kGatewayMac = "00:1b:3c:00:02:03", kScopeMac = "00:1b:3c:00:02:04";

// Binary packet protocol after the strings (RFC 4253 §6): | length (4) | padding length | ... |.
const std::string kKexInit("\x00\x00\x01\x2c\x0a\x14\x8e\x21\x00\x00\x0d\x0a\x00\x00", 14);

std::string HandBuiltCapture() {
  SyntheticCapture c;
  {  // The server speaks first; the client's string comes in two segments.
    SyntheticCapture::Tcp t(c, kWorkstation, 50022, kPacs, 22);
    t.Send(false, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
    t.Send(true, "SSH-2.0-PuTTY_");
    t.Send(true, "Release_0.78\r\n");
    t.Send(true, kKexInit);
    t.Send(false, kKexInit);
    t.Close();
  }
  {  // Lines before the server's string (RFC 4253 §4.2), a string ended by LF alone.
    SyntheticCapture::Tcp t(c, kWorkstation, 50023, kGateway, 22);
    t.Send(false, "Authorised access only.\r\nRadiology gateway\r\n");
    t.Send(false, "SSH-1.99-Cisco-1.25\n");
    t.Send(true, "SSH-2.0-libssh_0.10.4\r\n");
    t.Close();
  }
  {  // Another port: recognised by content; the client speaks first.
    SyntheticCapture::Tcp t(c, kWorkstation, 50024, kScope, 2222);
    t.Send(true, "SSH-2.0-Go\r\n");
    t.Send(false, "SSH-2.0-dropbear_2022.83\r\n");
    t.Close();
  }
  {  // Mid-session (the capture began after the strings): not taken, nothing counted.
    SyntheticCapture::Tcp t(c, kWorkstation, 50025, kPacs, 22);
    t.Send(true, kKexInit);
    t.Send(false, kKexInit);
    t.Close();
  }
  const std::string path = SyntheticCapturePath("ssh");
  c.Write(path);
  return path;
}

// Every identification string tshark shows, on its sender: the server's as server software, the
// client's as software. tshark's ssh.direction is 1 from the server.
std::set<FactKey> TsharkSsh(const std::string& path, const SensorRun& run) {
  const DeviceKeys key(path);
  std::set<FactKey> theirs;
  for (const auto& r : TsharkFields(path, {"eth.src", "ip.src", "ipv6.src", "ssh.protocol", "ssh.direction"},
                                    "ssh.protocol && !_ws.malformed")) {
    const std::string device = run.Device(key, r[0], r[1].empty() ? r[2] : r[1]);
    const bool from_server = r[4] == "1" || r[4] == "True";
    theirs.insert({device, from_server ? Attribute::kServerSoftware : Attribute::kSoftware, r[3]});
  }
  return theirs;
}

TEST(Ssh, FactsMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally tally("ssh");
  for (const std::string& path : CapturesWith("ssh", {})) {
    if (path.find("malformed/") != std::string::npos) continue;
    const SensorRun run = RunSensor(path);
    tally.Compare(path, TsharkSsh(path, run), run.facts);
    for (const auto& [name, count] : run.anomalies) EXPECT_FALSE(name.starts_with("ssh_")) << path << " " << name;
  }
  // No corpus capture holds an identification string: the hand-built one does. tshark checks
  // three of its six: port 2222 is not SSH to it, and it takes a client string split over two
  // segments for an encrypted packet (HandBuiltCapture checks all six).
  const std::string path = HandBuiltCapture();
  const SensorRun run = RunSensor(path);
  const auto theirs = TsharkSsh(path, run);
  EXPECT_EQ(theirs.size(), 3u);
  EXPECT_TRUE(theirs.count({kPacsMac, Attribute::kServerSoftware, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"}));
  tally.Compare(path, theirs, run.facts);
}

TEST(Ssh, HandBuiltCapture) {
  const SensorRun run = RunSensor(HandBuiltCapture());
  const std::set<FactKey> expected = {
      {kPacsMac, Attribute::kServerSoftware, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"},
      {kPacsMac, Attribute::kService, "ssh-server"},
      {kWorkstationMac, Attribute::kSoftware, "SSH-2.0-PuTTY_Release_0.78"},
      {kGatewayMac, Attribute::kServerSoftware, "SSH-1.99-Cisco-1.25"},
      {kGatewayMac, Attribute::kService, "ssh-server"},
      {kWorkstationMac, Attribute::kSoftware, "SSH-2.0-libssh_0.10.4"},
      {kScopeMac, Attribute::kServerSoftware, "SSH-2.0-dropbear_2022.83"},
      {kScopeMac, Attribute::kService, "ssh-server"},
      {kWorkstationMac, Attribute::kSoftware, "SSH-2.0-Go"},
  };
  std::set<FactKey> ssh;
  for (const FactKey& f : run.facts) {
    if (std::get<2>(f).starts_with("SSH-") || std::get<2>(f) == "ssh-server") ssh.insert(f);
  }
  EXPECT_EQ(ssh, expected);
  EXPECT_TRUE(run.anomalies.empty());
}

TEST(Ssh, IdentificationStrings) {
  ssh::Identification id;
  ssh::Error e;
  ASSERT_TRUE(ssh::ParseIdentification("SSH-2.0-billsSSH_3.6.3q3\r", id, e));  // RFC 4253 §4.2's example
  EXPECT_EQ(id.line, "SSH-2.0-billsSSH_3.6.3q3");
  EXPECT_EQ(id.protocol_version, "2.0");
  EXPECT_EQ(id.software_version, "billsSSH_3.6.3q3");
  EXPECT_EQ(id.comments, "");
  ASSERT_TRUE(ssh::ParseIdentification("SSH-1.99-OpenSSH_3.9p1 FreeBSD-20060930 ", id, e));
  EXPECT_EQ(id.line, "SSH-1.99-OpenSSH_3.9p1 FreeBSD-20060930");
  EXPECT_EQ(id.protocol_version, "1.99");
  EXPECT_EQ(id.comments, "FreeBSD-20060930 ");
  // 253 bytes and CR LF: the longest there may be.
  const std::string longest = "SSH-2.0-" + std::string(245, 'x');
  ASSERT_TRUE(ssh::ParseIdentification(longest, id, e));
  EXPECT_FALSE(ssh::ParseIdentification(longest + "x", id, e));
  EXPECT_EQ(e, ssh::Error::kTooLong);
  EXPECT_FALSE(ssh::ParseIdentification("Welcome", id, e));
  EXPECT_EQ(e, ssh::Error::kNotIdentification);
  for (std::string_view bad : {std::string_view("SSH-2.0-"), std::string_view("SSH--OpenSSH"),
                               std::string_view("SSH-2.0"), std::string_view("SSH-two-OpenSSH"),
                               std::string_view("SSH-2.0-Open\0SSH", 16), std::string_view("SSH-2.0- comment")}) {
    EXPECT_FALSE(ssh::ParseIdentification(bad, id, e)) << bad;
    EXPECT_EQ(e, ssh::Error::kMalformed) << bad;
  }
}

// A connection fed a byte at a time and whole: the same facts; lines without end, too many lines
// before the string, and broken strings are counted once and end the direction.
TEST(Ssh, LineReader) {
  FlowContext flow;
  flow.transport = kIpProtoTcp;
  flow.responder.port = 22;
  const std::string server = "Notice\r\nSSH-2.0-OpenSSH_8.4\r\n" + kKexInit;
  const std::string client = "SSH-2.0-OpenSSH_9.6\r\n" + kKexInit;
  auto span = [](const std::string& s) { return std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
  for (size_t chunk : {size_t{1}, size_t{5}, server.size()}) {
    auto parser = ssh::Factory()->Create(flow);
    RecordingOutput out;
    for (size_t i = 0; i < server.size(); i += chunk) {
      parser->OnData(Direction::kToInitiator, span(server).subspan(i, std::min(chunk, server.size() - i)), 0, out);
    }
    EXPECT_FALSE(parser->Done());
    parser->OnData(Direction::kToResponder, span(client), 0, out);
    EXPECT_TRUE(parser->Done());
    EXPECT_EQ(out.application, "ssh");
    EXPECT_EQ(out.Values(Party::kSender, Attribute::kServerSoftware), std::vector<std::string>{"SSH-2.0-OpenSSH_8.4"});
    EXPECT_EQ(out.Values(Party::kSender, Attribute::kSoftware), std::vector<std::string>{"SSH-2.0-OpenSSH_9.6"});
    EXPECT_TRUE(out.anomalies.empty());
  }
  std::string many;
  for (int i = 0; i < 17; ++i) many += "line\r\n";
  for (const auto& [stream, anomaly] : std::vector<std::pair<std::string, std::string>>{
           {std::string(2000, 'a'), "ssh_no_identification"},
           {"SSH-2.0-" + std::string(2000, 'a'), "ssh_identification_too_long"},
           {"SSH-2.0-" + std::string(300, 'a') + "\r\n", "ssh_identification_too_long"},
           {many + "SSH-2.0-late\r\n", "ssh_no_identification"},
           {"SSH-2.0-\r\n", "ssh_bad_identification"},
       }) {
    auto parser = ssh::Factory()->Create(flow);
    RecordingOutput out;
    parser->OnData(Direction::kToInitiator, span(stream), 0, out);
    parser->OnData(Direction::kToInitiator, span(client), 0, out);  // after the end: ignored
    EXPECT_EQ(out.anomalies, (std::map<std::string, uint64_t>{{anomaly, 1}})) << stream.substr(0, 40);
    EXPECT_TRUE(out.facts.empty());
  }
  // A hole before the string: the direction is given up without a word.
  auto parser = ssh::Factory()->Create(flow);
  RecordingOutput out;
  parser->OnGap(Direction::kToInitiator, 100, out);
  parser->OnGap(Direction::kToResponder, 100, out);
  EXPECT_TRUE(parser->Done());
  EXPECT_TRUE(out.anomalies.empty());
  // Which flows are offered: "SSH-" on any port; text on 22; not binary on 22, nor UDP.
  EXPECT_TRUE(ssh::Factory()->Wants(flow, Direction::kToInitiator, span(server)));
  EXPECT_FALSE(ssh::Factory()->Wants(flow, Direction::kToInitiator, span(kKexInit)));
  flow.responder.port = 8022;
  EXPECT_TRUE(ssh::Factory()->Wants(flow, Direction::kToResponder, span(client)));
  EXPECT_FALSE(ssh::Factory()->Wants(flow, Direction::kToInitiator, span(server)));
  flow.transport = kIpProtoUdp;
  EXPECT_FALSE(ssh::Factory()->Wants(flow, Direction::kToResponder, span(client)));
}

// Strings cut at every length and damaged: parsed or refused by name, never out of bounds.
TEST(Ssh, DecoderOnDamagedBytes) {
  for (const std::string line : {"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", "SSH-1.99-Cisco-1.25"}) {
    for (size_t n = 0; n <= line.size(); ++n) {
      ssh::Identification id;
      ssh::Error e;
      const bool ok = ssh::ParseIdentification(std::string_view(line).substr(0, n), id, e);
      EXPECT_EQ(ok, e == ssh::Error::kNone);
      if (ok) {
        EXPECT_LE(id.line.size(), n);
      }
      for (char damage : {'\0', '-', ' ', '\r', '\xff'}) {
        std::string bad(line.substr(0, n));
        if (n > 0) bad[n / 2] = damage;
        const bool damaged_ok = ssh::ParseIdentification(bad, id, e);
        EXPECT_EQ(damaged_ok, e == ssh::Error::kNone);
      }
    }
  }
}

// No capture in malformed/ holds SSH; none makes the parser count anything.
TEST(Ssh, MalformedCaptures) {
  for (const std::string& name : ::auscult::testing::SharedCaptureFiles()) {
    if (!name.starts_with("malformed/")) continue;
    const SensorRun run = RunSensor(::auscult::testing::SharedCapturesDir() + "/" + name);
    for (const auto& [anomaly, count] : run.anomalies) EXPECT_FALSE(anomaly.starts_with("ssh_")) << name;
  }
}

}  // namespace
}  // namespace auscult::sensor
