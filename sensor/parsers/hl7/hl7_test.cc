// HL7 v2 over MLLP on bytes: MSH/MSA/OBX-18, patient-data segments counted and never read, the
// MLLP deframer at every split of a real exchange. (Not yet registered: the flow parser, the tshark
// oracle on medical/hl7.pcap and the fixtures from real HL7 software come next, see issue 5.)
#include "sensor/parsers/hl7/hl7_message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace auscult::sensor::hl7 {
namespace {

// Synthetic patient data only: DOE^JANE, SYNTH123.
const std::string kAdt =
    "MSH|^~\\&|SYNTHADT|SYNTHHOSP|RECVAPP|RECVFAC|20240101120000||ADT^A01^ADT_A01|MSG00001|P|2.5\r"
    "EVN|A01|20240101120000\r"
    "PID|1||SYNTH123||DOE^JANE||19700101|F\r"
    "NK1|1|DOE^JOHN|SPO\r"
    "PV1|1|I|WARD1^101^A\r";
const std::string kOru =
    "MSH|^~\\&|0012345678ABCDEF^EUI-64|SYNTHICU|EMR|SYNTHHOSP|20240101120500||ORU^R01^ORU_R01|MSG00002|P|2.6\r"
    "PID|1||SYNTH123||DOE^JANE\r"
    "OBR|1|||69837^MDC_DEV_METER_PHYSIO_MULTI_PARAM_MDS^MDC\r"
    "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456|97|262688^MDC_DIM_PERCENT^MDC|||||F|||20240101120500||||"
    "0012345678ABCDEF^^0012345678ABCDEF^EUI-64\r";
const std::string kAck = "MSH|^~\\&|RECVAPP|RECVFAC|SYNTHADT|SYNTHHOSP|20240101120001||ACK|ACK1|P|2.3\rMSA|AA|MSG00001";

std::vector<uint8_t> Framed(const std::string& message, bool with_cr = true) {
  // Byte by byte: GCC 12 warns falsely (-Warray-bounds) on a range insert into a one-byte vector.
  std::vector<uint8_t> out;
  out.reserve(message.size() + 3);
  out.push_back(kStartBlock);
  for (char c : message) out.push_back(static_cast<uint8_t>(c));
  out.push_back(kEndBlock);
  if (with_cr) out.push_back(kCarriageReturn);
  return out;
}

TEST(Hl7Message, MshFieldsAndPatientSegments) {
  Message m;
  Error e;
  ASSERT_TRUE(Parse(kAdt, m, e)) << ErrorName(e);
  EXPECT_EQ(m.field_separator, '|');
  EXPECT_EQ(m.encoding, "^~\\&");
  EXPECT_EQ(m.sending_application, "SYNTHADT");
  EXPECT_EQ(m.sending_facility, "SYNTHHOSP");
  EXPECT_EQ(m.receiving_application, "RECVAPP");
  EXPECT_EQ(m.receiving_facility, "RECVFAC");
  EXPECT_EQ(m.message_type, "ADT^A01");
  EXPECT_EQ(m.control_id, "MSG00001");
  EXPECT_EQ(m.processing_id, "P");
  EXPECT_EQ(m.version, "2.5");
  EXPECT_EQ(m.segments, 5u);
  EXPECT_EQ(m.phi_segments[PhiIndex(PhiKind::kDemographics)], 1u);
  EXPECT_EQ(m.phi_segments[PhiIndex(PhiKind::kNextOfKin)], 1u);
  EXPECT_EQ(m.phi_segments[PhiIndex(PhiKind::kVisit)], 1u);
  EXPECT_TRUE(m.equipment.empty());
}

// Nothing the parser hands out points into a patient-data segment.
TEST(Hl7Message, NoValueComesFromPatientSegments) {
  for (const std::string& text : {kAdt, kOru}) {
    Message m;
    Error e;
    ASSERT_TRUE(Parse(text, m, e));
    std::vector<std::string_view> values = {m.sending_application, m.sending_facility, m.receiving_application,
                                            m.receiving_facility,  m.message_type,     m.control_id,
                                            m.processing_id,       m.version,          m.ack_code,
                                            m.ack_control_id};
    values.insert(values.end(), m.equipment.begin(), m.equipment.end());
    for (std::string_view v : values) {
      EXPECT_EQ(v.find("SYNTH123"), std::string_view::npos) << v;
      EXPECT_EQ(v.find("DOE"), std::string_view::npos) << v;
    }
  }
}

TEST(Hl7Message, DeviceObservationsNameTheirEquipment) {
  Message m;
  Error e;
  ASSERT_TRUE(Parse(kOru, m, e));
  EXPECT_EQ(m.sending_application, "0012345678ABCDEF^EUI-64");
  EXPECT_EQ(m.message_type, "ORU^R01");
  EXPECT_EQ(m.version, "2.6");
  ASSERT_EQ(m.equipment.size(), 1u);
  EXPECT_EQ(m.equipment[0], "0012345678ABCDEF^^0012345678ABCDEF^EUI-64");
  EXPECT_EQ(m.phi_segments[PhiIndex(PhiKind::kOrdersResults)], 2u);  // OBR, OBX
}

TEST(Hl7Message, Acknowledgments) {
  Message m;
  Error e;
  ASSERT_TRUE(Parse(kAck, m, e));  // no CR after the last segment, as many senders do
  EXPECT_EQ(m.message_type, "ACK");
  EXPECT_EQ(m.ack_code, "AA");
  EXPECT_EQ(m.ack_control_id, "MSG00001");
  ASSERT_TRUE(Parse("MSH|^~\\&|A|B|C|D|1||ACK^A01^ACK|X|P|2.5\nMSA|AE|MSG9\n", m, e));  // LF line ends
  EXPECT_EQ(m.message_type, "ACK^A01");
  EXPECT_EQ(m.ack_code, "AE");
  EXPECT_EQ(m.ack_control_id, "MSG9");
}

TEST(Hl7Message, OtherSeparators) {
  Message m;
  Error e;
  ASSERT_TRUE(Parse("MSH#$~\\&#APP#FAC#R#RF#2024##ORU$R01#1#P#2.4\r", m, e));
  EXPECT_EQ(m.field_separator, '#');
  EXPECT_EQ(m.sending_application, "APP");
  EXPECT_EQ(m.message_type, "ORU$R01");
}

TEST(Hl7Message, Refused) {
  Message m;
  Error e;
  for (const std::string bad : {"", "PID|1||SYNTH123", "MSH", "MSH|", "MSH||", "MSHA^~\\&", "MSH\r"}) {
    EXPECT_FALSE(Parse(bad, m, e)) << bad;
    EXPECT_NE(e, Error::kNone);
  }
}

// Every prefix of every message parses or is refused, never reads past it.
TEST(Hl7Message, EveryTruncation) {
  for (const std::string& text : {kAdt, kOru, kAck}) {
    for (size_t n = 0; n <= text.size(); ++n) {
      const std::string cut = text.substr(0, n);  // a copy, so a read past it is caught by ASan
      Message m;
      Error e;
      const bool ok = Parse(cut, m, e);
      EXPECT_EQ(ok, e == Error::kNone);
    }
  }
}

TEST(Hl7Deframer, MessagesAtEverySplit) {
  std::vector<uint8_t> stream;
  for (const std::string& m : {kAdt, kAck, kOru}) {
    const auto f = Framed(m, /*with_cr=*/m != kAck);  // one sender omits the final CR
    stream.insert(stream.end(), f.begin(), f.end());
  }
  for (size_t split = 0; split <= stream.size(); ++split) {
    Deframer d(1 << 20);
    std::vector<std::string> got;
    auto collect = [&](std::string_view m, bool truncated) {
      EXPECT_FALSE(truncated);
      got.emplace_back(m);
    };
    d.Feed(std::span(stream).first(split), collect);
    d.Feed(std::span(stream).subspan(split), collect);
    ASSERT_EQ(got.size(), 3u) << split;
    EXPECT_EQ(got[0], kAdt);
    EXPECT_EQ(got[1], kAck);
    EXPECT_EQ(got[2], kOru);
    EXPECT_EQ(d.stray_bytes(), 0u);
  }
}

TEST(Hl7Deframer, StrayOversizedAndAbandoned) {
  Deframer d(64);
  std::vector<std::string> got;
  std::vector<bool> cut;
  auto collect = [&](std::string_view m, bool truncated) {
    got.emplace_back(m);
    cut.push_back(truncated);
  };
  const std::string junk = "hello";
  d.Feed(std::span(reinterpret_cast<const uint8_t*>(junk.data()), junk.size()), collect);
  EXPECT_EQ(d.stray_bytes(), 5u);
  d.Feed(Framed(kAdt), collect);  // longer than 64 bytes: its first 64 bytes, marked truncated
  EXPECT_EQ(d.oversized(), 1u);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], kAdt.substr(0, 64));
  EXPECT_TRUE(cut[0]);
  d.Feed(Framed("MSH|^~\\&|A|B\r"), collect);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(cut[1]);
  // A gap abandons the message under way; the next frame is read.
  const auto f = Framed("MSH|^~\\&|C|D\r");
  d.Feed(std::span(f).first(6), collect);
  d.Gap();
  EXPECT_EQ(d.abandoned(), 1u);
  d.Feed(f, collect);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2], "MSH|^~\\&|C|D\r");
  // A start block inside a message means the sender began again.
  std::vector<uint8_t> restart = {kStartBlock, 'M', 'S', 'H'};
  const auto g = Framed("MSH|^~\\&|E|F\r");
  restart.insert(restart.end(), g.begin(), g.end());
  d.Feed(restart, collect);
  EXPECT_EQ(d.abandoned(), 2u);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[3], "MSH|^~\\&|E|F\r");
}

TEST(Hl7Message, LooksLikeMllp) {
  EXPECT_TRUE(LooksLikeMllp(Framed(kAdt)));
  const std::string plain = "MSH|^~\\&|";
  EXPECT_FALSE(LooksLikeMllp(std::span(reinterpret_cast<const uint8_t*>(plain.data()), plain.size())));
  EXPECT_FALSE(LooksLikeMllp(std::vector<uint8_t>{kStartBlock, 'M', 'S'}));
}

}  // namespace
}  // namespace auscult::sensor::hl7
