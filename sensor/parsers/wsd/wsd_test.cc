// WS-Discovery: the corpus holds only Resolve messages (ssdp-upnp/upnp.pcap), which name no types,
// and tshark 4.0 has no WS-Discovery dissector. So the test writes a capture of the messages the
// specification shows (Hello, Bye, Probe, ProbeMatches, ResolveMatches; IPv4 and IPv6) and
// compares the sensor's facts with what tshark's XML dissector (heuristics on) reads from it.
// IEEE 11073 SDC discovery (an SDC monitor's Hello with location and SYNTHETIC patient scopes, a
// consumer's Probe) is checked on hand-built messages and through the packet path.
#include "sensor/parsers/wsd/wsd_message.h"

#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "sensor/parsers/parser_testing.h"
#include "sensor/parsers/wsd/wsd_parser.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::DeviceKeys;
using ::auscult::sensor::testing::FactKey;
using ::auscult::sensor::testing::FactsOf;
using ::auscult::sensor::testing::OracleTally;
using ::auscult::sensor::testing::RecordingOutput;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::RunCommand;

std::string Envelope(absl::string_view action, absl::string_view body) {
  return absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
      "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\" "
      "xmlns:wsa=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "
      "xmlns:wsd=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\" "
      "xmlns:wsdp=\"http://schemas.xmlsoap.org/ws/2006/02/devprof\">"
      "<soap:Header><wsa:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To>"
      "<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/",
      action,
      "</wsa:Action><wsa:MessageID>urn:uuid:0f5d604c-81ac-4abc-8010-51dbffad55f2</wsa:MessageID></soap:Header>"
      "<soap:Body>",
      body, "</soap:Body></soap:Envelope>");
}

// A WSD printer's Hello (WS-Discovery §4.1, Microsoft's Print Device Profile types).
const std::string kPrinterHello = Envelope(
    "Hello",
    "<wsd:Hello><wsa:EndpointReference><wsa:Address>urn:uuid:16a65700-007c-1000-bb49-00805f9b3d2e</wsa:Address>"
    "</wsa:EndpointReference><wsd:Types xmlns:wprt=\"http://schemas.microsoft.com/windows/2006/08/wdp/print\">"
    "wsdp:Device wprt:PrintDeviceType</wsd:Types><wsd:XAddrs>http://10.0.0.5:80/wsd</wsd:XAddrs>"
    "<wsd:MetadataVersion>1</wsd:MetadataVersion></wsd:Hello>");

// An ONVIF camera's answer to a probe (§5.3), with the scopes ONVIF Core §7.3.2.2 defines.
const std::string kCameraProbeMatches = Envelope(
    "ProbeMatches",
    "<wsd:ProbeMatches><wsd:ProbeMatch><wsa:EndpointReference><wsa:Address>urn:uuid:3fa1fe68-b915-4053-a3e1-"
    "ac15a21f8d44</wsa:Address></wsa:EndpointReference><wsd:Types>dn:NetworkVideoTransmitter tds:Device"
    "</wsd:Types><wsd:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/Profile/Streaming "
    "onvif://www.onvif.org/hardware/DS-2CD2042WD-I onvif://www.onvif.org/name/HIKVISION%20Ward%203 "
    "onvif://www.onvif.org/location/city/somewhere</wsd:Scopes><wsd:XAddrs>http://10.0.0.6/onvif/device_service"
    "</wsd:XAddrs><wsd:MetadataVersion>10</wsd:MetadataVersion></wsd:ProbeMatch></wsd:ProbeMatches>");

// A Windows client's Probe (§5.2): the types are what it looks for.
const std::string kProbe = Envelope("Probe", "<wsd:Probe><wsd:Types>wsdp:Device</wsd:Types></wsd:Probe>");

// A Windows computer's Hello over IPv6, with a comment and white space around its types.
const std::string kComputerHello =
    Envelope("Hello",
             "<wsd:Hello><!-- <wsd:Types>not:This</wsd:Types> --><wsa:EndpointReference><wsa:Address>urn:uuid:"
             "d7e1a1b6-8c1a-4e26-a7f4-1e0b5ff8a3d1</wsa:Address></wsa:EndpointReference>"
             "<wsd:Types xmlns:pub=\"http://schemas.microsoft.com/windows/pub/2005/07\">\n  pub:Computer \n</wsd:Types>"
             "<wsd:MetadataVersion>2</wsd:MetadataVersion></wsd:Hello>");

// A scanner's ResolveMatches (§6.3) and a Bye (§4.2).
const std::string kScannerResolveMatches =
    Envelope("ResolveMatches",
             "<wsd:ResolveMatches><wsd:ResolveMatch><wsa:EndpointReference><wsa:Address>urn:uuid:1</wsa:Address>"
             "</wsa:EndpointReference><wsd:Types xmlns:wscn=\"http://schemas.microsoft.com/windows/2006/08/wdp/scan\">"
             "wsdp:Device wscn:ScanDeviceType</wsd:Types><wsd:XAddrs>http://10.0.0.7:8018/wsd</wsd:XAddrs>"
             "<wsd:MetadataVersion>3</wsd:MetadataVersion></wsd:ResolveMatch></wsd:ResolveMatches>");
const std::string kBye =
    Envelope("Bye",
             "<wsd:Bye><wsa:EndpointReference><wsa:Address>urn:uuid:2</wsa:Address></wsa:EndpointReference>"
             "<wsd:Types xmlns:wprt=\"http://schemas.microsoft.com/windows/2006/08/wdp/print\">wprt:PrintDeviceType"
             "</wsd:Types></wsd:Bye>");

// ---- a capture file, written byte by byte (pcap, Ethernet, IPv4 or IPv6, UDP) ----

struct Datagram {
  const char* src_mac;
  const char* dst_mac;
  const char* src_ip;
  const char* dst_ip;
  uint16_t src_port;
  uint16_t dst_port;
  std::string payload;
};

void Put16(std::string& out, uint32_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v);
}
void PutLe32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>(v >> (8 * i));
}

// The Internet checksum (RFC 1071) of `data`, starting from `sum`.
uint16_t Checksum(std::string_view data, uint32_t sum = 0) {
  for (size_t i = 0; i < data.size(); i += 2) {
    const uint32_t hi = static_cast<uint8_t>(data[i]);
    const uint32_t lo = i + 1 < data.size() ? static_cast<uint8_t>(data[i + 1]) : 0;
    sum += hi << 8 | lo;
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

std::string Frame(const Datagram& d) {
  const IpAddress src = *IpAddress::Parse(d.src_ip), dst = *IpAddress::Parse(d.dst_ip);
  const size_t addr_len = src.IsV4() ? 4 : 16;
  const std::string addrs = std::string(reinterpret_cast<const char*>(src.bytes.data()), addr_len) +
                            std::string(reinterpret_cast<const char*>(dst.bytes.data()), addr_len);
  std::string udp;
  Put16(udp, d.src_port);
  Put16(udp, d.dst_port);
  Put16(udp, static_cast<uint32_t>(8 + d.payload.size()));
  Put16(udp, 0);
  udp += d.payload;
  std::string pseudo = addrs;
  Put16(pseudo, 17);
  Put16(pseudo, static_cast<uint32_t>(udp.size()));
  const uint16_t udp_sum = Checksum(pseudo + udp);
  udp[6] = static_cast<char>(udp_sum >> 8);
  udp[7] = static_cast<char>(udp_sum);
  std::string ip;
  if (src.IsV4()) {
    ip = std::string("\x45\x00", 2);
    Put16(ip, static_cast<uint32_t>(20 + udp.size()));
    ip += std::string("\x00\x01\x00\x00\x01\x11\x00\x00", 8);  // id 1, TTL 1, UDP, checksum below
    ip += addrs;
    const uint16_t sum = Checksum(ip);
    ip[10] = static_cast<char>(sum >> 8);
    ip[11] = static_cast<char>(sum);
  } else {
    ip = std::string("\x60\x00\x00\x00", 4);
    Put16(ip, static_cast<uint32_t>(udp.size()));
    ip += std::string("\x11\x01", 2);  // UDP, hop limit 1
    ip += addrs;
  }
  std::string frame(reinterpret_cast<const char*>(MacAddress::Parse(d.dst_mac)->bytes.data()), 6);
  frame.append(reinterpret_cast<const char*>(MacAddress::Parse(d.src_mac)->bytes.data()), 6);
  frame += src.IsV4() ? std::string("\x08\x00", 2) : std::string("\x86\xdd", 2);
  return frame + ip + udp;
}

std::string WriteCapture(const std::vector<Datagram>& datagrams, const std::string& name = "ws-discovery") {
  const std::string path = ::testing::TempDir() + "/" + name + ".pcap";
  std::string file;
  PutLe32(file, 0xa1b2c3d4);
  file += std::string("\x02\x00\x04\x00", 4);  // version 2.4
  PutLe32(file, 0);
  PutLe32(file, 0);
  PutLe32(file, 65535);
  PutLe32(file, 1);  // Ethernet
  uint32_t second = 1700000000;
  for (const Datagram& d : datagrams) {
    const std::string frame = Frame(d);
    PutLe32(file, second++);
    PutLe32(file, 0);
    PutLe32(file, static_cast<uint32_t>(frame.size()));
    PutLe32(file, static_cast<uint32_t>(frame.size()));
    file += frame;
  }
  std::ofstream(path, std::ios::binary) << file;
  return path;
}

std::string SpecCapture() {
  return WriteCapture({
      {"00:11:22:33:44:55", "01:00:5e:7f:ff:fa", "10.0.0.5", "239.255.255.250", 3702, 3702, kPrinterHello},
      {"00:aa:bb:cc:dd:ee", "01:00:5e:7f:ff:fa", "10.0.0.9", "239.255.255.250", 50000, 3702, kProbe},
      {"44:19:b6:00:00:06", "00:aa:bb:cc:dd:ee", "10.0.0.6", "10.0.0.9", 3702, 50000, kCameraProbeMatches},
      {"00:15:5d:00:00:01", "33:33:00:00:00:0c", "fe80::215:5dff:fe00:1", "ff02::c", 3702, 3702, kComputerHello},
      {"00:80:77:00:00:07", "00:aa:bb:cc:dd:ee", "10.0.0.7", "10.0.0.9", 3702, 50001, kScannerResolveMatches},
      {"00:11:22:33:44:56", "01:00:5e:7f:ff:fa", "10.0.0.8", "239.255.255.250", 3702, 3702, kBye},
  });
}

// Types announced by the sender (not a Probe's), as tshark's XML dissector shows them: the frame's
// source MAC, the body's first element, and the text of each Types element.
TEST(WsDiscovery, FactsMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  const std::string path = SpecCapture();
  const auto r = RunCommand(
      {"tshark", "-n", "-r", path, "-o", "xml.heuristic:TRUE", "-o", "xml.heuristic_udp:TRUE", "-V", "-Y", "xml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  OracleTally tally("ws_discovery");
  const DeviceKeys key(path);
  std::set<FactKey> theirs;
  // tshark prints a start tag's attributes on lines of their own, the last closing the tag, and
  // the element's text on the next line (a new line in it as "\\n").
  enum { kOutside, kTypesTag, kTypesText } state = kOutside;
  std::string mac, message;
  bool after_body = false;
  for (absl::string_view raw : absl::StrSplit(r.out, '\n')) {
    const absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (absl::StartsWith(line, "Ethernet II, Src: ")) {
      mac = std::string(line.substr(18, 17));
      message.clear();
    } else if (state == kTypesTag) {
      if (absl::EndsWith(line, ">")) state = kTypesText;
    } else if (state == kTypesText) {
      state = kOutside;
      if (message == "Probe") continue;
      const std::string text = absl::StrReplaceAll(line, {{"\\n", " "}});
      for (absl::string_view type : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
        theirs.insert({key(mac, ""), Attribute::kService, std::string(type)});
      }
    } else if (absl::StartsWith(line, "<") && !absl::StartsWith(line, "</") && !absl::StartsWith(line, "<!")) {
      absl::string_view name = line.substr(1);
      const bool closed = absl::ConsumeSuffix(&name, ">");
      name.remove_prefix(name.find(':') + 1);
      if (name == "Body") {
        after_body = true;
      } else if (after_body) {
        message = std::string(name);
        after_body = false;
      }
      if (name == "Types") state = closed ? kTypesText : kTypesTag;
    }
  }
  tally.Compare(path, theirs, FactsOf(path));
  EXPECT_EQ(tally.expected(), 8) << "tshark read every Types element but the Probe's";
}

TEST(WsDiscovery, OnvifScopesAndProbes) {
  const auto facts = FactsOf(SpecCapture());
  EXPECT_TRUE(facts.count({"44:19:b6:00:00:06", Attribute::kModel, "DS-2CD2042WD-I"}));
  EXPECT_TRUE(facts.count({"44:19:b6:00:00:06", Attribute::kDeviceType, "video_encoder"}));
  for (const FactKey& f : facts) {
    EXPECT_NE(std::get<0>(f), "00:aa:bb:cc:dd:ee") << "a Probe's types are not the prober's";
    EXPECT_NE(std::get<2>(f), "not:This") << "comments are skipped";
    EXPECT_NE(std::get<2>(f), "HIKVISION Ward 3") << "ONVIF names are left out";
  }
}

std::span<const uint8_t> Bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

TEST(WsDiscovery, Messages) {
  wsd::Message m;
  wsd::Error e;
  ASSERT_TRUE(wsd::Parse(Bytes(kCameraProbeMatches), m, e)) << wsd::ErrorName(e);
  EXPECT_EQ(m.kind, wsd::Message::Kind::kProbeMatches);
  EXPECT_TRUE(m.AboutSender());
  EXPECT_EQ(m.types, (std::vector<std::string>{"dn:NetworkVideoTransmitter", "tds:Device"}));
  ASSERT_EQ(m.scopes.size(), 5u);
  EXPECT_EQ(m.scopes[2], "onvif://www.onvif.org/hardware/DS-2CD2042WD-I");

  wsd::Message p;
  ASSERT_TRUE(wsd::Parse(Bytes(kProbe), p, e));
  EXPECT_EQ(p.kind, wsd::Message::Kind::kProbe);
  EXPECT_FALSE(p.AboutSender());

  wsd::Message h;
  ASSERT_TRUE(wsd::Parse(Bytes(kComputerHello), h, e));
  EXPECT_EQ(h.kind, wsd::Message::Kind::kHello);
  EXPECT_EQ(h.types, std::vector<std::string>{"pub:Computer"});

  // Entities, a CDATA section, attributes holding '>' and no prefixes at all.
  const std::string odd =
      "\xef\xbb\xbf <Envelope><Body><Hello a=\"x>y\"><![CDATA[<Types>no:No</Types>]]>"
      "<Types>a:B&amp;C</Types><Scopes/><Scopes>onvif://www.onvif.org/hardware/X%2FY</Scopes></Hello></Body>"
      "</Envelope>";
  wsd::Message o;
  ASSERT_TRUE(wsd::LooksLikeXml(Bytes(odd)));
  ASSERT_TRUE(wsd::Parse(Bytes(odd), o, e)) << wsd::ErrorName(e);
  EXPECT_EQ(o.kind, wsd::Message::Kind::kHello);
  EXPECT_EQ(o.types, std::vector<std::string>{"a:B&C"});
  ASSERT_EQ(o.scopes.size(), 1u);
  EXPECT_EQ(wsd::ParseOnvifScope(o.scopes[0]).value, "X/Y");
}

TEST(WsDiscovery, OnvifScopes) {
  auto s = wsd::ParseOnvifScope("onvif://www.onvif.org/hardware/AXIS%20M3045-V");
  EXPECT_EQ(s.key, "hardware");
  EXPECT_EQ(s.value, "AXIS M3045-V");
  s = wsd::ParseOnvifScope("ONVIF://www.onvif.org/Type/ptz");
  EXPECT_EQ(s.key, "type");
  EXPECT_EQ(s.value, "ptz");
  EXPECT_TRUE(wsd::ParseOnvifScope("onvif://www.onvif.org/hardware/").key.empty());
  EXPECT_TRUE(wsd::ParseOnvifScope("onvif://www.onvif.org/location/x").key.empty());
  EXPECT_TRUE(wsd::ParseOnvifScope("http://www.onvif.org/hardware/x").key.empty());
  EXPECT_EQ(wsd::ParseOnvifScope("onvif://www.onvif.org/name/a%2").value, "a%2");
}

TEST(WsDiscovery, NamedErrors) {
  wsd::Message m;
  wsd::Error e;
  EXPECT_FALSE(wsd::Parse(Bytes(""), m, e));
  EXPECT_EQ(e, wsd::Error::kNotSoap);
  EXPECT_FALSE(wsd::Parse(Bytes("<html><body>hi</body></html>"), m, e));
  EXPECT_EQ(e, wsd::Error::kNotSoap);
  EXPECT_FALSE(wsd::Parse(Bytes("<s:Envelope><s:Header/></s:Envelope>"), m, e));
  EXPECT_EQ(e, wsd::Error::kNoBody);
  std::string many = "<Envelope><Body>";
  for (int i = 0; i < 2000; ++i) many += "<a/>";
  EXPECT_FALSE(wsd::Parse(Bytes(many), m, e));
  EXPECT_EQ(e, wsd::Error::kTooManyElements);
  EXPECT_FALSE(wsd::LooksLikeXml(Bytes("NOTIFY * HTTP/1.1")));
}

TEST(WsDiscovery, DecoderOnCutAndDamagedBytes) {
  for (const std::string& message : {kPrinterHello, kCameraProbeMatches, kComputerHello, kScannerResolveMatches}) {
    for (size_t n = 0; n < message.size(); ++n) {
      wsd::Message m;
      wsd::Error e;
      const bool ok = wsd::Parse(Bytes(std::string_view(message).substr(0, n)), m, e);
      EXPECT_EQ(ok, e == wsd::Error::kNone) << "cut at " << n;
      for (char c : {'<', '>', '"', '\0'}) {
        std::string damaged = message;
        damaged[n] = c;
        wsd::Message d;
        const bool damaged_ok = wsd::Parse(Bytes(damaged), d, e);
        EXPECT_EQ(damaged_ok, e == wsd::Error::kNone) << "damaged at " << n;
        EXPECT_LE(d.types.size(), 64u);
      }
    }
  }
}

// The corpus's WS-Discovery capture: Resolve messages, IPv4 and IPv6. Decoded without anomaly;
// they name no types.
TEST(WsDiscovery, CorpusResolves) {
  const auto path = ::auscult::testing::CapturePath("ssdp-upnp/upnp.pcap");
  if (!path) GTEST_SKIP() << "ssdp-upnp/upnp.pcap is not here";
  EngineOptions options;
  options.flows.parsers = Parsers();
  ::auscult::sensor::testing::RecordingSink sink;
  Engine engine(options, nullptr, &sink);
  ::auscult::sensor::testing::ForEachFrame(*path, [&](const RawFrame& f) { engine.Process(f); });
  engine.Finish();
  for (const auto& [name, n] : engine.devices().parser_anomalies()) {
    EXPECT_FALSE(name.starts_with("ws_discovery")) << name;
  }
  for (const DeviceRecord& d : sink.devices) {
    for (const FactRecord& f : d.facts) EXPECT_NE(f.protocol, "ws_discovery");
  }
  wsd::Message m;
  wsd::Error e;
  const std::string resolve = Envelope(
      "Resolve",
      "<wsd:Resolve><wsa:EndpointReference><wsa:Address>urn:uuid:e3248000-80ce-11db-8000-001ba99ec956</wsa:Address>"
      "</wsa:EndpointReference></wsd:Resolve>");
  ASSERT_TRUE(wsd::Parse(Bytes(resolve), m, e));
  EXPECT_EQ(m.kind, wsd::Message::Kind::kResolve);
}

// ---- IEEE 11073 SDC ----

// WS-Discovery 1.1 (the 2009/01 namespaces DPWS 1.1 and SDC use).
std::string Envelope11(absl::string_view action, absl::string_view body, absl::string_view extra_namespaces) {
  return absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<s12:Envelope xmlns:s12=\"http://www.w3.org/2003/05/soap-envelope\" "
      "xmlns:wsa=\"http://www.w3.org/2005/08/addressing\" "
      "xmlns:wsd=\"http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01\" "
      "xmlns:dpws=\"http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01\" ",
      extra_namespaces, "><s12:Header><wsa:Action>http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/", action,
      "</wsa:Action><wsa:MessageID>urn:uuid:8a1f6e9c-2b7d-4c55-9d3e-0c4a2f1b7e60</wsa:MessageID>"
      "<wsa:To>urn:docs-oasis-open-org:ws-dd:ns:discovery:2009:01</wsa:To>"
      "<wsd:AppSequence InstanceId=\"1\" MessageNumber=\"1\"/></s12:Header><s12:Body>",
      body, "</s12:Body></s12:Envelope>");
}

constexpr absl::string_view kMdpws = "xmlns:mdpws=\"http://standards.ieee.org/downloads/11073/11073-20702-2016\"";
// The scopes an SDC provider announces (IEEE 11073-20701 §9; as sdc11073 writes them), with a
// SYNTHETIC patient bound to the device.
constexpr absl::string_view kSdcScopes =
    "sdc.ctxt.loc:/sdc.ctxt.loc.detail/HOSP1%2F%2F%2FICU1%2F%2FBed42?fac=HOSP1&amp;poc=ICU1&amp;bed=Bed42 "
    "sdc.ctxt.pat:/urn%3Aoid%3A1.2.3.4/SYNTH123 "
    "sdc.mds.pkp:1.2.840.10004.20701.1.1";

// An SDC monitor's Hello.
const std::string kSdcHello =
    Envelope11("Hello",
               absl::StrCat("<wsd:Hello><wsa:EndpointReference><wsa:Address>urn:uuid:5e2b1f0a-0c1d-4e7f-9a3b-"
                            "6d8c2e4f1a90</wsa:Address></wsa:EndpointReference>"
                            "<wsd:Types>dpws:Device mdpws:MedicalDevice</wsd:Types><wsd:Scopes>",
                            kSdcScopes,
                            "</wsd:Scopes><wsd:XAddrs>https://10.0.0.20:6464/5e2b1f0a</wsd:XAddrs>"
                            "<wsd:MetadataVersion>1</wsd:MetadataVersion></wsd:Hello>"),
               kMdpws);
// A consumer (a central station) looking for medical devices.
const std::string kSdcProbe =
    Envelope11("Probe", "<wsd:Probe><wsd:Types>dpws:Device mdpws:MedicalDevice</wsd:Types></wsd:Probe>", kMdpws);

std::unique_ptr<FlowParser> NewWsdParser() {
  FlowContext flow;
  flow.transport = kIpProtoUdp;
  flow.responder.port = 3702;
  return wsd::Factory()->Create(flow);
}

TEST(WsDiscovery, SdcMedicalDeviceHello) {
  wsd::Message m;
  wsd::Error e;
  ASSERT_TRUE(wsd::Parse(Bytes(kSdcHello), m, e)) << wsd::ErrorName(e);
  EXPECT_TRUE(m.mdpws_namespace);
  const wsd::Sdc sdc = wsd::ReadSdc(m);
  EXPECT_TRUE(sdc.medical_device);
  EXPECT_EQ(sdc.evidence, "types");
  EXPECT_TRUE(sdc.patient);

  auto parser = NewWsdParser();
  RecordingOutput out;
  parser->OnData(Direction::kToResponder, Bytes(kSdcHello), 0, out);
  EXPECT_TRUE(out.clinical);
  EXPECT_EQ(out.phi, (std::map<PhiKind, uint64_t>{{PhiKind::kDemographics, 1}}));
  EXPECT_EQ(out.Values(Party::kSender, Attribute::kClinicalRole), std::vector<std::string>{"sdc-medical-device"});
  EXPECT_EQ(out.Values(Party::kSender, Attribute::kService),
            (std::vector<std::string>{"dpws:Device", "mdpws:MedicalDevice"}));
  // Neither the patient nor the bed leaves the parser.
  for (const auto& f : out.facts) {
    for (const char* secret : {"SYNTH123", "sdc.ctxt", "Bed42", "HOSP1", "ICU1"}) {
      EXPECT_FALSE(absl::StrContains(f.value, secret)) << f.value;
    }
  }
  EXPECT_TRUE(out.anomalies.empty());
}

TEST(WsDiscovery, SdcByScopeOrNamespace) {
  auto sdc_of = [](const std::string& xml) {
    wsd::Message m;
    wsd::Error e;
    EXPECT_TRUE(wsd::Parse(Bytes(xml), m, e)) << wsd::ErrorName(e);
    return wsd::ReadSdc(m);
  };
  // The key purpose scope alone says SDC provider, whatever the types.
  const wsd::Sdc by_scope =
      sdc_of(Envelope11("Hello",
                        "<wsd:Hello><wsd:Types>dpws:Device</wsd:Types><wsd:Scopes>SDC.MDS.PKP:1.2.840.10004.20701.1.1</"
                        "wsd:Scopes></wsd:Hello>",
                        ""));
  EXPECT_TRUE(by_scope.medical_device);
  EXPECT_EQ(by_scope.evidence, "scopes");
  EXPECT_FALSE(by_scope.patient);
  // Another vocabulary's MedicalDevice is not SDC's.
  EXPECT_FALSE(sdc_of(Envelope11("Hello", "<wsd:Hello><wsd:Types>x:MedicalDevice</wsd:Types></wsd:Hello>",
                                 "xmlns:x=\"urn:example:devices\""))
                   .medical_device);
  // The prefix is the sender's choice; the namespace is what counts.
  EXPECT_TRUE(sdc_of(Envelope11("Hello", "<wsd:Hello><wsd:Types>m:MedicalDevice</wsd:Types></wsd:Hello>",
                                "xmlns:m=\"http://standards.ieee.org/downloads/11073/11073-20702-2016\""))
                  .medical_device);
  // Printers are not medical devices.
  EXPECT_FALSE(sdc_of(kPrinterHello).medical_device);
}

// A consumer's Probe: it looks for medical devices (a role of its own), but is none.
TEST(WsDiscovery, SdcConsumerProbe) {
  auto parser = NewWsdParser();
  RecordingOutput out;
  parser->OnData(Direction::kToResponder, Bytes(kSdcProbe), 0, out);
  EXPECT_TRUE(out.clinical);
  EXPECT_TRUE(out.phi.empty());
  EXPECT_EQ(out.Values(Party::kSender, Attribute::kClinicalRole), std::vector<std::string>{"sdc-consumer"});
  EXPECT_TRUE(out.Values(Party::kSender, Attribute::kService).empty());
  // A Probe for a patient's devices carries the patient: counted, not kept.
  auto by_patient = NewWsdParser();
  RecordingOutput out2;
  by_patient->OnData(Direction::kToResponder,
                     Bytes(Envelope11("Probe",
                                      "<wsd:Probe><wsd:Types>mdpws:MedicalDevice</wsd:Types><wsd:Scopes>"
                                      "sdc.ctxt.pat:/urn%3Aoid%3A1.2.3.4/SYNTH123</wsd:Scopes></wsd:Probe>",
                                      kMdpws)),
                     0, out2);
  EXPECT_EQ(out2.phi, (std::map<PhiKind, uint64_t>{{PhiKind::kDemographics, 1}}));
  for (const auto& f : out2.facts) EXPECT_FALSE(absl::StrContains(f.value, "SYNTH123")) << f.value;
  // A printer's Hello is not clinical.
  auto printer = NewWsdParser();
  RecordingOutput out3;
  printer->OnData(Direction::kToResponder, Bytes(kPrinterHello), 0, out3);
  EXPECT_FALSE(out3.clinical);
  EXPECT_TRUE(out3.Values(Party::kSender, Attribute::kClinicalRole).empty());
}

// Through the whole packet path: the monitor's multicast Hello makes a clinical flow carrying
// patient data, and the monitor a device with the SDC role; the prober, a consumer.
TEST(WsDiscovery, SdcFlowsAndDevices) {
  const std::string path = WriteCapture(
      {
          {"00:09:fb:00:00:20", "01:00:5e:7f:ff:fa", "10.0.0.20", "239.255.255.250", 3702, 3702, kSdcHello},
          {"00:09:fb:00:00:21", "01:00:5e:7f:ff:fa", "10.0.0.21", "239.255.255.250", 51000, 3702, kSdcProbe},
      },
      "sdc-discovery");
  EngineOptions options;
  options.flows.parsers = Parsers();
  ::auscult::sensor::testing::EngineRun run;
  ::auscult::sensor::testing::RunEngine(path, options, nullptr, run);
  int flows = 0;
  for (const FlowRecord& f : run.sink.flows) {
    ++flows;
    EXPECT_TRUE(f.clinical);
    EXPECT_EQ(f.application, "ws-discovery");
    const uint32_t demographics = f.phi[static_cast<int>(PhiKind::kDemographics) - 1];
    EXPECT_EQ(demographics, f.initiator.port == 3702 ? 1u : 0u);
  }
  EXPECT_EQ(flows, 2);
  const auto facts = FactsOf(path);
  EXPECT_TRUE(facts.count({"00:09:fb:00:00:20", Attribute::kClinicalRole, "sdc-medical-device"}));
  EXPECT_TRUE(facts.count({"00:09:fb:00:00:21", Attribute::kClinicalRole, "sdc-consumer"}));
  for (const FactKey& f : facts) {
    EXPECT_FALSE(absl::StrContains(std::get<2>(f), "SYNTH123")) << std::get<2>(f);
    EXPECT_FALSE(absl::StrContains(std::get<2>(f), "Bed42")) << std::get<2>(f);
  }
}

}  // namespace
}  // namespace auscult::sensor
