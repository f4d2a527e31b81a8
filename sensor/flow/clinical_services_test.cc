// The clinical services file: the shipped one loads and says what the fact sheet says; each kind
// of bad line is refused with its line named; flows to its ports are named and tagged, weak lines
// only when nothing else names the flow and only while no parser renames it.
#include "sensor/flow/clinical_services.h"

#include <gtest/gtest.h>
#include <pcap/dlt.h>

#include "absl/strings/match.h"
#include "sensor/decode/decoder.h"
#include "sensor/flow/flow_table.h"
#include "sensor/flow/service_ports.h"
#include "sensor/parsers/parser_testing.h"
#include "sensor/testing.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::Host;
using ::auscult::sensor::testing::RecordingSink;
using ::auscult::sensor::testing::SyntheticCapture;
using ::auscult::sensor::testing::SyntheticCapturePath;

TEST(ClinicalServices, ShippedFileLoads) {
  const std::string path = DefaultClinicalServicesPath();
  ASSERT_FALSE(path.empty());
  auto table = ClinicalServices::Load(path);
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_NE(ShippedClinicalServices(), nullptr);
  struct Expected {
    uint8_t transport;
    uint16_t port;
    const char* application;
    bool clinical, weak, encrypted;
  };
  for (const Expected& e : std::vector<Expected>{
           {kIpProtoTcp, 2575, "hl7", true, false, false},
           {kIpProtoTcp, 104, "dicom", true, false, false},
           {kIpProtoTcp, 11112, "dicom", true, false, false},
           {kIpProtoTcp, 2762, "dicom-tls", true, false, true},
           {kIpProtoUdp, 24005, "intellivue-data-export", true, false, false},
           {kIpProtoUdp, 24105, "intellivue-data-export", true, false, false},
           {kIpProtoUdp, 2000, "carescape-time-sync", true, true, false},
           {kIpProtoUdp, 7000, "carescape-heartbeat", true, true, false},
           {kIpProtoTcp, 5000, "hospira-pca", true, true, false},
       }) {
    const ClinicalService* s = (*table)->Find(e.transport, e.port);
    ASSERT_NE(s, nullptr) << e.port;
    EXPECT_EQ(s->application, e.application) << e.port;
    EXPECT_EQ(s->clinical, e.clinical) << e.port;
    EXPECT_EQ(s->weak, e.weak) << e.port;
    EXPECT_EQ(s->encrypted, e.encrypted) << e.port;
    EXPECT_EQ(ApplicationName(s->application_id), e.application);
    // Every line says where it comes from.
    EXPECT_TRUE(absl::StrContains(s->description, "[S")) << s->description;
  }
  EXPECT_EQ((*table)->Find(kIpProtoUdp, 2575), nullptr);  // transports are apart
  EXPECT_EQ((*table)->Find(kIpProtoTcp, 80), nullptr);
  EXPECT_EQ((*table)->Find(kIpProtoIcmp, 2575), nullptr);
}

TEST(ClinicalServices, RangesAndOptions) {
  auto table = ClinicalServices::Parse(
      "# a comment\n\n"
      "  tcp 6000-6002  vendor-x.gw_1  no  -  gateway [site]\n"
      "udp\t65535\tlast-port\tyes\tweak,encrypted\tthe last port, tab-separated  \n",
      "test.txt");
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ((*table)->services().size(), 2u);
  for (uint16_t port : {6000, 6001, 6002}) {
    const ClinicalService* s = (*table)->Find(kIpProtoTcp, port);
    ASSERT_NE(s, nullptr) << port;
    EXPECT_EQ(s->application, "vendor-x.gw_1");
    EXPECT_FALSE(s->clinical);
    EXPECT_EQ(s->line, 3);
  }
  EXPECT_EQ((*table)->Find(kIpProtoTcp, 5999), nullptr);
  EXPECT_EQ((*table)->Find(kIpProtoTcp, 6003), nullptr);
  const ClinicalService* last = (*table)->Find(kIpProtoUdp, 65535);
  ASSERT_NE(last, nullptr);
  EXPECT_TRUE(last->clinical && last->weak && last->encrypted);
  EXPECT_EQ(last->description, "the last port, tab-separated");
  EXPECT_EQ(last->first_port, 65535);
  EXPECT_EQ(last->last_port, 65535);
  // A name read from a file outlives the file's text.
  std::string text = "tcp 7001 transient-name yes - x\n";
  auto t2 = ClinicalServices::Parse(text, "t2");
  ASSERT_TRUE(t2.ok());
  const std::string_view name = (*t2)->Find(kIpProtoTcp, 7001)->application;
  text.assign(text.size(), 'z');
  t2->reset();
  EXPECT_EQ(name, "transient-name");
}

TEST(ClinicalServices, BadLinesAreNamed) {
  for (const auto& [line, reason] : std::vector<std::pair<std::string, std::string>>{
           {"tcp 2575 hl7 yes -", "expected TRANSPORT PORTS APPLICATION CLINICAL OPTIONS DESCRIPTION"},
           {"sctp 2575 hl7 yes - x", "TRANSPORT must be tcp or udp"},
           {"TCP 2575 hl7 yes - x", "TRANSPORT must be tcp or udp"},
           {"tcp 0 hl7 yes - x", "PORTS must be"},
           {"tcp 65536 hl7 yes - x", "PORTS must be"},
           {"tcp http hl7 yes - x", "PORTS must be"},
           {"tcp 10-5 x yes - x", "a <= b"},
           {"tcp 10- x yes - x", "a <= b"},
           {"tcp 10-20-30 x yes - x", "a <= b"},
           {"tcp 2575 HL7 yes - x", "APPLICATION must be"},
           {"tcp 2575 -hl7 yes - x", "APPLICATION must be"},
           {"tcp 2575 " + std::string(33, 'a') + " yes - x", "APPLICATION must be"},
           {"tcp 2575 hl7 maybe - x", "CLINICAL must be yes or no"},
           {"tcp 2575 hl7 yes strong x", "OPTIONS must be"},
           {"tcp 2575 hl7 yes weak, x", "OPTIONS must be"},
           {"tcp 2575 hl7 yes - x\nudp 2575 hl7 yes - x\ntcp 2570-2580 other yes - x",
            "tcp port 2575 is already on line 2"},
       }) {
    const std::string text = "# header\n" + line + "\n";
    auto table = ClinicalServices::Parse(text, "/etc/auscult/clinical.txt");
    ASSERT_FALSE(table.ok()) << line;
    const std::string message(table.status().message());
    EXPECT_TRUE(absl::StrContains(message, "/etc/auscult/clinical.txt:")) << message;
    EXPECT_TRUE(absl::StrContains(message, reason)) << line << " -> " << message;
  }
  auto overlap =
      ClinicalServices::Parse("tcp 2575 hl7 yes - x\nudp 2575 hl7 yes - x\ntcp 2570-2580 other yes - x\n", "f");
  ASSERT_FALSE(overlap.ok());
  EXPECT_TRUE(absl::StartsWith(overlap.status().message(), "f:3: ")) << overlap.status();
  // Too many names for the one byte a flow keeps.
  std::string many;
  for (int i = 0; i < 101; ++i) many += "tcp " + std::to_string(40000 + i) + " app" + std::to_string(i) + " no - x\n";
  auto too_many = ClinicalServices::Parse(many, "many");
  ASSERT_FALSE(too_many.ok());
  EXPECT_TRUE(absl::StrContains(too_many.status().message(), "many:101: more than 100 application names"))
      << too_many.status();
  EXPECT_TRUE(absl::IsNotFound(ClinicalServices::Load("/nonexistent/clinical.txt").status()));
}

// ---- flows ----

const Host kMonitor{{0x00, 0x09, 0xfb, 0x00, 0x00, 0x01}, {10, 1, 0, 10}};  // Philips Patient Monitoring OUI
const Host kGateway{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}, {10, 1, 0, 20}};

std::vector<FlowRecord> RunFlows(const SyntheticCapture& capture, const std::string& name,
                                 const ClinicalServices* table) {
  const std::string path = SyntheticCapturePath(name);
  capture.Write(path);
  EngineOptions options;
  options.flows.parsers = Parsers();
  options.flows.clinical_services = table;
  ::auscult::sensor::testing::EngineRun run;
  ::auscult::sensor::testing::RunEngine(path, options, nullptr, run);
  return run.sink.flows;
}

const FlowRecord* FlowTo(const std::vector<FlowRecord>& flows, uint16_t port) {
  for (const FlowRecord& f : flows) {
    if (f.responder.port == port) return &f;
  }
  return nullptr;
}

// IntelliVue Data Export: a UDP 24105 flow, whichever side spoke first, is the monitor's protocol
// and clinical.
TEST(ClinicalServices, IntelliVueFlowIsClinical) {
  const ClinicalServices* table = ShippedClinicalServices();
  ASSERT_NE(table, nullptr);
  SyntheticCapture capture;
  const std::vector<uint8_t> association = {0x0d, 0xec, 0x05, 0x08, 0x13, 0x01, 0x00, 0x16};
  capture.Udp(kGateway, 50123, kMonitor, 24105, association);
  capture.Udp(kMonitor, 24105, kGateway, 50123, std::vector<uint8_t>{0x0e, 0x00});
  capture.Udp(kMonitor, 24105, kGateway, 50999, std::vector<uint8_t>{0xe1, 0x00});  // the monitor speaks first
  const auto flows = RunFlows(capture, "intellivue", table);
  ASSERT_EQ(flows.size(), 2u);
  for (const FlowRecord& f : flows) {
    EXPECT_EQ(f.responder.port, 24105) << "the monitor's port is the service, whoever spoke first";
    EXPECT_EQ(f.application, "intellivue-data-export");
    EXPECT_TRUE(f.clinical);
    EXPECT_FALSE(f.encrypted);
  }
  // Without the table: no name, not clinical.
  for (const FlowRecord& f : RunFlows(capture, "intellivue-bare", nullptr)) {
    EXPECT_EQ(f.application, "");
    EXPECT_FALSE(f.clinical);
  }
}

// DICOM over TLS: named, clinical and encrypted by its line, whatever a parser calls it later.
TEST(ClinicalServices, StrongLinesTagFlows) {
  SyntheticCapture capture;
  SyntheticCapture::Tcp tls(capture, kGateway, 40000, kMonitor, 2762);
  tls.Send(true, std::string("\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00", 10));
  SyntheticCapture::Tcp hl7(capture, kGateway, 40001, kMonitor, 2575);
  hl7.Send(true, "\x0bMSH|^~\\&|A|B|C|D|20240101||ACK|1|P|2.5\r\x1c\r");
  const auto flows = RunFlows(capture, "strong", ShippedClinicalServices());
  const FlowRecord* dicom_tls = FlowTo(flows, 2762);
  ASSERT_NE(dicom_tls, nullptr);
  EXPECT_TRUE(dicom_tls->clinical);
  EXPECT_TRUE(dicom_tls->encrypted);
  const FlowRecord* mllp = FlowTo(flows, 2575);
  ASSERT_NE(mllp, nullptr);
  EXPECT_EQ(mllp->application, "hl7");
  EXPECT_TRUE(mllp->clinical);
}

// A client whose ephemeral port happens to be a clinical one (older stacks use 1025-5000) talking
// to an ordinary service: the responder's port names the flow, and it is not clinical.
TEST(ClinicalServices, InitiatorPortDoesNotOutrankTheService) {
  SyntheticCapture capture;
  SyntheticCapture::Tcp web(capture, kGateway, 2762, kMonitor, 443);
  web.Send(true, std::string("\x17\x03\x03\x00\x01\x00", 6));
  SyntheticCapture::Tcp dns(capture, kGateway, 4242, kMonitor, 53);
  dns.Send(true, std::string("\x00\x01\x00", 3));
  const auto flows = RunFlows(capture, "ephemeral", ShippedClinicalServices());
  for (uint16_t port : {443, 53}) {
    const FlowRecord* f = FlowTo(flows, port);
    ASSERT_NE(f, nullptr) << port;
    EXPECT_NE(f->application, "dicom-tls") << port;
    EXPECT_NE(f->application, "dicom") << port;
    EXPECT_FALSE(f->clinical) << port;
    EXPECT_FALSE(f->encrypted) << port;
  }
}

// A weak line names a flow nothing else names, and tags it while no parser says otherwise: plain
// HTTP on TCP 5000 is not the pump's service; a silent TCP 5000 flow and GE's UDP 2000 broadcast are.
TEST(ClinicalServices, WeakLinesYield) {
  SyntheticCapture capture;
  SyntheticCapture::Tcp web(capture, kGateway, 41000, kMonitor, 5000);
  web.Send(true, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  web.Send(false, "HTTP/1.1 204 No Content\r\n\r\n");
  SyntheticCapture::Tcp pump(capture, kGateway, 41001, kMonitor, 5000);
  pump.Send(true, std::string("\x00\x01\x02\x03", 4));
  capture.Udp(kMonitor, 2000, Host{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {10, 1, 255, 255}}, 2000,
              std::string_view("unit|room"));
  // UDP 2000 on the built-in table would win over a weak line; here its peer is DNS.
  capture.Udp(kGateway, 2000, kMonitor, 53, std::vector<uint8_t>{0x12, 0x34});
  const auto flows = RunFlows(capture, "weak", ShippedClinicalServices());
  int seen = 0;
  for (const FlowRecord& f : flows) {
    if (f.initiator.port == 41000) {
      ++seen;
      EXPECT_EQ(f.application, "http");
      EXPECT_FALSE(f.clinical);
    } else if (f.initiator.port == 41001) {
      ++seen;
      EXPECT_EQ(f.application, "hospira-pca");
      EXPECT_TRUE(f.clinical);
    } else if (f.responder.port == 53) {
      ++seen;
      EXPECT_EQ(f.application, "dns");
      EXPECT_FALSE(f.clinical);
    } else if (f.initiator.port == 2000) {
      ++seen;
      EXPECT_EQ(f.application, "carescape-time-sync");
      EXPECT_TRUE(f.clinical);
    }
  }
  EXPECT_EQ(seen, 4);
}

}  // namespace
}  // namespace auscult::sensor
