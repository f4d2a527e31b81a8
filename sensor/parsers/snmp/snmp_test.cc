// SNMP: agents' system group against tshark on every corpus capture with SNMP and on a hand-built
// one; the BER reader and the message decoder on bytes; the malformed corpus captures.
#include <gtest/gtest.h>

#include <functional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "sensor/decode/decoder.h"
#include "sensor/parsers/oracle.h"
#include "sensor/parsers/parser_testing.h"
#include "sensor/parsers/snmp/ber.h"
#include "sensor/parsers/snmp/snmp_message.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::CapturesWith;
using ::auscult::sensor::testing::DeviceKeys;
using ::auscult::sensor::testing::FactKey;
using ::auscult::sensor::testing::FromTsharkHex;
using ::auscult::sensor::testing::Host;
using ::auscult::sensor::testing::JsonFirst;
using ::auscult::sensor::testing::JsonLayer;
using ::auscult::sensor::testing::OracleTally;
using ::auscult::sensor::testing::RunSensor;
using ::auscult::sensor::testing::SensorRun;
using ::auscult::sensor::testing::SyntheticCapture;
using ::auscult::sensor::testing::SyntheticCapturePath;
using ::auscult::sensor::testing::TsharkJson;
using ::auscult::testing::HaveTshark;
using Bytes = std::vector<uint8_t>;

// ---- building BER by hand ----
Bytes Tlv(uint8_t tag, const Bytes& value) {
  Bytes out = {tag};
  const size_t n = value.size();
  if (n < 0x80) {
    out.push_back(static_cast<uint8_t>(n));
  } else if (n < 0x100) {
    out.insert(out.end(), {0x81, static_cast<uint8_t>(n)});
  } else {
    out.insert(out.end(), {0x82, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)});
  }
  out.insert(out.end(), value.begin(), value.end());
  return out;
}
Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes Int(int64_t v) {
  Bytes b;
  do {
    b.insert(b.begin(), static_cast<uint8_t>(v & 0xff));
    v >>= 8;
  } while (!((v == 0 && !(b[0] & 0x80)) || (v == -1 && (b[0] & 0x80))));
  return Tlv(0x02, b);
}
Bytes Str(std::string_view s) { return Tlv(0x04, Bytes(s.begin(), s.end())); }
Bytes OidContent(std::string_view dotted) {
  std::vector<uint64_t> arcs;
  for (auto part : absl::StrSplit(absl::string_view(dotted.data(), dotted.size()), '.')) {
    uint64_t v = 0;
    EXPECT_TRUE(absl::SimpleAtoi(part, &v)) << dotted;
    arcs.push_back(v);
  }
  std::vector<uint64_t> subs = {arcs[0] * 40 + arcs[1]};
  subs.insert(subs.end(), arcs.begin() + 2, arcs.end());
  Bytes out;
  for (uint64_t s : subs) {
    Bytes group = {static_cast<uint8_t>(s & 0x7f)};
    for (s >>= 7; s != 0; s >>= 7) group.insert(group.begin(), static_cast<uint8_t>(0x80 | (s & 0x7f)));
    out.insert(out.end(), group.begin(), group.end());
  }
  return out;
}
Bytes Oid(std::string_view dotted) { return Tlv(0x06, OidContent(dotted)); }
Bytes Bind(std::string_view oid, const Bytes& value) { return Tlv(0x30, Cat({Oid(oid), value})); }
Bytes Pdu(uint8_t type, const std::vector<Bytes>& binds) {
  Bytes list;
  for (const Bytes& b : binds) list.insert(list.end(), b.begin(), b.end());
  return Tlv(type, Cat({Int(4711), Int(0), Int(0), Tlv(0x30, list)}));
}
Bytes Msg(int version, std::string_view community, const Bytes& pdu) {
  return Tlv(0x30, Cat({Int(version), Str(community), pdu}));
}
Bytes TrapV1(std::string_view community, std::string_view enterprise) {
  const Bytes pdu = Tlv(0xa4, Cat({Oid(enterprise), Tlv(0x40, {10, 1, 2, 3}), Int(6), Int(1), Tlv(0x43, {0x01, 0x00}),
                                   Tlv(0x30, Bind("1.3.6.1.2.1.2.1.0", Int(2)))}));
  return Msg(0, community, pdu);
}
const Bytes kSystemResponse = Msg(
    1, "public",
    Pdu(snmp::kResponse, {Bind("1.3.6.1.2.1.1.1.0", Str("Infusion pump PX-200 fw 4.2.1 ")),
                          Bind("1.3.6.1.2.1.1.2.0", Oid("1.3.6.1.4.1.99999.1.2")),
                          Bind("1.3.6.1.2.1.1.5.0", Str("pump-icu-07")), Bind("1.3.6.1.2.1.1.3.0", Tlv(0x43, {1}))}));

// ---- oracle ----

// (name, value) of every variable binding of a get-response in tshark's tree; octets and OIDs as text.
void Bindings(const google::protobuf::Value& v, std::vector<std::pair<std::string, std::string>>& out) {
  if (v.kind_case() == google::protobuf::Value::kListValue) {
    for (const auto& e : v.list_value().values()) Bindings(e, out);
    return;
  }
  if (v.kind_case() != google::protobuf::Value::kStructValue) return;
  const std::string name = JsonFirst(v, "snmp.name");
  if (!name.empty()) {
    const std::string octets = JsonFirst(v, "snmp.value.octets");
    const std::string oid = JsonFirst(v, "snmp.value.oid");
    out.push_back({name, !octets.empty() ? FromTsharkHex(octets) : oid});
    return;
  }
  for (const auto& [key, child] : v.struct_value().fields()) Bindings(child, out);
}

std::string Trim(std::string s) {
  const char* space = " \t\r\n\f\v";
  s.erase(0, s.find_first_not_of(space));
  s.erase(s.find_last_not_of(space) + 1);
  return s;
}

// sysDescr, sysObjectID and sysName of every get-response, on its sender (the agent), as tshark
// decodes them (v1, v2c, and v3 when the scoped PDU is not encrypted).
std::set<FactKey> TsharkSystemGroup(const std::string& path, const SensorRun& run) {
  const DeviceKeys key(path);
  std::set<FactKey> theirs;
  const auto packets = TsharkJson(path, "eth ip ipv6 snmp", "snmp.data == 2 && !_ws.malformed");
  for (const auto& packet : packets.list_value().values()) {
    const auto* eth = JsonLayer(packet, "eth");
    const auto* ip = JsonLayer(packet, "ip");
    const auto* ipv6 = JsonLayer(packet, "ipv6");
    const auto* snmp = JsonLayer(packet, "snmp");
    if (snmp == nullptr) continue;
    const std::string device = run.Device(key, eth ? JsonFirst(*eth, "eth.src") : "",
                                          ip ? JsonFirst(*ip, "ip.src") : (ipv6 ? JsonFirst(*ipv6, "ipv6.src") : ""));
    std::vector<std::pair<std::string, std::string>> binds;
    Bindings(*snmp, binds);
    for (const auto& [name, raw] : binds) {
      const std::string value = Trim(raw);
      if (value.empty()) continue;
      if (name == "1.3.6.1.2.1.1.1.0") theirs.insert({device, Attribute::kSystemDescription, value});
      if (name == "1.3.6.1.2.1.1.2.0") theirs.insert({device, Attribute::kSnmpObjectId, value});
      if (name == "1.3.6.1.2.1.1.5.0") theirs.insert({device, Attribute::kHostname, value});
    }
  }
  return theirs;
}

TEST(Snmp, FactsMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally tally("snmp");
  for (const std::string& path : CapturesWith("snmp", {})) {
    if (path.find("malformed/") != std::string::npos) continue;
    const SensorRun run = RunSensor(path);
    tally.Compare(path, TsharkSystemGroup(path, run), run.facts);
  }
  if (::auscult::testing::SharedCapturesDir().empty()) GTEST_SKIP() << "no capture corpus beside the clone";
  EXPECT_GT(tally.expected(), 0);
}

const Host kAgent = {{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}, {10, 20, 0, 5}};
const Host kManager = {{0x00, 0x11, 0x22, 0x33, 0x44, 0x66}, {10, 20, 0, 9}};
const Host kPrinter = {{0x00, 0x11, 0x22, 0x33, 0x44, 0x77}, {10, 20, 0, 7}};

// No corpus capture holds sysDescr: a hand-built exchange does, with a v1 trap and a community
// that must not leak.
TEST(Snmp, HandBuiltCaptureMatchesTshark) {
  SyntheticCapture c;
  c.Udp(kManager, 40000, kAgent, 161,
        Msg(1, "public", Pdu(snmp::kGetRequest, {Bind("1.3.6.1.2.1.1.1.0", Tlv(0x05, {}))})));
  c.Udp(kAgent, 161, kManager, 40000, kSystemResponse);
  c.Udp(kManager, 40001, kPrinter, 161,
        Msg(1, "Hosp1tal-RW", Pdu(snmp::kGetRequest, {Bind("1.3.6.1.2.1.1.5.0", Tlv(0x05, {}))})));
  c.Udp(kPrinter, 161, kManager, 40001,
        Msg(1, "Hosp1tal-RW", Pdu(snmp::kResponse, {Bind("1.3.6.1.2.1.1.5.0", Str("ward3-printer"))})));
  c.Udp(kPrinter, 1025, kManager, 162, TrapV1("Hosp1tal-RW", "1.3.6.1.4.1.11.2.3.9.1"));
  const std::string path = SyntheticCapturePath("snmp");
  c.Write(path);
  const SensorRun run = RunSensor(path);
  const auto& ours = run.facts;
  const std::string agent = "00:11:22:33:44:55", printer = "00:11:22:33:44:77", manager = "00:11:22:33:44:66";
  EXPECT_TRUE(ours.count({agent, Attribute::kSystemDescription, "Infusion pump PX-200 fw 4.2.1"}));
  EXPECT_TRUE(ours.count({agent, Attribute::kSnmpObjectId, "1.3.6.1.4.1.99999.1.2"}));
  EXPECT_TRUE(ours.count({agent, Attribute::kHostname, "pump-icu-07"}));
  EXPECT_TRUE(ours.count({agent, Attribute::kService, "snmp-agent"}));
  EXPECT_TRUE(ours.count({agent, Attribute::kRisk, "snmp_default_community"}));
  EXPECT_TRUE(ours.count({printer, Attribute::kHostname, "ward3-printer"}));
  EXPECT_TRUE(ours.count({printer, Attribute::kSnmpObjectId, "1.3.6.1.4.1.11.2.3.9.1"}));
  EXPECT_FALSE(ours.count({printer, Attribute::kRisk, "snmp_default_community"}));
  for (const auto& [device, attribute, value] : ours) {
    EXPECT_NE(device, manager) << "the manager is no agent: " << value;
    EXPECT_EQ(value.find("Hosp1tal"), std::string::npos) << "a community string leaked";
    EXPECT_EQ(value.find("public"), std::string::npos) << "a community string leaked";
  }
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally tally("snmp (hand-built)");
  const auto theirs = TsharkSystemGroup(path, run);
  EXPECT_EQ(theirs.size(), 4u);
  tally.Compare(path, theirs, ours);
}

// ---- decoder ----

TEST(Snmp, BerOids) {
  std::string dotted;
  ASSERT_TRUE(snmp::ber::DecodeOid(OidContent("1.3.6.1.2.1.1.1.0"), dotted));
  EXPECT_EQ(dotted, "1.3.6.1.2.1.1.1.0");
  // X = 2 takes every first value from 80 up (X.690 §8.19.4): 2.999 is 1079 = 0x88 0x37.
  ASSERT_TRUE(snmp::ber::DecodeOid(Bytes{0x88, 0x37, 0x03}, dotted));
  EXPECT_EQ(dotted, "2.999.3");
  ASSERT_TRUE(snmp::ber::DecodeOid(Bytes{0x00}, dotted));
  EXPECT_EQ(dotted, "0.0");
  // The largest 64-bit arc, and one bit more.
  ASSERT_TRUE(snmp::ber::DecodeOid(Bytes{0x2b, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, dotted));
  EXPECT_EQ(dotted, "1.3.18446744073709551615");
  EXPECT_FALSE(snmp::ber::DecodeOid(Bytes{0x2b, 0x83, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, dotted));
  EXPECT_FALSE(snmp::ber::DecodeOid(Bytes{}, dotted));
  EXPECT_FALSE(snmp::ber::DecodeOid(Bytes{0x2b, 0x86}, dotted));  // the last arc never ends
  Bytes many = {0x2b};
  for (int i = 0; i < 126; ++i) many.push_back(1);
  ASSERT_TRUE(snmp::ber::DecodeOid(many, dotted));  // 128 arcs
  many.push_back(1);
  EXPECT_FALSE(snmp::ber::DecodeOid(many, dotted));
}

TEST(Snmp, BerLengthsAndIntegers) {
  // Long-form lengths are read; the indefinite form and more than 4 length bytes are refused.
  Bytes long_form = {0x04, 0x82, 0x00, 0x03, 'a', 'b', 'c'};
  snmp::ber::Reader r(long_form);
  std::span<const uint8_t> s;
  ASSERT_TRUE(r.OctetString(s));
  EXPECT_EQ(s.size(), 3u);
  EXPECT_TRUE(r.AtEnd());
  for (const Bytes& bad : {Bytes{0x30, 0x80, 0x00, 0x00}, Bytes{0x30, 0x85, 0, 0, 0, 0, 1, 0}}) {
    snmp::ber::Reader b(bad);
    snmp::ber::Tlv t;
    EXPECT_FALSE(b.Next(t));
    EXPECT_EQ(b.error(), snmp::ber::Error::kBadLength);
  }
  const Bytes past_end = {0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 'a'};
  snmp::ber::Reader past(past_end);
  snmp::ber::Tlv t;
  EXPECT_FALSE(past.Next(t));
  EXPECT_EQ(past.error(), snmp::ber::Error::kTruncated);
  const Bytes high_tag = {0x1f, 0x81, 0x01, 0x00};
  snmp::ber::Reader high(high_tag);
  EXPECT_FALSE(high.Next(t));
  EXPECT_EQ(high.error(), snmp::ber::Error::kBadTag);
  int64_t v = 0;
  ASSERT_TRUE(snmp::ber::DecodeInteger(Bytes{0xff, 0x7f}, v));
  EXPECT_EQ(v, -129);
  ASSERT_TRUE(snmp::ber::DecodeInteger(Bytes{0x00, 0xff}, v));
  EXPECT_EQ(v, 255);
  EXPECT_FALSE(snmp::ber::DecodeInteger(Bytes{}, v));
  EXPECT_FALSE(snmp::ber::DecodeInteger(Bytes(9, 1), v));
}

TEST(Snmp, Messages) {
  snmp::Message m;
  snmp::Error e;
  ASSERT_TRUE(snmp::Parse(kSystemResponse, m, e)) << snmp::ErrorName(e);
  EXPECT_EQ(m.version, 1);
  EXPECT_TRUE(m.default_community);
  EXPECT_EQ(m.pdu_type, snmp::kResponse);
  ASSERT_EQ(m.bindings.size(), 4u);
  EXPECT_EQ(m.bindings[0].value, "Infusion pump PX-200 fw 4.2.1 ");
  EXPECT_EQ(m.bindings[1].value, "1.3.6.1.4.1.99999.1.2");
  EXPECT_EQ(m.bindings[3].value_tag, 0x43);

  snmp::Message trap;
  ASSERT_TRUE(snmp::Parse(TrapV1("private", "1.3.6.1.4.1.9.1.516"), trap, e)) << snmp::ErrorName(e);
  EXPECT_EQ(trap.pdu_type, snmp::kTrapV1);
  EXPECT_EQ(trap.enterprise, "1.3.6.1.4.1.9.1.516");
  EXPECT_TRUE(trap.default_community);
  snmp::Message other;
  ASSERT_TRUE(snmp::Parse(TrapV1("publicity", "1.3.6.1.4.1.9"), other, e));
  EXPECT_FALSE(other.default_community);

  // v3: a plaintext scoped PDU is read; an encrypted one is a message without a PDU.
  const Bytes global = Tlv(0x30, Cat({Int(1), Int(1500), Str(std::string(1, '\x03')), Int(3)}));
  const Bytes encrypted = Tlv(0x30, Cat({Int(3), global, Str("usm-params"), Str("ciphertext")}));
  snmp::Message v3;
  ASSERT_TRUE(snmp::Parse(encrypted, v3, e)) << snmp::ErrorName(e);
  EXPECT_EQ(v3.version, 3);
  EXPECT_FALSE(v3.has_pdu);
  const Bytes plain =
      Tlv(0x30, Cat({Int(3), global, Str("usm-params"),
                     Tlv(0x30, Cat({Str("engine"), Str(""),
                                    Pdu(snmp::kResponse, {Bind("1.3.6.1.2.1.1.5.0", Str("router-1"))})}))}));
  snmp::Message v3p;
  ASSERT_TRUE(snmp::Parse(plain, v3p, e)) << snmp::ErrorName(e);
  ASSERT_EQ(v3p.bindings.size(), 1u);
  EXPECT_EQ(v3p.bindings[0].value, "router-1");

  // More bindings than are kept: the message still parses.
  std::vector<Bytes> binds(snmp::kMaxBindings + 3, Bind("1.3.6.1.2.1.1.3.0", Tlv(0x43, {1})));
  snmp::Message big;
  ASSERT_TRUE(snmp::Parse(Msg(1, "x", Pdu(snmp::kResponse, binds)), big, e)) << snmp::ErrorName(e);
  EXPECT_EQ(big.bindings.size(), snmp::kMaxBindings);

  struct Bad {
    Bytes bytes;
    snmp::Error error;
  };
  for (const auto& [bytes, error] : std::vector<Bad>{
           {Tlv(0x30, Cat({Int(2), Str("public"), Pdu(snmp::kResponse, {})})), snmp::Error::kBadVersion},
           {Msg(1, "public", Pdu(0xaf, {})), snmp::Error::kBadPdu},
           {Msg(1, "public", Tlv(0xa2, Cat({Int(1), Int(0), Tlv(0x30, {})}))), snmp::Error::kBadTag},
           {Msg(1, "public", Pdu(snmp::kResponse, {Tlv(0x30, Cat({Tlv(0x06, {0x2b, 0x86}), Tlv(0x05, {})}))})),
            snmp::Error::kBadOid},
           {Tlv(0x30, Cat({Tlv(0x02, {}), Str("public")})), snmp::Error::kBadInteger},
           {Bytes{0x30, 0x10, 0x02, 0x01}, snmp::Error::kTruncated},
       }) {
    snmp::Message b;
    EXPECT_FALSE(snmp::Parse(bytes, b, e));
    EXPECT_EQ(e, error) << snmp::ErrorName(e);
  }
}

// Real messages from the corpus (and the hand-built ones), cut at every length and with every byte
// damaged: a named error or a sane message, never a read out of bounds.
TEST(Snmp, DecoderOnDamagedBytes) {
  std::vector<Bytes> payloads = {kSystemResponse, TrapV1("public", "1.3.6.1.4.1.9.1.516")};
  for (const char* name : {"snmp/snmpv1_get.pcap", "snmp/snmpv1_trap.pcap", "snmp/snmpv3_get_next.pcap"}) {
    const auto path = ::auscult::testing::CapturePath(name);
    if (!path) continue;
    ::auscult::sensor::testing::ForEachFrame(*path, [&](const RawFrame& f) {
      Decoder d;
      PacketView v;
      if (payloads.size() < 12 && d.Decode(f, v) && v.ip_protocol == kIpProtoUdp) {
        payloads.emplace_back(v.payload.begin(), v.payload.end());
      }
    });
  }
  for (const Bytes& payload : payloads) {
    snmp::Message m;
    snmp::Error e;
    ASSERT_TRUE(snmp::Parse(payload, m, e)) << snmp::ErrorName(e);
    for (size_t n = 0; n < payload.size(); ++n) {
      const Bytes cut(payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(n));
      snmp::Message c;
      EXPECT_FALSE(snmp::Parse(cut, c, e)) << "cut at " << n;
      EXPECT_NE(e, snmp::Error::kNone);
    }
    for (size_t i = 0; i < payload.size(); ++i) {
      for (uint8_t damage : {0x00, 0x7f, 0x80, 0x84, 0xff}) {
        Bytes bad = payload;
        bad[i] = damage;
        snmp::Message b;
        const bool ok = snmp::Parse(bad, b, e);
        EXPECT_EQ(ok, e == snmp::Error::kNone);
        EXPECT_LE(b.bindings.size(), snmp::kMaxBindings);
      }
    }
  }
}

// The fuzzer-found capture (a truncated v3 request behind a bogus UDP length) goes through the
// whole path; nothing is claimed from it, and v3 is never counted as malformed.
TEST(Snmp, MalformedCaptures) {
  const auto path = ::auscult::testing::CapturePath("malformed/snmp-heapoverflow-1.pcap");
  if (!path) GTEST_SKIP() << "no capture corpus beside the clone";
  const SensorRun run = RunSensor(*path);
  for (const auto& [device, attribute, value] : run.facts) {
    EXPECT_NE(attribute, Attribute::kService) << device << " " << value;
  }
  for (const auto& [name, count] : run.anomalies) {
    EXPECT_FALSE(name.starts_with("snmp_")) << name << " " << count;
  }
}

}  // namespace
}  // namespace auscult::sensor
