// POCT1-A on hand-built messages in the form the POCT01-A2 vendor interface documents show (no
// public capture of it exists): the hello's device identity, message counting, patient results
// counted and never read, every split of the stream, and the whole packet path on a synthetic
// connection to a site-chosen port.
#include "sensor/parsers/poct1a/poct1a_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "sensor/parsers/parser_testing.h"

namespace auscult::sensor::poct1a {
namespace {

using ::auscult::sensor::testing::Host;
using ::auscult::sensor::testing::RecordingOutput;
using ::auscult::sensor::testing::SyntheticCapture;
using ::auscult::sensor::testing::SyntheticCapturePath;

const std::string kHello =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
    "<HEL.R01>\r\n"
    "  <HDR><HDR.control_id V=\"1001\"/><HDR.version_id V=\"POCT1\"/></HDR>\r\n"
    "  <DEV>\r\n"
    "    <DEV.device_id V=\"00:0B:2A:01:02:03\"/>\r\n"
    "    <DEV.vendor_id V=\"SYNTHVENDOR\"/>\r\n"
    "    <DEV.model_id V=\"GlucoSynth 2\"/>\r\n"
    "    <DEV.serial_id V=\"SN-77001\"/>\r\n"
    "    <DEV.manufacturer_name V=\"Synth Diagnostics\"/>\r\n"
    "    <DEV.sw_version V=\"3.4.1\"/>\r\n"
    "  </DEV>\r\n"
    "</HEL.R01>\r\n";
const std::string kAck = "<ACK.R01><HDR><HDR.control_id V=\"2001\"/></HDR><ACK.type_cd V=\"AA\"/></ACK.R01>";
// Synthetic patient only.
const std::string kObservation =
    "<OBS.R01><HDR><HDR.control_id V=\"1002\"/></HDR><SVC><PT><PT.patient_id V=\"SYNTH123\"/>"
    "<PT.name V=\"DOE^JANE\"/><OBS><OBS.observation_id V=\"GLU\"/><OBS.value V=\"5.4\"/></OBS></PT></SVC></OBS.R01>";

std::span<const uint8_t> Bytes(const std::string& s) {
  return std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST(Poct1a, RootTypeAndValues) {
  EXPECT_EQ(RootType("<HEL.R01>"), "HEL.R01");
  EXPECT_EQ(RootType("<OBS.R02 xmlns=\"x\">"), "OBS.R02");
  EXPECT_EQ(RootType("<HEL.R01"), "");
  EXPECT_EQ(RootType("<hel.r01>"), "");
  EXPECT_EQ(RootType("<HDR.control_id V=\"1\"/>"), "");
  EXPECT_EQ(ValueOf(kHello, "DEV.serial_id"), "SN-77001");
  EXPECT_EQ(ValueOf(kHello, "DEV.model_id"), "GlucoSynth 2");
  EXPECT_EQ(ValueOf("<A.b XV=\"no\" V='yes'/>", "A.b"), "yes");
  EXPECT_EQ(ValueOf("<A.bc V=\"no\"/><A.b V=\"yes\"/>", "A.b"), "yes");
  EXPECT_EQ(ValueOf("<A.b V=\"cut", "A.b"), "");
  EXPECT_EQ(ValueOf(kHello, "DEV.nothing"), "");
  EXPECT_TRUE(LooksLikePoct1a(Bytes(kHello)));
  EXPECT_TRUE(LooksLikePoct1a(Bytes(kObservation)));
  EXPECT_FALSE(LooksLikePoct1a(Bytes(std::string("<?xml version=\"1.0\"?><html>"))));
  EXPECT_FALSE(LooksLikePoct1a(Bytes(std::string("GET / HTTP/1.1\r\n"))));
}

// The same findings whether the stream comes in one piece or is cut anywhere.
TEST(Poct1a, DeviceIdentityAtEverySplit) {
  const std::string device = kHello + kObservation + "<EOT.R01><HDR/></EOT.R01>";
  for (size_t split = 0; split <= device.size(); split += 7) {
    FlowContext flow;
    flow.transport = kIpProtoTcp;
    const auto parser = Factory()->Create(flow);
    RecordingOutput out;
    parser->OnData(Direction::kToResponder, Bytes(device).first(split), 1, out);
    parser->OnData(Direction::kToResponder, Bytes(device).subspan(split), 2, out);
    parser->OnData(Direction::kToInitiator, Bytes(kAck), 3, out);
    EXPECT_EQ(out.application, "poct1a");
    EXPECT_TRUE(out.clinical);
    EXPECT_EQ(out.messages,
              (std::map<std::string, uint64_t>{{"HEL.R01", 1}, {"OBS.R01", 1}, {"EOT.R01", 1}, {"ACK.R01", 1}}))
        << split;
    EXPECT_EQ(out.phi, (std::map<PhiKind, uint64_t>{{PhiKind::kOrdersResults, 1}, {PhiKind::kDemographics, 1}}));
    EXPECT_EQ(out.Values(Party::kSender, Attribute::kSerialNumber), std::vector<std::string>{"SN-77001"});
    EXPECT_EQ(out.Values(Party::kSender, Attribute::kModel), std::vector<std::string>{"GlucoSynth 2"});
    EXPECT_EQ(out.Values(Party::kSender, Attribute::kVendor),
              (std::vector<std::string>{"Synth Diagnostics", "SYNTHVENDOR"}));
    EXPECT_EQ(out.Values(Party::kSender, Attribute::kSoftwareVersion), std::vector<std::string>{"3.4.1"});
    EXPECT_EQ(out.Values(Party::kSender, Attribute::kEquipmentId), std::vector<std::string>{"00:0B:2A:01:02:03"});
    EXPECT_EQ(out.Values(Party::kReceiver, Attribute::kClinicalRole), std::vector<std::string>{"poct-data-manager"});
    for (const auto& f : out.facts) {
      EXPECT_EQ(f.value.find("SYNTH123"), std::string::npos);
      EXPECT_EQ(f.value.find("DOE"), std::string::npos);
    }
  }
}

TEST(Poct1a, OversizedMessageSkippedThenReadingGoesOn) {
  FlowContext flow;
  flow.transport = kIpProtoTcp;
  const auto parser = Factory()->Create(flow);
  RecordingOutput out;
  const std::string big = "<OBS.R01>" + std::string(100 * 1024, 'x');
  parser->OnData(Direction::kToResponder, Bytes(big), 1, out);
  parser->OnData(Direction::kToResponder, Bytes(std::string("yy</OBS.R01>") + kHello), 2, out);
  EXPECT_EQ(out.anomalies["poct1a_message_too_long"], 1u);
  EXPECT_EQ(out.messages, (std::map<std::string, uint64_t>{{"HEL.R01", 1}}));
}

// One byte at a time, with a long run of '<' that starts no root: the message is still found (the
// search resumes where it stopped rather than starting over, so this is linear).
TEST(Poct1a, OneByteSegmentsAndStrayAngles) {
  FlowContext flow;
  flow.transport = kIpProtoTcp;
  const auto parser = Factory()->Create(flow);
  RecordingOutput out;
  const std::string stream = std::string(3000, '<') + kHello + "<HEL.R01>" + std::string(30000, '<') + "</HEL.R01>";
  for (char c : stream) parser->OnData(Direction::kToResponder, Bytes(std::string(1, c)), 1, out);
  EXPECT_EQ(out.messages, (std::map<std::string, uint64_t>{{"HEL.R01", 2}}));
  EXPECT_EQ(out.Values(Party::kSender, Attribute::kSerialNumber), std::vector<std::string>{"SN-77001"});
}

// Through the whole packet path: a device connecting to its data manager on a site-chosen port.
TEST(Poct1a, ThroughTheEngine) {
  const Host meter{{0x00, 0x0b, 0x2a, 0x01, 0x02, 0x03}, {10, 1, 0, 20}};
  const Host manager{{0x02, 0x00, 0x00, 0x00, 0x00, 0x09}, {10, 1, 0, 9}};
  SyntheticCapture capture;
  SyntheticCapture::Tcp c(capture, meter, 49800, manager, 7001);
  c.Send(true, kHello);
  c.Send(false, kAck);
  c.Send(true, kObservation);
  c.Close();
  const std::string path = SyntheticCapturePath("poct1a");
  capture.Write(path);
  EngineOptions options;
  options.flows.parsers = Parsers();
  ::auscult::sensor::testing::EngineRun run;
  ::auscult::sensor::testing::RunEngine(path, options, nullptr, run);
  ASSERT_EQ(run.sink.flows.size(), 1u);
  const FlowRecord& f = run.sink.flows[0];
  EXPECT_EQ(f.application, "poct1a");
  EXPECT_TRUE(f.clinical);
  EXPECT_EQ(f.phi[static_cast<int>(PhiKind::kOrdersResults) - 1], 1u);
  bool serial = false;
  for (const DeviceRecord& d : run.sink.devices) {
    for (const FactRecord& fact : d.facts) {
      if (fact.attribute == Attribute::kSerialNumber && fact.value == "SN-77001") {
        serial = d.mac.ToString() == "00:0b:2a:01:02:03";
      }
    }
  }
  EXPECT_TRUE(serial) << "the meter's serial number is on the meter";
}

}  // namespace
}  // namespace auscult::sensor::poct1a
