// HL7 v2 over MLLP through the whole packet path, against tshark's HL7 dissector on the captures
// that real HL7 software made (tests/data/captures/clinical, made by tests/fixtures/) and on the
// one real public capture (medical/hl7.pcap). tshark frames the messages and splits the segments;
// the test reads MSH, MSA and OBX-18 from tshark's segment text by the standard's field numbering.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "sensor/parsers/hl7/hl7_parser.h"
#include "sensor/parsers/oracle.h"
#include "sensor/parsers/parser_testing.h"

namespace auscult::sensor::hl7 {
namespace {

using ::auscult::sensor::testing::DeviceKeys;
using ::auscult::sensor::testing::EngineRun;
using ::auscult::sensor::testing::FactKey;
using ::auscult::sensor::testing::JsonFirst;
using ::auscult::sensor::testing::JsonLayer;
using ::auscult::sensor::testing::OracleTally;
using ::auscult::sensor::testing::RecordingOutput;
using ::auscult::sensor::testing::RunSensor;
using ::auscult::sensor::testing::SensorRun;
using ::auscult::sensor::testing::TsharkJson;
using ::auscult::testing::HaveTshark;

struct Capture {
  const char* path;
  uint16_t port;  // where tshark is told to look for HL7
};
// hl7_mllp_port.pcap runs on 6700 and medical/hl7.pcap on 6661: the sensor must find HL7 by content.
constexpr Capture kCaptures[] = {
    {"clinical/hl7_mllp.pcap", 2575},
    {"clinical/hl7_mllp_port.pcap", 6700},
    {"medical/hl7.pcap", 6661},
};

// Strings of a JSON value that may be one string or an array of them (merged duplicate keys).
std::vector<std::string> Strings(const google::protobuf::Value& object, const std::string& key) {
  std::vector<std::string> out;
  const auto& fields = object.struct_value().fields();
  const auto it = fields.find(key);
  if (it == fields.end()) return out;
  if (it->second.has_list_value()) {
    for (const auto& v : it->second.list_value().values()) out.push_back(v.string_value());
  } else {
    out.push_back(it->second.string_value());
  }
  return out;
}

std::string Field(const std::string& segment, char separator, size_t n) {
  std::vector<std::string> fields = absl::StrSplit(segment, separator);
  return n < fields.size() ? fields[n] : "";
}

std::string TypeAndTrigger(const std::string& msh9) {
  std::vector<std::string> parts = absl::StrSplit(msh9, '^');
  if (parts.size() < 2 || parts[1].empty()) return parts[0];
  return parts[0] + "^" + parts[1];
}

// The segments that carry patient data, by kind (the fact sheet's list, written out here again so
// that the parser's own table is checked, not reused).
const std::map<std::string, PhiKind> kPatientSegments = {
    {"PID", PhiKind::kDemographics},  {"PD1", PhiKind::kDemographics},  {"NK1", PhiKind::kNextOfKin},
    {"PV1", PhiKind::kVisit},         {"PV2", PhiKind::kVisit},         {"GT1", PhiKind::kInsurance},
    {"IN1", PhiKind::kInsurance},     {"DG1", PhiKind::kDiagnoses},     {"AL1", PhiKind::kDiagnoses},
    {"ORC", PhiKind::kOrdersResults}, {"OBR", PhiKind::kOrdersResults}, {"OBX", PhiKind::kOrdersResults},
};

// What tshark's HL7 dissector sees in a capture, read by the standard's field numbers.
struct Expected {
  std::set<FactKey> facts;
  std::map<std::string, uint64_t> messages;  // "ADT^A01", "ACK AA"
  std::map<PhiKind, uint64_t> phi;           // messages carrying each kind
  uint64_t acks_matched = 0;                 // acknowledgments whose message the capture holds
  uint64_t response_time_sum_us = 0;
};

Expected FromTshark(const std::string& path, uint16_t port, const SensorRun& run) {
  const DeviceKeys key(path);
  Expected e;
  std::map<std::string, double> sent_at;  // MSH-10 -> frame time
  const auto packets =
      TsharkJson(path, "frame eth ip hl7", "hl7", {"-d", "tcp.port==" + std::to_string(port) + ",hl7"});
  for (const auto& packet : packets.list_value().values()) {
    const auto* frame = JsonLayer(packet, "frame");
    const auto* eth = JsonLayer(packet, "eth");
    const auto* ip = JsonLayer(packet, "ip");
    const auto* hl7 = JsonLayer(packet, "hl7");
    if (frame == nullptr || eth == nullptr || ip == nullptr || hl7 == nullptr) continue;
    double time = 0;
    EXPECT_TRUE(absl::SimpleAtod(JsonFirst(*frame, "frame.time_epoch"), &time));
    const std::string sender = run.Device(key, JsonFirst(*eth, "eth.src"), JsonFirst(*ip, "ip.src"));
    const std::string receiver = run.Device(key, JsonFirst(*eth, "eth.dst"), JsonFirst(*ip, "ip.dst"));
    std::vector<std::string> segments = Strings(*hl7, "hl7.segment");
    if (segments.empty() || segments[0].rfind("MSH", 0) != 0 || segments[0].size() < 4) continue;
    for (std::string& s : segments) {
      while (!s.empty() && (s.back() == '\r' || s.back() == '\n')) s.pop_back();
    }
    const char sep = segments[0][3];
    // MSH-n is field n-1 of the split: the separator itself is MSH-1.
    auto msh = [&](size_t n) { return Field(segments[0], sep, n - 1); };
    auto fact = [&](const std::string& device, Attribute a, const std::string& v) {
      if (!v.empty()) e.facts.insert({device, a, v});
    };
    fact(sender, Attribute::kHl7Application, msh(3));
    fact(sender, Attribute::kHl7Facility, msh(4));
    fact(receiver, Attribute::kHl7Application, msh(5));
    fact(receiver, Attribute::kHl7Facility, msh(6));
    fact(sender, Attribute::kHl7MessageType, TypeAndTrigger(msh(9)));
    fact(sender, Attribute::kHl7Version, msh(12));
    std::string ack_code, ack_id;
    std::set<PhiKind> kinds;
    for (size_t i = 1; i < segments.size(); ++i) {
      const std::string name = segments[i].substr(0, 3);
      if (name == "MSA") {
        ack_code = Field(segments[i], sep, 1);
        ack_id = Field(segments[i], sep, 2);
      }
      if (name == "OBX") fact(sender, Attribute::kEquipmentId, Field(segments[i], sep, 18));
      if (const auto it = kPatientSegments.find(name); it != kPatientSegments.end()) kinds.insert(it->second);
    }
    for (PhiKind k : kinds) ++e.phi[k];
    if (!ack_code.empty()) {
      const std::string type = TypeAndTrigger(msh(9));
      ++e.messages[(type.rfind("ACK", 0) == 0 ? std::string("ACK") : type) + " " + ack_code];
      if (const auto it = sent_at.find(ack_id); it != sent_at.end()) {
        ++e.acks_matched;
        e.response_time_sum_us += static_cast<uint64_t>((time - it->second) * 1e6 + 0.5);
        sent_at.erase(it);
      }
    } else {
      ++e.messages[TypeAndTrigger(msh(9))];
      fact(sender, Attribute::kClinicalRole, "hl7-sender");
      fact(receiver, Attribute::kClinicalRole, "hl7-receiver");
      sent_at[msh(10)] = time;
    }
  }
  return e;
}

TEST(Hl7Oracle, FieldsMessagesAndPatientDataMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally tally("hl7");
  for (const Capture& c : kCaptures) {
    const auto path = ::auscult::testing::CapturePath(c.path);
    ASSERT_TRUE(path) << c.path;
    SCOPED_TRACE(c.path);
    const SensorRun run = RunSensor(*path);
    const Expected expected = FromTshark(*path, c.port, run);
    ASSERT_FALSE(expected.messages.empty()) << "tshark found no HL7 in " << c.path;
    tally.Compare(c.path, expected.facts, run.facts);
    // Nothing about HL7 that tshark does not see either (no value read from the wrong field).
    ::auscult::sensor::testing::ExpectNothingBeyond(
        expected.facts, run.facts,
        {Attribute::kHl7Application, Attribute::kHl7Facility, Attribute::kHl7MessageType, Attribute::kHl7Version,
         Attribute::kEquipmentId, Attribute::kClinicalRole});

    // The flows: message and acknowledgment counts, patient-data kinds, response times.
    std::map<std::string, uint64_t> messages;
    std::map<PhiKind, uint64_t> phi;
    uint64_t clinical_flows = 0, hl7_flows = 0, matched = 0, sum_us = 0;
    for (const FlowRecord& f : run.flows) {
      if (f.application != "hl7") continue;
      ++hl7_flows;
      clinical_flows += f.clinical;
      for (int k = 0; k < kPhiKinds; ++k) {
        if (f.phi[k] > 0) phi[static_cast<PhiKind>(k + 1)] += f.phi[k];
      }
      for (const MessageCountRecord& m : f.messages) {
        messages[m.name] += m.count;
        if (m.response_time_sum_us > 0) sum_us += m.response_time_sum_us;
        if (m.name.rfind("ACK ", 0) == 0) matched += m.response_time_sum_us > 0 ? m.count : 0;
      }
    }
    EXPECT_GT(hl7_flows, 0u);
    EXPECT_EQ(clinical_flows, hl7_flows) << "every HL7 flow is clinical";
    EXPECT_EQ(messages, expected.messages);
    EXPECT_EQ(phi, expected.phi);
    EXPECT_EQ(matched, expected.acks_matched);
    // Each response time to within a microsecond of tshark's frame times (rounding).
    EXPECT_NEAR(static_cast<double>(sum_us), static_cast<double>(expected.response_time_sum_us),
                static_cast<double>(expected.acks_matched) + 1);
    std::printf(
        "hl7 %s: %zu facts, %zu message types, %llu acknowledgments matched (%llu us in all), "
        "%zu patient-data kinds; tshark agrees\n",
        c.path, expected.facts.size(), expected.messages.size(), static_cast<unsigned long long>(expected.acks_matched),
        static_cast<unsigned long long>(expected.response_time_sum_us), expected.phi.size());
  }
}

// No value any HL7 fact or message name carries comes from a patient segment.
TEST(Hl7Oracle, NoPatientDataInFacts) {
  for (const Capture& c : kCaptures) {
    const auto path = ::auscult::testing::CapturePath(c.path);
    ASSERT_TRUE(path) << c.path;
    const SensorRun run = RunSensor(*path);
    for (const FactKey& f : run.facts) {
      for (const char* needle : {"SYNTH123", "DOE", "JANE", "19700101", "MOUSE", "MICKEY", "135769"}) {
        EXPECT_EQ(std::get<2>(f).find(needle), std::string::npos) << c.path << ": " << std::get<2>(f);
      }
    }
  }
}

// A synthetic exchange driven straight into the parser, one byte at a time: the same findings as
// in one piece, acknowledgment matched by control id, a negative acknowledgment counted as such.
TEST(Hl7Parser, ByteAtATime) {
  const std::string adt =
      "\x0bMSH|^~\\&|SYNTHADT|SYNTHHOSP|RECVAPP|RECVFAC|20240101120000||ADT^A01^ADT_A01|M1|P|2.5\r"
      "PID|1||SYNTH123||DOE^JANE\rPV1|1|I\r\x1c\r";
  const std::string nak = "\x0bMSH|^~\\&|RECVAPP|RECVFAC|SYNTHADT|SYNTHHOSP|2024||ACK|A1|P|2.5\rMSA|AE|M1\r\x1c\r";
  for (bool bytewise : {false, true}) {
    FlowContext flow;
    flow.transport = kIpProtoTcp;
    flow.responder.port = 5000;
    const auto parser = Factory()->Create(flow);
    RecordingOutput out;
    auto feed = [&](Direction d, const std::string& s, TimeNs t) {
      const auto* p = reinterpret_cast<const uint8_t*>(s.data());
      if (!bytewise) return parser->OnData(d, std::span(p, s.size()), t, out);
      for (size_t i = 0; i < s.size(); ++i) parser->OnData(d, std::span(p + i, 1), t, out);
    };
    feed(Direction::kToResponder, adt, 1'000'000'000);
    feed(Direction::kToInitiator, nak, 1'250'000'000);
    EXPECT_EQ(out.application, "hl7");
    EXPECT_TRUE(out.clinical);
    EXPECT_EQ(out.messages, (std::map<std::string, uint64_t>{{"ADT^A01", 1}, {"ACK AE", 1}}));
    ASSERT_EQ(out.response_times["ACK AE"].size(), 1u);
    EXPECT_EQ(out.response_times["ACK AE"][0], 250'000'000);
    EXPECT_EQ(out.phi, (std::map<PhiKind, uint64_t>{{PhiKind::kDemographics, 1}, {PhiKind::kVisit, 1}}));
    EXPECT_EQ(out.Values(Party::kSender, Attribute::kHl7Application),
              (std::vector<std::string>{"SYNTHADT", "RECVAPP"}));  // the ADT's sender, then the ACK's
    EXPECT_EQ(out.Values(Party::kReceiver, Attribute::kClinicalRole), std::vector<std::string>{"hl7-receiver"});
    EXPECT_TRUE(out.anomalies.empty());
  }
}

// A query response carries an MSA too: it is counted by its own type with the code, timed, and
// is not taken for a message awaiting acknowledgment. A batch's file and batch headers are skipped.
TEST(Hl7Parser, ResponsesAndBatches) {
  FlowContext flow;
  flow.transport = kIpProtoTcp;
  const auto parser = Factory()->Create(flow);
  RecordingOutput out;
  auto feed = [&](Direction d, const std::string& s, TimeNs t) {
    parser->OnData(d, std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()), t, out);
  };
  feed(Direction::kToResponder, "\x0bMSH|^~\\&|LIS|LAB|EMR|HOSP|2024||QBP^Q11^QBP_Q11|Q1|P|2.5\r\x1c\r", 100);
  feed(Direction::kToInitiator, "\x0bMSH|^~\\&|EMR|HOSP|LIS|LAB|2024||RSP^K11^RSP_K11|R1|P|2.5\rMSA|AA|Q1\r\x1c\r",
       300);
  feed(Direction::kToResponder,
       "\x0b"
       "FHS|^~\\&|LIS|LAB\rBHS|^~\\&|LIS|LAB\rMSH|^~\\&|LIS|LAB|EMR|HOSP|2024||ORU^R01|B1|P|2.5\r"
       "PID|1||SYNTH123\rBTS|1\rFTS|1\r\x1c\r",
       400);
  EXPECT_EQ(out.messages, (std::map<std::string, uint64_t>{{"QBP^Q11", 1}, {"RSP^K11 AA", 1}, {"ORU^R01", 1}}));
  EXPECT_EQ(out.response_times["RSP^K11 AA"], std::vector<TimeNs>{200});
  EXPECT_EQ(out.phi, (std::map<PhiKind, uint64_t>{{PhiKind::kDemographics, 1}}));
  EXPECT_TRUE(out.anomalies.empty());
}

TEST(Hl7Parser, WantsByContentOrPort) {
  FlowContext flow;
  flow.transport = kIpProtoTcp;
  flow.initiator.port = 40000;
  flow.responder.port = 7777;
  const std::string mllp = "\x0bMSH|^~\\&|";
  const std::string other = "GET / HTTP/1.1\r\n";
  auto bytes = [](const std::string& s) { return std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
  EXPECT_TRUE(Factory()->Wants(flow, Direction::kToResponder, bytes(mllp)));
  EXPECT_FALSE(Factory()->Wants(flow, Direction::kToResponder, bytes(other)));
  flow.responder.port = 2575;
  EXPECT_TRUE(Factory()->Wants(flow, Direction::kToResponder, bytes("\x0bZZZ")));
  EXPECT_FALSE(Factory()->Wants(flow, Direction::kToResponder, bytes(other)));
  flow.transport = kIpProtoUdp;
  EXPECT_FALSE(Factory()->Wants(flow, Direction::kToResponder, bytes(mllp)));
}

}  // namespace
}  // namespace auscult::sensor::hl7
