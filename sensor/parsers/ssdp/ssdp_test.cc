// SSDP: facts against tshark (which decodes SSDP as HTTP) on every corpus capture with SSDP, and
// the decoder on messages as UPnP Device Architecture 2.0 shows them, cut and damaged.
#include "sensor/parsers/ssdp/ssdp_message.h"
#include "sensor/parsers/ssdp/ssdp_parser.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "sensor/parsers/oracle.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::CapturesWith;
using ::auscult::sensor::testing::DeviceKeys;
using ::auscult::sensor::testing::FactKey;
using ::auscult::sensor::testing::FactsOf;
using ::auscult::sensor::testing::OracleTally;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::TsharkAllFields;

// SERVER and USER-AGENT on their sender; the device or service type URN a NOTIFY (NT) or a search
// response (ST) announces, on its sender. tshark has no field for NT and ST: they are among its
// "unknown" HTTP headers, as "NAME: value\r\n".
TEST(Ssdp, FactsMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally tally("ssdp");
  for (const std::string& path : CapturesWith("ssdp", {"ssdp-upnp/ssdp.pcap", "ssdp-upnp/ssdp-m-search-ua.pcap"})) {
    if (path.find("malformed/") != std::string::npos) continue;
    const DeviceKeys key(path);
    std::set<FactKey> theirs;
    for (const auto& r : TsharkAllFields(path,
                                         {"eth.src", "ip.src", "ipv6.src", "http.request.method", "http.server",
                                          "http.user_agent", "http.unknown_header"},
                                         "udp.port == 1900 && ssdp && !_ws.malformed", '\x1e')) {
      const std::string device = key(r[0], r[1].empty() ? r[2] : r[1]);
      if (!r[4].empty()) theirs.insert({device, Attribute::kServerSoftware, r[4]});
      if (!r[5].empty()) theirs.insert({device, Attribute::kUserAgent, r[5]});
      const bool notify = r[3] == "NOTIFY", response = r[3].empty();
      for (absl::string_view header : absl::StrSplit(r[6], '\x1e', absl::SkipEmpty())) {
        absl::ConsumeSuffix(&header, "\\r\\n");
        const size_t colon = header.find(':');
        if (colon == absl::string_view::npos) continue;
        const std::string name = absl::AsciiStrToLower(header.substr(0, colon));
        const std::string value(absl::StripAsciiWhitespace(header.substr(colon + 1)));
        if (name == "x-user-agent") theirs.insert({device, Attribute::kUserAgent, value});
        const bool urn = absl::StartsWithIgnoreCase(value, "urn:") &&
                         (absl::StrContains(value, ":device:") || absl::StrContains(value, ":service:"));
        if (urn && ((notify && name == "nt") || (response && name == "st"))) {
          theirs.insert({device, Attribute::kService, value});
        }
      }
    }
    tally.Compare(path, theirs, FactsOf(path));
  }
  EXPECT_GT(tally.expected(), 0);
}

std::span<const uint8_t> Bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

constexpr std::string_view kNotify =
    "NOTIFY * HTTP/1.1\r\n"
    "HOST: 239.255.255.250:1900\r\n"
    "CACHE-CONTROL: max-age=1800\r\n"
    "LOCATION: http://10.20.30.40:49152/description.xml\r\n"
    "NT: urn:schemas-upnp-org:device:InfusionPump:1\r\n"
    "NTS: ssdp:alive\r\n"
    "SERVER: Linux/4.9 UPnP/2.0 PumpOS/3.2\r\n"
    "USN: uuid:2fac1234-31f8-11b4-a222-08002b34c003::urn:schemas-upnp-org:device:InfusionPump:1\r\n"
    "BOOTID.UPNP.ORG: 7\r\n"
    "\r\n";

constexpr std::string_view kSearch =
    "M-SEARCH * HTTP/1.1\r\n"
    "HOST: 239.255.255.250:1900\r\n"
    "MAN: \"ssdp:discover\"\r\n"
    "MX: 1\r\n"
    "ST: urn:dial-multiscreen-org:service:dial:1\r\n"
    "USER-AGENT: Google Chrome/99.0.4844.74 Mac OS X\r\n"
    "X-User-Agent: redsonic\r\n"
    "\r\n";

constexpr std::string_view kResponse =
    "HTTP/1.1 200 OK\r\n"
    "CACHE-CONTROL: max-age = 1800\r\n"
    "EXT:\r\n"
    "LOCATION: http://10.20.30.41:80/rootDesc.xml\r\n"
    "SERVER: Windows/10 UPnP/1.1 PACS-Viewer/5.0\r\n"
    "ST: urn:schemas-upnp-org:service:WANIPConnection:2\r\n"
    "USN: uuid:abc::urn:schemas-upnp-org:service:WANIPConnection:2\r\n"
    "\r\n";

TEST(Ssdp, ThreeKinds) {
  ssdp::Message n;
  ssdp::Error e;
  ASSERT_TRUE(ssdp::Parse(Bytes(kNotify), n, e)) << ssdp::ErrorName(e);
  EXPECT_EQ(n.kind, ssdp::Message::Kind::kNotify);
  EXPECT_EQ(n.server, "Linux/4.9 UPnP/2.0 PumpOS/3.2");
  EXPECT_EQ(n.device_or_service_type, "urn:schemas-upnp-org:device:InfusionPump:1");
  EXPECT_TRUE(n.user_agent.empty());

  ssdp::Message s;
  ASSERT_TRUE(ssdp::Parse(Bytes(kSearch), s, e));
  EXPECT_EQ(s.kind, ssdp::Message::Kind::kSearch);
  EXPECT_EQ(s.user_agent, "Google Chrome/99.0.4844.74 Mac OS X");
  EXPECT_EQ(s.x_user_agent, "redsonic");
  EXPECT_TRUE(s.device_or_service_type.empty()) << "a search's ST is what it looks for";

  ssdp::Message r;
  ASSERT_TRUE(ssdp::Parse(Bytes(kResponse), r, e));
  EXPECT_EQ(r.kind, ssdp::Message::Kind::kResponse);
  EXPECT_EQ(r.server, "Windows/10 UPnP/1.1 PACS-Viewer/5.0");
  EXPECT_EQ(r.device_or_service_type, "urn:schemas-upnp-org:service:WANIPConnection:2");

  // Root device and UUID notifications say nothing of the kind of device; a head without its
  // closing empty line (the datagram ends it) still parses.
  for (std::string_view nt : {"upnp:rootdevice", "uuid:2fac1234-31f8-11b4-a222-08002b34c003"}) {
    ssdp::Message m;
    const std::string text = "NOTIFY * HTTP/1.1\r\nNT: " + std::string(nt) + "\r\nNTS: ssdp:byebye";
    ASSERT_TRUE(ssdp::Parse(Bytes(text), m, e));
    EXPECT_TRUE(m.has_nt);
    EXPECT_TRUE(m.device_or_service_type.empty()) << nt;
  }
}

TEST(Ssdp, TypeUrns) {
  EXPECT_TRUE(ssdp::IsTypeUrn("urn:schemas-upnp-org:device:MediaServer:1"));
  EXPECT_TRUE(ssdp::IsTypeUrn("urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1"));
  EXPECT_TRUE(ssdp::IsTypeUrn("URN:Schemas-UPnP-org:Device:Basic:1"));
  EXPECT_FALSE(ssdp::IsTypeUrn("upnp:rootdevice"));
  EXPECT_FALSE(ssdp::IsTypeUrn("uuid:2fac1234"));
  EXPECT_FALSE(ssdp::IsTypeUrn("urn::device:x"));
  EXPECT_FALSE(ssdp::IsTypeUrn("urn:schemas-upnp-org:device:"));
  EXPECT_FALSE(ssdp::IsTypeUrn("ssdp:all"));
}

TEST(Ssdp, NamedErrors) {
  ssdp::Message m;
  ssdp::Error e;
  EXPECT_FALSE(ssdp::Parse(Bytes(""), m, e));
  EXPECT_EQ(e, ssdp::Error::kNotHttp);
  EXPECT_FALSE(ssdp::Parse(Bytes("\x16\x03\x01\x00\x10"), m, e));
  EXPECT_EQ(e, ssdp::Error::kNotHttp);
  EXPECT_FALSE(ssdp::Parse(Bytes("SUBSCRIBE /event HTTP/1.1\r\nHOST: x\r\n\r\n"), m, e));
  EXPECT_EQ(e, ssdp::Error::kUnexpectedMethod);
  const std::string huge = "NOTIFY * HTTP/1.1\r\nX: " + std::string(10000, 'a') + "\r\n\r\n";
  EXPECT_FALSE(ssdp::Parse(Bytes(huge), m, e));
  EXPECT_EQ(e, ssdp::Error::kHeadTooLarge);
  EXPECT_TRUE(ssdp::LooksLikeSsdp(Bytes(kNotify)));
  EXPECT_TRUE(ssdp::LooksLikeSsdp(Bytes(kSearch)));
  EXPECT_TRUE(ssdp::LooksLikeSsdp(Bytes(kResponse)));
  EXPECT_FALSE(ssdp::LooksLikeSsdp(Bytes("GET / HTTP/1.1\r\n")));
}

TEST(Ssdp, DecoderOnCutAndDamagedBytes) {
  for (std::string_view message : {kNotify, kSearch, kResponse}) {
    for (size_t n = 0; n < message.size(); ++n) {
      ssdp::Message m;
      ssdp::Error e;
      const bool ok = ssdp::Parse(Bytes(message.substr(0, n)), m, e);
      EXPECT_EQ(ok, e == ssdp::Error::kNone) << "cut at " << n;
      std::string damaged(message);
      damaged[n] = static_cast<char>(damaged[n] ^ 0xff);
      ssdp::Message d;
      const bool damaged_ok = ssdp::Parse(Bytes(damaged), d, e);
      EXPECT_EQ(damaged_ok, e == ssdp::Error::kNone) << "damaged at " << n;
    }
  }
}

class RecordingOutput : public ParserOutput {
 public:
  void SetApplication(std::string_view name) override { application = name; }
  void AddFact(Party party, const Fact& f) override {
    facts.insert({party == Party::kSender ? "sender" : "receiver", f.attribute, std::string(f.value)});
  }
  void AddFactForMac(const MacAddress&, const Fact&) override { ADD_FAILURE() << "SSDP names no MAC"; }
  void AddFactForAddress(const IpAddress&, const Fact&) override { ADD_FAILURE() << "SSDP names no address"; }
  void BindAddress(const MacAddress&, const IpAddress&, AddressSource) override { ADD_FAILURE(); }
  void CountAnomaly(std::string_view name) override { anomalies.emplace_back(name); }
  std::string application;
  std::set<FactKey> facts;
  std::vector<std::string> anomalies;
};

// A search and the unicast answer to it (HTTPU, §1.3.3): a flow from the device's port 1900.
TEST(Ssdp, SearchResponseFlow) {
  FlowContext flow;
  flow.transport = kIpProtoUdp;
  flow.initiator = {MacAddress{}, *IpAddress::Parse("10.20.30.41"), 1900};
  flow.responder = {MacAddress{}, *IpAddress::Parse("10.20.30.9"), 51234};
  const ParserFactory& factory = *ssdp::Factory();
  EXPECT_TRUE(factory.Wants(flow, Direction::kToResponder, Bytes(kResponse)));
  EXPECT_FALSE(factory.Wants(flow, Direction::kToResponder, Bytes("\x01\x02")));
  flow.initiator.port = 80;
  EXPECT_FALSE(factory.Wants(flow, Direction::kToResponder, Bytes(kResponse)));
  auto parser = factory.Create(flow);
  RecordingOutput out;
  parser->OnData(Direction::kToResponder, Bytes(kResponse), 0, out);
  parser->OnData(Direction::kToInitiator, Bytes(kSearch), 0, out);
  parser->OnData(Direction::kToResponder, Bytes("NOTIFY * HTTP/1.1\r\nNTS: ssdp:alive\r\n\r\n"), 0, out);
  EXPECT_EQ(out.application, "ssdp");
  EXPECT_EQ(out.facts, (std::set<FactKey>{
                           {"sender", Attribute::kServerSoftware, "Windows/10 UPnP/1.1 PACS-Viewer/5.0"},
                           {"sender", Attribute::kService, "urn:schemas-upnp-org:service:WANIPConnection:2"},
                           {"sender", Attribute::kUserAgent, "Google Chrome/99.0.4844.74 Mac OS X"},
                           {"sender", Attribute::kUserAgent, "redsonic"},
                       }));
  EXPECT_EQ(out.anomalies, std::vector<std::string>{"ssdp_notify_without_nt"});
  for (int i = 0; i < 100 && !parser->Done(); ++i) parser->OnData(Direction::kToResponder, Bytes(kNotify), 0, out);
  EXPECT_TRUE(parser->Done()) << "a flow's announcements repeat: it stops listening";
}

// Every malformed capture with SSDP goes through the sensor (the corpus has none today).
TEST(Ssdp, MalformedCaptures) {
  for (const std::string& path : CapturesWith("ssdp", {})) {
    if (path.find("malformed/") == std::string::npos) continue;
    EXPECT_NO_FATAL_FAILURE(FactsOf(path)) << path;
  }
}

}  // namespace
}  // namespace auscult::sensor
