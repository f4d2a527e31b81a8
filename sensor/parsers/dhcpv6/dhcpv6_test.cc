// DHCPv6: facts against tshark on every corpus capture with DHCPv6, leases as address bindings,
// and the decoder on built, real, cut and damaged messages.
#include "sensor/parsers/dhcpv6/dhcpv6_message.h"
#include "sensor/parsers/dhcpv6/dhcpv6_parser.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/str_split.h"
#include "sensor/parsers/oracle.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::CapturesWith;
using ::auscult::sensor::testing::DeviceKeys;
using ::auscult::sensor::testing::FactKey;
using ::auscult::sensor::testing::FactsOf;
using ::auscult::sensor::testing::OracleTally;
using ::auscult::testing::CapturePath;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::TsharkAllFields;

const std::vector<std::string> kBundled = {"dhcpv6/dhcpv6-ia-na.pcap", "dhcpv6/dhcp6_outlease_acquisition.pcapng"};

bool Malformed(const std::string& path) { return path.find("malformed/") != std::string::npos; }

std::vector<std::string> Split(const std::string& s) {
  if (s.empty()) return {};
  return absl::StrSplit(s, '\x1e');
}

// What a client says of itself (DUID, vendor class, FQDN, option request list) on the client, and
// that a server is one, on the server. Only messages sent directly: through a relay the sender is
// the relay (the corpus has none).
TEST(Dhcpv6, FactsMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally tally("dhcpv6");
  for (const std::string& path : CapturesWith("dhcpv6", kBundled)) {
    if (Malformed(path)) continue;
    const DeviceKeys key(path);
    std::set<FactKey> theirs;
    for (const auto& r :
         TsharkAllFields(path,
                         {"eth.src", "ip.src", "ipv6.src", "dhcpv6.msgtype", "dhcpv6.option.type", "dhcpv6.duid.bytes",
                          "dhcpv6.vendorclass.enterprise", "dhcpv6.vendorclass.data", "dhcpv6.client_domain",
                          "dhcpv6.requested_option_code"},
                         "dhcpv6 && !_ws.malformed", '\x1e')) {
      const std::string device = key(r[0], r[1].empty() ? r[2] : r[1]);
      const std::vector<std::string> types = Split(r[3]);
      if (types.empty()) continue;
      const int type = std::stoi(types[0]);
      if (type == 2 || type == 7) theirs.insert({device, Attribute::kService, "dhcpv6-server"});
      if (!dhcpv6::IsClientMessage(static_cast<uint8_t>(type))) continue;
      // DUIDs come in the order of options 1 and 2; the client's is option 1's.
      const std::vector<std::string> duids = Split(r[5]);
      size_t next_duid = 0;
      for (const std::string& option : Split(r[4])) {
        if (option != "1" && option != "2") continue;
        if (option == "1" && next_duid < duids.size())
          theirs.insert({device, Attribute::kDhcpClientId, duids[next_duid]});
        ++next_duid;
      }
      const std::vector<std::string> enterprises = Split(r[6]);
      for (const std::string& data : Split(r[7])) {
        ASSERT_EQ(enterprises.size(), 1u) << "one vendor class option per message in the corpus";
        theirs.insert({device, Attribute::kDhcpVendorClass, "enterprise " + enterprises[0] + ": " + data});
      }
      for (const std::string& fqdn : Split(r[8])) theirs.insert({device, Attribute::kFqdn, fqdn});
      std::string oro = r[9];
      std::replace(oro.begin(), oro.end(), '\x1e', ',');
      if (!oro.empty()) theirs.insert({device, Attribute::kDhcpFingerprint, oro});
    }
    tally.Compare(path, theirs, FactsOf(path));
  }
  EXPECT_GT(tally.expected(), 0);
}

// A REPLY's IA addresses land on the client: the frame's receiver (a DUID-UUID names no MAC).
TEST(Dhcpv6, RepliesBindAddresses) {
  struct Case {
    const char* capture;
    const char* client;
    const char* address;
  };
  for (const Case& c :
       {Case{"dhcpv6/dhcp6_outlease_acquisition.pcapng", "00:0c:29:5e:77:44", "2001:db8:1:2::1002"},
        Case{"dhcpv6/dhcpv6-ia-na.pcap", "00:01:02:03:04:05", "2a00:1:1:200:38e6:b22e:c440:acdf"},
        Case{"dhcpv6/dhcpv6-rfc6355-duid-uuid.pcap", "48:5b:39:e7:14:84", "2a02:2788:7c8:4dd:4a5b:39ff:fee7:1484"}}) {
    const auto path = CapturePath(c.capture);
    if (!path) GTEST_SKIP() << c.capture << " is not here";
    EngineOptions options;
    options.flows.parsers = Parsers();
    ::auscult::sensor::testing::EngineRun run;
    ::auscult::sensor::testing::RunEngine(*path, options, nullptr, run);
    bool bound = false;
    for (const DeviceRecord& d : run.sink.devices) {
      for (const AddressRecord& a : d.addresses) {
        if (a.ip.ToString() == c.address && a.source == AddressSource::kDhcp) {
          EXPECT_EQ(d.mac.ToString(), c.client) << c.capture;
          bound = true;
        }
      }
    }
    EXPECT_TRUE(bound) << c.capture << ": " << c.address << " not bound by DHCPv6";
  }
}

// Cisco IOS XR's SOLICIT: a vendor class (tshark decodes it, but flags the frame for its user
// class, which carries the text without the RFC 8415 item length; the oracle skips the frame).
TEST(Dhcpv6, VendorAndUnframedUserClass) {
  const auto path = CapturePath("dhcpv6/dhcpv6.pcap");
  if (!path) GTEST_SKIP() << "dhcpv6/dhcpv6.pcap is not here";
  const auto facts = FactsOf(*path);
  EXPECT_TRUE(facts.count({"80:e0:1d:00:fc:ea", Attribute::kDhcpVendorClass,
                           "enterprise 9: PXEClient:Arch:00009:UNDI:003010:PID:NCS-5508"}));
  EXPECT_TRUE(facts.count({"80:e0:1d:00:fc:ea", Attribute::kDhcpUserClass, "exr-config"}));
  EXPECT_TRUE(facts.count({"80:e0:1d:00:fc:ea", Attribute::kDhcpClientId, "000200000009464745313934373134515300"}));
  EXPECT_TRUE(facts.count({"80:e0:1d:00:fc:ea", Attribute::kDhcpFingerprint, "23,24,243,242,59,242,39"}));
  EXPECT_TRUE(facts.count({"00:0c:29:70:3d:d8", Attribute::kService, "dhcpv6-server"}));
}

std::vector<uint8_t> Option(uint16_t code, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> o = {static_cast<uint8_t>(code >> 8), static_cast<uint8_t>(code),
                            static_cast<uint8_t>(data.size() >> 8), static_cast<uint8_t>(data.size())};
  o.insert(o.end(), data.begin(), data.end());
  return o;
}

std::vector<uint8_t> Cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A REQUEST with every option the decoder reads, built as RFC 8415 §21 and RFC 4704 lay them out.
std::vector<uint8_t> Request() {
  const std::vector<uint8_t> duid_llt = {0, 1, 0, 1, 0x1d, 0xef, 0x69, 0xbd, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
  const std::vector<uint8_t> ia_addr = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,    0,    0, 0, 0,    0,
                                        0,    0,    0x10, 0x02, 0, 0, 0x0e, 0x10, 0, 0, 0x1c, 0x20};
  return Cat({{3, 0x12, 0x34, 0x56},
              Option(1, duid_llt),
              Option(6, {0, 23, 0, 24, 0, 39}),
              Option(3, Cat({{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, Option(5, ia_addr)})),
              Option(15, {0, 4, 'w', 'a', 'r', 'd', 0, 3, 'i', 'c', 'u'}),
              Option(16, {0, 0, 0x01, 0x37, 0, 8, 'M', 'S', 'F', 'T', ' ', '5', '.', '0', 0, 3, 'a', 'b', 'c'}),
              Option(39, {0x01, 4, 'p', 'u', 'm', 'p', 3, 'i', 'c', 'u', 0})});
}

TEST(Dhcpv6, DecodesEveryOption) {
  dhcpv6::Message m;
  dhcpv6::Error e;
  ASSERT_TRUE(dhcpv6::Parse(Request(), m, e)) << dhcpv6::ErrorName(e);
  EXPECT_EQ(m.type, 3);
  EXPECT_EQ(m.relay_depth, 0);
  EXPECT_EQ(m.client_duid, "000100011def69bd021122334455");
  ASSERT_TRUE(m.has_duid_mac);
  EXPECT_EQ(m.duid_mac.ToString(), "02:11:22:33:44:55");
  EXPECT_EQ(m.oro, "23,24,39");
  ASSERT_EQ(m.addresses.size(), 1u);
  EXPECT_EQ(m.addresses[0].address.ToString(), "2001:db8::1002");
  EXPECT_EQ(m.addresses[0].valid_lifetime, 7200u);
  EXPECT_EQ(m.user_class, "ward,icu");
  EXPECT_FALSE(m.user_class_unframed);
  EXPECT_EQ(m.vendor_classes, (std::vector<std::string>{"enterprise 311: MSFT 5.0", "enterprise 311: abc"}));
  EXPECT_EQ(m.fqdn, "pump.icu");
}

TEST(Dhcpv6, Duids) {
  struct Case {
    std::vector<uint8_t> duid;
    bool mac;
  };
  for (const Case& c : {Case{{0, 3, 0, 1, 1, 2, 3, 4, 5, 6}, true},            // DUID-LL, Ethernet
                        Case{{0, 3, 0, 6, 1, 2, 3, 4, 5, 6}, false},           // DUID-LL, IEEE 802 (6)
                        Case{{0, 1, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4, 5}, false},  // DUID-LLT, 5-byte address
                        Case{{0, 2, 0, 0, 0, 9, 1, 2, 3, 4, 5, 6}, false},     // DUID-EN
                        Case{{0, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0}, false}}) {  // DUID-UUID (short)
    dhcpv6::Message m;
    dhcpv6::Error e;
    ASSERT_TRUE(dhcpv6::Parse(Cat({{1, 0, 0, 1}, Option(1, c.duid)}), m, e));
    EXPECT_EQ(m.has_duid_mac, c.mac);
    if (c.mac) {
      EXPECT_EQ(m.duid_mac.ToString(), "01:02:03:04:05:06");
    }
  }
}

std::vector<uint8_t> RelayForward(const std::vector<uint8_t>& inner, std::vector<uint8_t> extra = {}) {
  std::vector<uint8_t> header(34, 0);
  header[0] = 12;
  return Cat({header, extra, Option(9, inner)});
}

TEST(Dhcpv6, RelaysUnwrapped) {
  dhcpv6::Message m;
  dhcpv6::Error e;
  // Two relays; the one nearest the client adds the client's MAC (RFC 6939, hardware type 1).
  const auto once = RelayForward(Request(), Option(79, {0, 1, 0xaa, 0xbb, 0xcc, 0x00, 0x00, 0x01}));
  ASSERT_TRUE(dhcpv6::Parse(RelayForward(once), m, e)) << dhcpv6::ErrorName(e);
  EXPECT_EQ(m.outer_type, 12);
  EXPECT_EQ(m.type, 3);
  EXPECT_EQ(m.relay_depth, 2);
  ASSERT_TRUE(m.has_relay_client_mac);
  EXPECT_EQ(m.relay_client_mac.ToString(), "aa:bb:cc:00:00:01");
  EXPECT_EQ(m.fqdn, "pump.icu");

  // Relays of relays, past HOP_COUNT_LIMIT.
  std::vector<uint8_t> deep = Request();
  for (int i = 0; i < 9; ++i) deep = RelayForward(deep);
  dhcpv6::Message d;
  EXPECT_FALSE(dhcpv6::Parse(deep, d, e));
  EXPECT_EQ(e, dhcpv6::Error::kRelayTooDeep);

  // A RELAY-REPL with no Relay Message option (as in malformed/dhcp6_reconf_asan.pcap).
  std::vector<uint8_t> empty(34, 0);
  empty[0] = 13;
  const auto reconf = Cat({empty, Option(19, {}), Option(19, {})});
  dhcpv6::Message r;
  EXPECT_FALSE(dhcpv6::Parse(reconf, r, e));
  EXPECT_EQ(e, dhcpv6::Error::kRelayWithoutMessage);
}

// What the flow parser reports, kept for inspection.
class RecordingOutput : public ParserOutput {
 public:
  struct Recorded {
    std::string about;  // "sender", "receiver" or a MAC
    Attribute attribute;
    std::string value;
  };
  void SetApplication(std::string_view) override {}
  void AddFact(Party party, const Fact& f) override {
    facts.push_back({party == Party::kSender ? "sender" : "receiver", f.attribute, std::string(f.value)});
  }
  void AddFactForMac(const MacAddress& mac, const Fact& f) override {
    facts.push_back({mac.ToString(), f.attribute, std::string(f.value)});
  }
  void AddFactForAddress(const IpAddress&, const Fact&) override {}
  void BindAddress(const MacAddress& mac, const IpAddress& ip, AddressSource) override {
    bindings.push_back(mac.ToString() + " " + ip.ToString());
  }
  void CountAnomaly(std::string_view name) override { anomalies.emplace_back(name); }
  bool Has(const std::string& about, Attribute a, const std::string& value) const {
    return std::any_of(facts.begin(), facts.end(),
                       [&](const Recorded& r) { return r.about == about && r.attribute == a && r.value == value; });
  }
  std::vector<Recorded> facts;
  std::vector<std::string> bindings;
  std::vector<std::string> anomalies;
};

// Through a relay the sender is the relay: the client's facts go to the MAC the relay names
// (RFC 6939), else to its DUID's; a relayed REPLY binds to the DUID's MAC; a direct one to the
// frame's receiver.
TEST(Dhcpv6, WhoIsTheClient) {
  FlowContext flow;
  flow.transport = kIpProtoUdp;
  flow.initiator = {*MacAddress::Parse("00:00:5e:00:01:01"), *IpAddress::Parse("fe80::1"), 547};
  flow.responder = {*MacAddress::Parse("02:11:22:33:44:55"), *IpAddress::Parse("fe80::2"), 546};
  const ParserFactory& factory = *dhcpv6::Factory();
  ASSERT_TRUE(factory.Wants(flow, Direction::kToResponder, {}));

  RecordingOutput relayed;
  auto parser = factory.Create(flow);
  parser->OnData(Direction::kToResponder,
                 RelayForward(Request(), Option(79, {0, 1, 0xaa, 0xbb, 0xcc, 0x00, 0x00, 0x01})), 0, relayed);
  EXPECT_TRUE(relayed.Has("aa:bb:cc:00:00:01", Attribute::kFqdn, "pump.icu"));
  EXPECT_TRUE(relayed.Has("aa:bb:cc:00:00:01", Attribute::kDhcpClientId, "000100011def69bd021122334455"));
  EXPECT_TRUE(relayed.Has("sender", Attribute::kService, "dhcpv6-relay"));
  RecordingOutput by_duid;
  parser->OnData(Direction::kToResponder, RelayForward(Request()), 0, by_duid);
  EXPECT_TRUE(by_duid.Has("02:11:22:33:44:55", Attribute::kDhcpVendorClass, "enterprise 311: MSFT 5.0"));

  // The same options in a REPLY: direct to the receiver, relayed to the DUID's MAC.
  std::vector<uint8_t> reply = Request();
  reply[0] = dhcpv6::kReply;
  RecordingOutput direct;
  parser->OnData(Direction::kToResponder, reply, 0, direct);
  EXPECT_EQ(direct.bindings, std::vector<std::string>{"02:11:22:33:44:55 2001:db8::1002"});
  EXPECT_TRUE(direct.Has("sender", Attribute::kService, "dhcpv6-server"));
  RecordingOutput to_initiator;
  parser->OnData(Direction::kToInitiator, reply, 0, to_initiator);
  EXPECT_EQ(to_initiator.bindings, std::vector<std::string>{"00:00:5e:00:01:01 2001:db8::1002"});
  std::vector<uint8_t> repl = RelayForward(reply);
  repl[0] = dhcpv6::kRelayRepl;
  RecordingOutput through_relay;
  parser->OnData(Direction::kToResponder, repl, 0, through_relay);
  EXPECT_EQ(through_relay.bindings, std::vector<std::string>{"02:11:22:33:44:55 2001:db8::1002"});
  // An ADVERTISE only offers.
  reply[0] = 2;
  RecordingOutput advertise;
  parser->OnData(Direction::kToResponder, reply, 0, advertise);
  EXPECT_TRUE(advertise.bindings.empty());
  RecordingOutput bad;
  parser->OnData(Direction::kToResponder, std::vector<uint8_t>{12, 0}, 0, bad);
  EXPECT_EQ(bad.anomalies, std::vector<std::string>{"dhcpv6_truncated"});
}

TEST(Dhcpv6, NamedErrors) {
  dhcpv6::Message m;
  dhcpv6::Error e;
  EXPECT_FALSE(dhcpv6::Parse({}, m, e));
  EXPECT_EQ(e, dhcpv6::Error::kTruncated);
  const std::vector<uint8_t> zero_type = {0, 1, 2, 3};
  EXPECT_FALSE(dhcpv6::Parse(zero_type, m, e));
  EXPECT_EQ(e, dhcpv6::Error::kBadType);
  const std::vector<uint8_t> short_relay = {12, 0, 0};
  EXPECT_FALSE(dhcpv6::Parse(short_relay, m, e));
  EXPECT_EQ(e, dhcpv6::Error::kTruncated);
  // An option longer than the message.
  std::vector<uint8_t> overrun = Request();
  overrun[6] = 0xff;
  EXPECT_FALSE(dhcpv6::Parse(overrun, m, e));
  EXPECT_EQ(e, dhcpv6::Error::kOptionOverrun);
  // An IA Address shorter than its fixed part.
  const auto ia = Cat({{3, 0, 0, 1}, Option(3, Cat({std::vector<uint8_t>(12, 0), Option(5, {1, 2, 3})}))});
  EXPECT_FALSE(dhcpv6::Parse(ia, m, e));
  EXPECT_EQ(e, dhcpv6::Error::kBadOption);
  // A compression pointer in the FQDN.
  EXPECT_FALSE(dhcpv6::Parse(Cat({{1, 0, 0, 1}, Option(39, {0x01, 0xc0, 0x0c})}), m, e));
  EXPECT_EQ(e, dhcpv6::Error::kBadOption);
}

// Every DHCPv6 payload of the corpus, whole, cut at every length, and with each byte damaged:
// never a read out of bounds, always a named error when false.
TEST(Dhcpv6, DecoderOnCutAndDamagedBytes) {
  std::vector<std::vector<uint8_t>> payloads = {Request(), RelayForward(Request())};
  for (const std::string& path : CapturesWith("dhcpv6", kBundled)) {
    ::auscult::sensor::testing::ForEachFrame(path, [&](const RawFrame& f) {
      Decoder d;
      PacketView v;
      if (d.Decode(f, v) && v.ip_protocol == kIpProtoUdp && (v.src_port == 547 || v.dst_port == 547)) {
        payloads.emplace_back(v.payload.begin(), v.payload.end());
      }
    });
  }
  ASSERT_GT(payloads.size(), 2u);
  size_t parsed = 0;
  for (const auto& payload : payloads) {
    dhcpv6::Message m;
    dhcpv6::Error e;
    if (dhcpv6::Parse(payload, m, e)) ++parsed;
    for (size_t n = 0; n < payload.size(); ++n) {
      const std::vector<uint8_t> cut(payload.begin(), payload.begin() + n);
      dhcpv6::Message c;
      const bool ok = dhcpv6::Parse(cut, c, e);
      EXPECT_EQ(ok, e == dhcpv6::Error::kNone) << "cut at " << n;
      std::vector<uint8_t> damaged = payload;
      damaged[n] ^= 0xff;
      dhcpv6::Message b;
      const bool damaged_ok = dhcpv6::Parse(damaged, b, e);
      EXPECT_EQ(damaged_ok, e == dhcpv6::Error::kNone) << "damaged at " << n;
    }
  }
  EXPECT_GE(parsed, payloads.size() - 2) << "the real messages parse (all but the malformed ones)";
}

// Every malformed capture with DHCPv6 goes through the sensor; what tshark flags is counted.
TEST(Dhcpv6, MalformedCaptures) {
  int seen = 0;
  for (const std::string& path : CapturesWith("dhcpv6", {})) {
    if (!Malformed(path)) continue;
    ++seen;
    EngineOptions options;
    options.flows.parsers = Parsers();
    ::auscult::sensor::testing::RecordingSink sink;
    Engine engine(options, nullptr, &sink);
    ::auscult::sensor::testing::ForEachFrame(path, [&](const RawFrame& f) { engine.Process(f); });
    engine.Finish();
    uint64_t counted = 0;
    for (const auto& [name, n] : engine.devices().parser_anomalies()) {
      if (name.starts_with("dhcpv6_")) counted += n;
    }
    EXPECT_GT(counted, 0u) << path;
    // A RELAY-REPL holding two empty Reconfigure Message options and no Relay Message.
    if (path.ends_with("dhcp6_reconf_asan.pcap")) {
      EXPECT_EQ(engine.devices().parser_anomalies().count("dhcpv6_relay_without_message"), 1u);
    }
  }
  if (!::auscult::testing::SharedCapturesDir().empty()) {
    EXPECT_GT(seen, 0);
  }
}

}  // namespace
}  // namespace auscult::sensor
