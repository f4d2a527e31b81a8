// SMB and NTLMSSP: facts against tshark on every corpus capture with SMB over TCP, the decoders on
// real and hand-built bytes (cut and damaged), and the flow parser on real connections.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sensor/decode/decoder.h"
#include "sensor/engine.h"
#include "sensor/parsers/oracle.h"
#include "sensor/parsers/smb/ntlmssp.h"
#include "sensor/parsers/smb/smb_message.h"
#include "sensor/parsers/smb/smb_parser.h"
#include "sensor/parsers/smb/smb_wire.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::CapturesWith;
using ::auscult::sensor::testing::DeviceKeys;
using ::auscult::sensor::testing::FactKey;
using ::auscult::sensor::testing::FactsOf;
using ::auscult::sensor::testing::ForEachFrame;
using ::auscult::sensor::testing::OracleTally;
using ::auscult::testing::CapturePath;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::SharedCaptureFiles;
using ::auscult::testing::SharedCapturesDir;
using ::auscult::testing::TsharkAllFields;
using ::auscult::testing::TsharkFields;

// Every capture of the corpus with SMB over TCP (NetBIOS session service), without the malformed ones.
std::vector<std::string> SmbCaptures() {
  std::set<std::string> paths;
  for (const char* protocol : {"nbss", "smb", "smb2"}) {
    for (const std::string& p :
         CapturesWith(protocol, {"smb/smbv1.pcap", "smb/smb2.pcap", "smb/wireshark-smb-on-windows10.pcap",
                                 "smb/20171220_smb_net_user.pcap", "nbns/netbios.pcap"})) {
      if (p.find("malformed/") == std::string::npos) paths.insert(p);
    }
  }
  return {paths.begin(), paths.end()};
}

// A NetBIOS name as tshark shows it, "DESKTOP-V1FA0UQ<00>", without its suffix and padding.
std::string NetbiosName(const std::string& shown) {
  std::string name = shown.substr(0, shown.rfind('<'));
  while (!name.empty() && name.back() == ' ') name.pop_back();
  return name;
}

std::string CorpusPath(const std::string& name) {
  const auto p = CapturePath(name);
  return p ? *p : std::string();
}

// Every value of the fields below on the device that sent it (nbss.called_name: the device it
// was sent to), by kind, so that the figure for each kind is reported.
TEST(Smb, FactsMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  // (tally name, attribute, tshark field): one value per occurrence, on the frame's sender.
  struct Kind {
    const char* name;
    Attribute attribute;
    const char* field;
  };
  const std::vector<Kind> kinds = {
      {"smb native_os", Attribute::kOs, "smb.native_os"},
      {"smb native_lanman", Attribute::kSoftware, "smb.native_lanman"},
      {"smb primary_domain", Attribute::kDomain, "smb.primary_domain"},
      {"smb server_name", Attribute::kHostname, "smb.server"},
      {"smb nbss_calling_name", Attribute::kHostname, "nbss.calling_name"},
      {"ntlmssp nb_computer_name", Attribute::kHostname, "ntlmssp.challenge.target_info.nb_computer_name"},
      {"ntlmssp nb_domain_name", Attribute::kDomain, "ntlmssp.challenge.target_info.nb_domain_name"},
      {"ntlmssp dns_computer_name", Attribute::kFqdn, "ntlmssp.challenge.target_info.dns_computer_name"},
      {"ntlmssp dns_domain_name", Attribute::kDomain, "ntlmssp.challenge.target_info.dns_domain_name"},
      {"ntlmssp dns_tree_name", Attribute::kDomain, "ntlmssp.challenge.target_info.dns_tree_name"},
      {"ntlmssp auth.hostname", Attribute::kHostname, "ntlmssp.auth.hostname"},
      {"ntlmssp auth.domain", Attribute::kDomain, "ntlmssp.auth.domain"},
      {"ntlmssp negotiate.callingworkstation", Attribute::kHostname, "ntlmssp.negotiate.callingworkstation"},
      {"ntlmssp negotiate.domain", Attribute::kDomain, "ntlmssp.negotiate.domain"},
  };
  std::map<std::string, std::unique_ptr<OracleTally>> tallies;
  auto tally = [&](const std::string& name) -> OracleTally& {
    auto& t = tallies[name];
    if (!t) t = std::make_unique<OracleTally>(name);
    return *t;
  };
  OracleTally total("smb (all kinds)");
  constexpr char kSep = '\x1e';
  for (const std::string& path : SmbCaptures()) {
    const DeviceKeys key(path);
    std::map<std::string, std::set<FactKey>> theirs;
    std::vector<std::string> fields = {"eth.src", "ip.src", "ipv6.src", "eth.dst", "ip.dst", "ipv6.dst"};
    for (const Kind& k : kinds) fields.push_back(k.field);
    const size_t first_kind = 6;
    const size_t ntlm = fields.size();
    for (const char* f : {"ntlmssp.version.major", "ntlmssp.version.minor", "ntlmssp.version.build_number",
                          "ntlmssp.challenge.target_name", "ntlmssp.targettypedomain", "ntlmssp.targettypeserver",
                          "nbss.called_name"}) {
      fields.push_back(f);
    }
    for (const auto& r :
         TsharkAllFields(path, fields, "(smb || smb2 || nbss || ntlmssp) && tcp && !_ws.malformed", kSep)) {
      const std::string sender = key(r[0], r[1].empty() ? r[2] : r[1]);
      const std::string receiver = key(r[3], r[4].empty() ? r[5] : r[4]);
      for (size_t i = 0; i < kinds.size(); ++i) {
        for (const std::string& v :
             std::vector<std::string>(absl::StrSplit(r[first_kind + i], kSep, absl::SkipEmpty()))) {
          // tshark shows an empty NTLMSSP string as NULL; Auscult skips empty strings.
          if (v == "NULL") continue;
          const std::string value = kinds[i].field == std::string("nbss.calling_name") ? NetbiosName(v) : v;
          theirs[kinds[i].name].insert({sender, kinds[i].attribute, value});
        }
      }
      const std::vector<std::string> major = absl::StrSplit(r[ntlm], kSep, absl::SkipEmpty());
      const std::vector<std::string> minor = absl::StrSplit(r[ntlm + 1], kSep, absl::SkipEmpty());
      const std::vector<std::string> build = absl::StrSplit(r[ntlm + 2], kSep, absl::SkipEmpty());
      for (size_t i = 0; i < major.size() && i < minor.size() && i < build.size(); ++i) {
        theirs["ntlmssp version"].insert(
            {sender, Attribute::kOsVersion, absl::StrCat("Windows ", major[i], ".", minor[i], " build ", build[i])});
      }
      if (!r[ntlm + 3].empty() && r[ntlm + 3] != "NULL") {
        if (r[ntlm + 4] == "1" || r[ntlm + 4] == "True") {
          theirs["ntlmssp target_name"].insert({sender, Attribute::kDomain, r[ntlm + 3]});
        } else if (r[ntlm + 5] == "1" || r[ntlm + 5] == "True") {
          theirs["ntlmssp target_name"].insert({sender, Attribute::kHostname, r[ntlm + 3]});
        }
      }
      // The name a client calls the server by, on the server (unless the "*SMBSERVER" wildcard).
      if (!r[ntlm + 6].empty() && r[ntlm + 6][0] != '*') {
        theirs["smb nbss_called_name"].insert({receiver, Attribute::kHostname, NetbiosName(r[ntlm + 6])});
      }
    }
    // SMB2: the dialect a server picks (0x02FF only asks for an SMB2 NEGOTIATE to follow).
    for (const auto& r : TsharkFields(path, {"eth.src", "ip.src", "ipv6.src", "smb2.dialect"},
                                      "smb2.cmd == 0 && smb2.flags.response == 1 && smb2.dialect != 0x02ff && "
                                      "smb2.nt_status == 0 && !_ws.malformed")) {
      const uint16_t revision = static_cast<uint16_t>(std::stoul(r[3], nullptr, 16));
      theirs["smb dialect"].insert(
          {key(r[0], r[1].empty() ? r[2] : r[1]), Attribute::kSoftware, smb::DialectName(revision)});
      theirs["smb server"].insert({key(r[0], r[1].empty() ? r[2] : r[1]), Attribute::kService, "smb-server"});
    }
    // SMB1: the index of the dialect a server picks, in the client's list on the same connection.
    std::map<std::string, std::vector<std::string>> offered;
    for (const auto& r : TsharkAllFields(path, {"tcp.stream", "smb.dialect"},
                                         "smb.cmd == 0x72 && smb.flags.response == 0 && !_ws.malformed", kSep)) {
      offered[r[0]] = absl::StrSplit(r[1], kSep);
    }
    for (const auto& r : TsharkFields(path, {"tcp.stream", "eth.src", "ip.src", "ipv6.src", "smb.dialect.index"},
                                      "smb.cmd == 0x72 && smb.flags.response == 1 && !_ws.malformed")) {
      if (r[4].empty()) continue;
      const size_t index = std::stoul(r[4]);
      const auto it = offered.find(r[0]);
      if (it == offered.end() || index >= it->second.size()) continue;
      theirs["smb dialect"].insert({key(r[1], r[2].empty() ? r[3] : r[2]), Attribute::kSoftware,
                                    absl::StrCat("SMB 1 (", it->second[index], ")")});
    }
    const std::set<FactKey> ours = FactsOf(path);
    std::set<FactKey> all;
    for (const auto& [name, set] : theirs) {
      tally(name).Compare(path, set, ours);
      all.insert(set.begin(), set.end());
    }
    total.Compare(path, all, ours);
  }
  EXPECT_GT(total.expected(), 0);
}

// Nothing of the user leaves the parser: the user name of an AUTHENTICATE is in the capture
// (tshark shows "DESKTOP-2AEFM7G\user", "Tim Tester", "Willi Wireshark", "Administrator"),
// and in no fact.
TEST(Smb, NoUserNames) {
  for (const char* name : {"smb/wireshark-smb-on-windows10.pcap", "smb/smb2.pcap"}) {
    const auto path = CapturePath(name);
    if (!path) GTEST_SKIP() << name << " is not available";
    for (const FactKey& f : FactsOf(*path)) {
      for (const char* user : {"Tim Tester", "Willi Wireshark", "Administrator", "user"}) {
        EXPECT_NE(std::get<2>(f), user) << name;
      }
    }
  }
}

// Every malformed capture of the corpus goes through the whole packet path with the SMB parsers
// (none of them holds SMB today; this keeps it so when one does).
TEST(Smb, MalformedCaptures) {
  int files = 0;
  for (const std::string& name : SharedCaptureFiles()) {
    if (name.rfind("malformed/", 0) != 0) continue;
    FactsOf(SharedCapturesDir() + "/" + name);
    ++files;
  }
  if (files == 0) GTEST_SKIP() << "no corpus";
}

// A classic pcap file's global header and records (header, frame), for damaging real captures.
struct PcapFile {
  std::vector<uint8_t> header;
  std::vector<std::pair<std::vector<uint8_t>, std::vector<uint8_t>>> records;
};

PcapFile ReadPcap(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  PcapFile f;
  if (bytes.size() < 24 || bytes[0] != 0xD4 || bytes[1] != 0xC3) return f;  // little-endian, microseconds
  f.header.assign(bytes.begin(), bytes.begin() + 24);
  size_t at = 24;
  while (bytes.size() - at >= 16) {
    const uint32_t length = smb::Le32At(bytes, at + 8);
    if (bytes.size() - at - 16 < length) break;
    f.records.emplace_back(std::vector<uint8_t>(bytes.begin() + at, bytes.begin() + at + 16),
                           std::vector<uint8_t>(bytes.begin() + at + 16, bytes.begin() + at + 16 + length));
    at += 16 + length;
  }
  return f;
}

void WritePcap(const std::string& path, const PcapFile& f) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(f.header.data()), static_cast<std::streamsize>(f.header.size()));
  for (const auto& [h, frame] : f.records) {
    out.write(reinterpret_cast<const char*>(h.data()), static_cast<std::streamsize>(h.size()));
    out.write(reinterpret_cast<const char*>(frame.data()), static_cast<std::streamsize>(frame.size()));
  }
}

// Real session setups damaged where tshark flags them too: an SMB1 ByteCount past the message
// ("Malformed Packet"), an NTLMSSP AV pair past TargetInfo ("invalid NTLMSSP Target Info
// AvPairs"). The whole packet path counts each under its name, and still reports the rest.
TEST(Smb, DamagedCapturesCounted) {
  const std::string v1 = CorpusPath("smb/smbv1.pcap");
  const std::string win10 = CorpusPath("smb/wireshark-smb-on-windows10.pcap");
  if (v1.empty() || win10.empty()) GTEST_SKIP() << "captures not available";
  struct Case {
    std::string source;
    size_t frame;   // 0-based
    size_t offset;  // in the frame
    uint8_t expect_before;
    uint8_t value;
    const char* anomaly;
  };
  // smbv1.pcap frame 4: ByteCount (0x0090) high byte at 14 + 20 + 20 + 4 + 32 + 1 + 6 + 1.
  // win10 frame 19: the first AV pair's length (6) at the NTLMSSP message (0x82) + TargetInfo (0x3E) + 2.
  const std::vector<Case> cases = {{v1, 3, 0x62, 0x00, 0x01, "smb_truncated"},
                                   {win10, 18, 0x82 + 0x3E + 2, 0x06, 0xFF, "ntlmssp_bad_av_pair"}};
  for (const Case& c : cases) {
    PcapFile f = ReadPcap(c.source);
    ASSERT_GT(f.records.size(), c.frame);
    std::vector<uint8_t>& frame = f.records[c.frame].second;
    ASSERT_EQ(frame.at(c.offset), c.expect_before);
    frame[c.offset] = c.value;
    const std::string path = ::testing::TempDir() + "/auscult_smb_damaged.pcap";
    WritePcap(path, f);
    if (HaveTshark()) {
      EXPECT_EQ(TsharkFields(path, {"frame.number"},
                             absl::StrCat("frame.number == ", c.frame + 1,
                                          " && (_ws.malformed || _ws.expert.severity >= 0x00600000)"))
                    .size(),
                1u)
          << c.anomaly;
    }
    EngineOptions options;
    options.flows.parsers = Parsers();
    testing::RecordingSink sink;
    Engine engine(options, nullptr, &sink);
    ForEachFrame(path, [&](const RawFrame& raw) { engine.Process(raw); });
    engine.Finish();
    const auto& anomalies = engine.devices().parser_anomalies();
    const auto it = anomalies.find(c.anomaly);
    ASSERT_NE(it, anomalies.end()) << c.anomaly;
    EXPECT_EQ(it->second, 1u);
    std::remove(path.c_str());
  }
}

// ---- the decoders on bytes ----

// A parser output that keeps what it is given.
class Recorder : public ParserOutput {
 public:
  struct Entry {
    Party party;
    Attribute attribute;
    std::string value;
    std::string field;
    auto operator<=>(const Entry&) const = default;
  };
  void SetApplication(std::string_view name) override { application = name; }
  void AddFact(Party party, const Fact& f) override {
    facts.insert({party, f.attribute, std::string(f.value), std::string(f.field)});
  }
  void AddFactForMac(const MacAddress&, const Fact& f) override {
    facts.insert({Party::kSender, f.attribute, std::string(f.value), "mac:" + std::string(f.field)});
  }
  void AddFactForAddress(const IpAddress&, const Fact& f) override {
    facts.insert({Party::kSender, f.attribute, std::string(f.value), "ip:" + std::string(f.field)});
  }
  void BindAddress(const MacAddress&, const IpAddress&, AddressSource) override {}
  void CountAnomaly(std::string_view name) override { ++anomalies[std::string(name)]; }
  bool Has(Party p, Attribute a, const std::string& value) const {
    for (const Entry& e : facts) {
      if (e.party == p && e.attribute == a && e.value == value) return true;
    }
    return false;
  }
  std::string application;
  std::set<Entry> facts;
  std::map<std::string, int> anomalies;
};

// One TCP connection's payloads in capture order: (direction, bytes).
struct Connection {
  FlowContext context;
  std::vector<std::pair<Direction, std::vector<uint8_t>>> segments;
};

// The SMB connections of a capture (server port 445 or 139), each direction in order (these
// captures have no loss or reordering on them).
std::vector<Connection> SmbConnections(const std::string& path) {
  std::map<std::string, Connection> by_key;
  std::vector<std::string> order;
  ForEachFrame(path, [&](const RawFrame& f) {
    Decoder d;
    PacketView v;
    if (!d.Decode(f, v) || v.ip_protocol != kIpProtoTcp || !v.has_transport || v.payload.empty()) return;
    const bool to_server = v.dst_port == 445 || v.dst_port == 139;
    if (!to_server && v.src_port != 445 && v.src_port != 139) return;
    const std::string client = to_server ? absl::StrCat(v.src_ip.ToString(), ":", v.src_port)
                                         : absl::StrCat(v.dst_ip.ToString(), ":", v.dst_port);
    auto [it, fresh] = by_key.try_emplace(client);
    if (fresh) {
      order.push_back(client);
      it->second.context.transport = kIpProtoTcp;
      it->second.context.initiator = FlowEndpoint{{}, to_server ? v.src_ip : v.dst_ip, 0};
      it->second.context.responder =
          FlowEndpoint{{}, to_server ? v.dst_ip : v.src_ip, to_server ? v.dst_port : v.src_port};
    }
    it->second.segments.emplace_back(to_server ? Direction::kToResponder : Direction::kToInitiator,
                                     std::vector<uint8_t>(v.payload.begin(), v.payload.end()));
  });
  std::vector<Connection> out;
  for (const std::string& k : order) out.push_back(std::move(by_key[k]));
  return out;
}

// Whole NetBIOS session messages (without their 4-byte header) found at the start of segments.
std::vector<std::vector<uint8_t>> SessionMessages(const std::vector<Connection>& connections) {
  std::vector<std::vector<uint8_t>> out;
  for (const Connection& c : connections) {
    for (const auto& [dir, bytes] : c.segments) {
      if (bytes.size() < 4 || bytes[0] != 0) continue;
      const smb::SessionHeader h = smb::ReadSessionHeader(bytes.data());
      if (h.length + 4 == bytes.size()) out.emplace_back(bytes.begin() + 4, bytes.end());
    }
  }
  return out;
}

// The flow parser on real connections: in segments as captured and one byte at a time gives the
// same facts; the session setup ends the parser's interest.
TEST(Smb, FlowParserOnRealConnections) {
  const std::string path = CorpusPath("smb/wireshark-smb-on-windows10.pcap");
  if (path.empty()) GTEST_SKIP() << "capture not available";
  const auto connections = SmbConnections(path);
  ASSERT_GE(connections.size(), 8u);
  size_t done = 0;
  for (const Connection& c : connections) {
    Recorder whole, bytewise;
    auto a = smb::Factory()->Create(c.context);
    auto b = smb::Factory()->Create(c.context);
    EXPECT_TRUE(smb::Factory()->Wants(c.context, Direction::kToResponder, c.segments[0].second));
    for (const auto& [dir, bytes] : c.segments) {
      if (!a->Done()) a->OnData(dir, bytes, 0, whole);
      for (uint8_t byte : bytes) {
        if (!b->Done()) b->OnData(dir, std::span<const uint8_t>(&byte, 1), 0, bytewise);
      }
    }
    EXPECT_EQ(whole.facts.size(), bytewise.facts.size());
    EXPECT_TRUE(whole.facts == bytewise.facts);
    EXPECT_TRUE(whole.anomalies.empty()) << whole.anomalies.begin()->first;
    EXPECT_EQ(whole.application, "smb");
    done += a->Done();
  }
  // Every connection but the first (a negotiate only) gets through its session setup.
  EXPECT_EQ(done, connections.size() - 1);
  // The SMB1 connection to port 139: session request names, OS and LAN manager, NTLMSSP both ways.
  Recorder r;
  const Connection& smb1 = connections[1];
  auto p = smb::Factory()->Create(smb1.context);
  for (const auto& [dir, bytes] : smb1.segments) p->OnData(dir, bytes, 0, r);
  EXPECT_TRUE(r.Has(Party::kSender, Attribute::kHostname, "DESKTOP-V1FA0UQ"));  // calling name, NTLM workstation
  EXPECT_TRUE(r.Has(Party::kReceiver, Attribute::kHostname, "SCV"));            // called name
  EXPECT_TRUE(r.Has(Party::kSender, Attribute::kOs, "Windows 8.1 9600"));
  EXPECT_TRUE(r.Has(Party::kSender, Attribute::kSoftware, "Windows 8.1 6.3"));
  EXPECT_TRUE(r.Has(Party::kSender, Attribute::kOsVersion, "Windows 6.3 build 9600"));
  EXPECT_TRUE(r.Has(Party::kSender, Attribute::kOsVersion, "Windows 10.0 build 10586"));
  EXPECT_TRUE(r.Has(Party::kSender, Attribute::kSoftware, "SMB 1 (NT LM 0.12)"));
  EXPECT_TRUE(r.Has(Party::kSender, Attribute::kService, "smb-server"));
}

// A connection that is not SMB on port 445 stops at its first message, counted.
TEST(Smb, NotSmbOnItsPort) {
  FlowContext ctx;
  ctx.transport = kIpProtoTcp;
  ctx.responder.port = 445;
  auto p = smb::Factory()->Create(ctx);
  Recorder r;
  const std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  p->OnData(Direction::kToResponder, std::span(reinterpret_cast<const uint8_t*>(http.data()), http.size()), 0, r);
  EXPECT_EQ(r.anomalies["smb_bad_session_header"], 1);
  const std::vector<uint8_t> framed_junk = {0, 0, 0, 4, 'a', 'b', 'c', 'd'};
  p->OnData(Direction::kToInitiator, framed_junk, 0, r);
  EXPECT_EQ(r.anomalies["smb_bad_header"], 1);
  EXPECT_TRUE(p->Done());
  EXPECT_TRUE(r.facts.empty());
  // Not wanted off its ports unless it looks like SMB.
  FlowContext other;
  other.transport = kIpProtoTcp;
  other.responder.port = 8080;
  EXPECT_FALSE(smb::Factory()->Wants(other, Direction::kToResponder, framed_junk));
  const std::vector<uint8_t> smb2_start = {0, 0, 0, 0x44, 0xFE, 'S', 'M', 'B'};
  EXPECT_TRUE(smb::Factory()->Wants(other, Direction::kToResponder, smb2_start));
}

// Every real SMB message of the corpus parses; cut at every length and with bytes damaged it gives
// a named error or a sane result, never a read out of bounds.
TEST(Smb, DecoderOnCutAndDamagedMessages) {
  std::vector<std::vector<uint8_t>> messages;
  for (const char* name :
       {"smb/smbv1.pcap", "smb/smb2.pcap", "smb/wireshark-smb-on-windows10.pcap", "smb/20171220_smb_net_user.pcap"}) {
    const std::string path = CorpusPath(name);
    if (path.empty()) continue;
    const auto m = SessionMessages(SmbConnections(path));
    messages.insert(messages.end(), m.begin(), m.end());
  }
  if (messages.empty()) GTEST_SKIP() << "no SMB captures";
  std::mt19937 random(4);
  int session_setups = 0;
  int ntlm = 0;
  for (const auto& message : messages) {
    std::vector<smb::Command> commands;
    bool encrypted;
    smb::Error error;
    ASSERT_TRUE(smb::ParseMessage(message, commands, encrypted, error)) << smb::ErrorName(error);
    ASSERT_FALSE(commands.empty());
    for (const smb::Command& c : commands) {
      session_setups += c.session_setup;
      if (const auto found = smb::FindNtlmssp(c.security_blob)) {
        smb::NtlmMessage m;
        smb::NtlmError e;
        ASSERT_TRUE(smb::ParseNtlmssp(*found, m, e)) << smb::NtlmErrorName(e);
        ++ntlm;
        for (size_t n = 0; n < found->size(); ++n) {
          smb::NtlmMessage cut;
          const bool ok = smb::ParseNtlmssp(found->first(n), cut, e);
          EXPECT_EQ(ok, e == smb::NtlmError::kNone);
        }
      }
    }
    for (size_t n = 0; n < message.size(); ++n) {
      std::vector<uint8_t> cut(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(n));
      std::vector<smb::Command> c;
      const bool ok = smb::ParseMessage(cut, c, encrypted, error);
      EXPECT_EQ(ok, error == smb::Error::kNone) << "cut at " << n;
    }
    for (int round = 0; round < 200; ++round) {
      std::vector<uint8_t> damaged = message;
      for (int k = 0; k < 4; ++k) damaged[random() % damaged.size()] = static_cast<uint8_t>(random());
      std::vector<smb::Command> c;
      const bool ok = smb::ParseMessage(damaged, c, encrypted, error);
      EXPECT_EQ(ok, error == smb::Error::kNone);
      for (const smb::Command& cmd : c) {
        EXPECT_LE(cmd.security_blob.size(), damaged.size());
        if (const auto found = smb::FindNtlmssp(cmd.security_blob)) {
          smb::NtlmMessage m;
          smb::NtlmError e;
          smb::ParseNtlmssp(*found, m, e);
        }
      }
    }
  }
  EXPECT_GT(session_setups, 20);
  EXPECT_GE(ntlm, 24);  // tshark counts 3 + 21 NTLMSSP messages in these captures
}

std::vector<uint8_t> Utf16(const std::string& ascii) {
  std::vector<uint8_t> out;
  for (char ch : ascii) {
    out.push_back(static_cast<uint8_t>(ch));
    out.push_back(0);
  }
  return out;
}

void Append(std::vector<uint8_t>& v, std::initializer_list<uint8_t> bytes) { v.insert(v.end(), bytes); }
void AppendLe16(std::vector<uint8_t>& v, uint16_t x) {
  Append(v, {static_cast<uint8_t>(x), static_cast<uint8_t>(x >> 8)});
}
void AppendLe32(std::vector<uint8_t>& v, uint32_t x) {
  AppendLe16(v, static_cast<uint16_t>(x));
  AppendLe16(v, static_cast<uint16_t>(x >> 16));
}
void AppendBytes(std::vector<uint8_t>& v, const std::vector<uint8_t>& b) { v.insert(v.end(), b.begin(), b.end()); }

// An SMB1 header for `command` with these flags.
std::vector<uint8_t> Smb1Header(uint8_t command, bool response, uint16_t flags2) {
  std::vector<uint8_t> h = {0xFF, 'S', 'M', 'B', command, 0, 0, 0, 0, static_cast<uint8_t>(response ? 0x98 : 0x18)};
  AppendLe16(h, flags2);
  h.resize(32, 0);
  return h;
}

// [MS-CIFS] 2.2.4.53.2 with Unicode strings: the pad byte depends on where the bytes block
// starts; OEM strings have none; the last string may lack its NUL.
TEST(Smb, Smb1SessionSetupStrings) {
  // Unicode: header 32 + WordCount 1 + 6 + ByteCount 2 = 41, odd: one pad byte.
  std::vector<uint8_t> m = Smb1Header(0x73, true, 0xC807);
  Append(m, {3, 0xFF, 0, 0, 0, 0, 0});
  std::vector<uint8_t> bytes = {0};
  AppendBytes(bytes, Utf16("Windows 7 Ultimate 7601 Service Pack 1"));
  Append(bytes, {0, 0});
  AppendBytes(bytes, Utf16("  Windows 7 Ultimate 6.1 "));
  Append(bytes, {0, 0});
  AppendBytes(bytes, Utf16("RADIOLOGY"));  // unterminated
  AppendLe16(m, static_cast<uint16_t>(bytes.size()));
  AppendBytes(m, bytes);
  std::vector<smb::Command> c;
  bool encrypted;
  smb::Error e;
  ASSERT_TRUE(smb::ParseMessage(m, c, encrypted, e)) << smb::ErrorName(e);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_TRUE(c[0].session_setup);
  EXPECT_TRUE(c[0].response);
  EXPECT_EQ(c[0].native_os, "Windows 7 Ultimate 7601 Service Pack 1");
  EXPECT_EQ(c[0].native_lanman, "Windows 7 Ultimate 6.1");
  EXPECT_EQ(c[0].primary_domain, "RADIOLOGY");

  // OEM, request with WordCount 13: passwords and the account name are stepped over.
  std::vector<uint8_t> q = Smb1Header(0x73, false, 0x0001);
  q.push_back(13);
  std::vector<uint8_t> words(26, 0);
  words[14] = 3;  // OEMPasswordLen
  words[16] = 2;  // UnicodePasswordLen
  AppendBytes(q, words);
  std::vector<uint8_t> b = {'p', 'w', '1', 'x', 'y'};
  for (const char* s : {"jsmith", "PACSDOM", "Unix", "Samba 4.17"}) {
    b.insert(b.end(), s, s + std::string_view(s).size());
    b.push_back(0);
  }
  AppendLe16(q, static_cast<uint16_t>(b.size()));
  AppendBytes(q, b);
  c.clear();
  ASSERT_TRUE(smb::ParseMessage(q, c, encrypted, e)) << smb::ErrorName(e);
  EXPECT_EQ(c[0].primary_domain, "PACSDOM");
  EXPECT_EQ(c[0].native_os, "Unix");
  EXPECT_EQ(c[0].native_lanman, "Samba 4.17");

  // A WordCount no session setup has.
  std::vector<uint8_t> bad = Smb1Header(0x73, true, 0);
  Append(bad, {2, 0, 0, 0, 0, 0, 0});
  c.clear();
  EXPECT_FALSE(smb::ParseMessage(bad, c, encrypted, e));
  EXPECT_EQ(e, smb::Error::kBadStructure);
  // A security blob longer than the bytes block.
  std::vector<uint8_t> blob = Smb1Header(0x73, true, 0x0800);
  Append(blob, {4, 0xFF, 0, 0, 0, 0, 0, 0xFF, 0, 2, 0, 'a', 'b'});
  c.clear();
  EXPECT_FALSE(smb::ParseMessage(blob, c, encrypted, e));
  EXPECT_EQ(e, smb::Error::kBadBuffer);
}

// An SMB2 header with `command` and `next` (NextCommand).
std::vector<uint8_t> Smb2Header(uint16_t command, bool response, uint32_t status, uint32_t next) {
  std::vector<uint8_t> h = {0xFE, 'S', 'M', 'B'};
  AppendLe16(h, 64);
  AppendLe16(h, 0);
  AppendLe32(h, status);
  AppendLe16(h, command);
  AppendLe16(h, 1);
  AppendLe32(h, response ? 1 : 0);
  AppendLe32(h, next);
  h.resize(64, 0);
  return h;
}

TEST(Smb, Smb2NegotiateAndCompounds) {
  // NEGOTIATE request offering 3.1.1 with a NETNAME context (after a preauth context, 8-aligned).
  std::vector<uint8_t> m = Smb2Header(0, false, 0, 0);
  AppendLe16(m, 36);
  AppendLe16(m, 2);  // DialectCount
  AppendLe16(m, 1);
  AppendLe16(m, 0);
  AppendLe32(m, 0);
  m.resize(m.size() + 16, 0);
  const size_t context_offset_at = m.size();
  AppendLe32(m, 0);  // NegotiateContextOffset, set below
  AppendLe16(m, 2);
  AppendLe16(m, 0);
  AppendLe16(m, 0x0302);
  AppendLe16(m, 0x0311);
  while (m.size() % 8) m.push_back(0);
  m[context_offset_at] = static_cast<uint8_t>(m.size());
  AppendLe16(m, 1);  // preauth integrity, 6 bytes of data: padded to 8 after its 14
  AppendLe16(m, 6);
  AppendLe32(m, 0);
  Append(m, {1, 0, 0, 0, 1, 0, 0, 0});  // 6 bytes + 2 padding
  const std::vector<uint8_t> name = Utf16("pacs01.radiology.example");
  AppendLe16(m, 5);
  AppendLe16(m, static_cast<uint16_t>(name.size()));
  AppendLe32(m, 0);
  AppendBytes(m, name);
  std::vector<smb::Command> c;
  bool encrypted;
  smb::Error e;
  ASSERT_TRUE(smb::ParseMessage(m, c, encrypted, e)) << smb::ErrorName(e);
  EXPECT_EQ(c[0].netname, "pacs01.radiology.example");

  // NEGOTIATE response choosing 3.0.2.
  std::vector<uint8_t> r = Smb2Header(0, true, 0, 0);
  AppendLe16(r, 65);
  AppendLe16(r, 1);
  AppendLe16(r, 0x0302);
  r.resize(r.size() + 2 + 16 + 16 + 16, 0);
  AppendLe16(r, 0);
  AppendLe16(r, 0);
  AppendLe32(r, 0);
  c.clear();
  ASSERT_TRUE(smb::ParseMessage(r, c, encrypted, e)) << smb::ErrorName(e);
  EXPECT_EQ(smb::DialectName(c[0].dialect_revision), "SMB 3.0.2");
  EXPECT_EQ(smb::DialectName(0x02FF), "");
  EXPECT_EQ(smb::DialectName(0x0399), "SMB2 dialect 0x0399");

  // Two compounded commands; then a NextCommand not 8-aligned, and one past the end.
  std::vector<uint8_t> compound = Smb2Header(3, false, 0, 72);
  compound.resize(72, 0);
  AppendBytes(compound, Smb2Header(5, false, 0, 0));
  c.clear();
  ASSERT_TRUE(smb::ParseMessage(compound, c, encrypted, e));
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1].command, 5);
  compound[20] = 70;
  c.clear();
  EXPECT_FALSE(smb::ParseMessage(compound, c, encrypted, e));
  EXPECT_EQ(e, smb::Error::kBadCompound);
  compound[20] = 0;
  compound[21] = 1;  // 256 > size
  EXPECT_FALSE(smb::ParseMessage(compound, c, encrypted, e));
  EXPECT_EQ(e, smb::Error::kBadCompound);

  // SESSION_SETUP response whose buffer points outside the message; an error response (logon
  // failure) is not read as a session setup structure.
  std::vector<uint8_t> s = Smb2Header(1, true, 0xC0000016, 0);
  AppendLe16(s, 9);
  AppendLe16(s, 0);
  AppendLe16(s, 72);
  AppendLe16(s, 200);
  c.clear();
  EXPECT_FALSE(smb::ParseMessage(s, c, encrypted, e));
  EXPECT_EQ(e, smb::Error::kBadBuffer);
  std::vector<uint8_t> failure = Smb2Header(1, true, 0xC000006D, 0);
  Append(failure, {9, 0, 0, 0, 0, 0, 0, 0, 0});
  c.clear();
  ASSERT_TRUE(smb::ParseMessage(failure, c, encrypted, e));
  EXPECT_TRUE(c[0].security_blob.empty());

  // Encrypted traffic is recognised, not parsed.
  std::vector<uint8_t> transform = {0xFD, 'S', 'M', 'B', 1, 2, 3};
  c.clear();
  ASSERT_TRUE(smb::ParseMessage(transform, c, encrypted, e));
  EXPECT_TRUE(encrypted);
  EXPECT_TRUE(c.empty());
  std::vector<uint8_t> junk = {0xFE, 'S', 'M', 'B', 63, 0};
  junk.resize(64, 0);
  EXPECT_FALSE(smb::ParseMessage(junk, c, encrypted, e));
  EXPECT_EQ(e, smb::Error::kBadHeader);
}

// [MS-NLMP] 2.2.1.2: a CHALLENGE with TargetInfo and VERSION, inside an SPNEGO OCTET STRING.
std::vector<uint8_t> Challenge(uint32_t flags, bool with_version) {
  std::vector<uint8_t> m = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};
  AppendLe32(m, 2);
  const std::vector<uint8_t> target = Utf16("RADIOLOGY");
  std::vector<uint8_t> info;
  auto av = [&](uint16_t id, const std::vector<uint8_t>& v) {
    AppendLe16(info, id);
    AppendLe16(info, static_cast<uint16_t>(v.size()));
    AppendBytes(info, v);
  };
  av(2, Utf16("RADIOLOGY"));
  av(1, Utf16("PACS01"));
  av(4, Utf16("radiology.example"));
  av(3, Utf16("pacs01.radiology.example"));
  av(7, std::vector<uint8_t>(8, 1));
  av(0, {});
  const uint32_t payload = 56;
  AppendLe16(m, static_cast<uint16_t>(target.size()));
  AppendLe16(m, static_cast<uint16_t>(target.size()));
  AppendLe32(m, payload);
  AppendLe32(m, flags | (with_version ? 0x02000000 : 0));
  m.resize(m.size() + 16, 0);
  AppendLe16(m, static_cast<uint16_t>(info.size()));
  AppendLe16(m, static_cast<uint16_t>(info.size()));
  AppendLe32(m, payload + static_cast<uint32_t>(target.size()));
  Append(m, {10, 0, 0x61, 0x4A, 0, 0, 0, 15});  // 10.0 build 19041
  AppendBytes(m, target);
  AppendBytes(m, info);
  return m;
}

TEST(Smb, NtlmsspChallenge) {
  const std::vector<uint8_t> challenge = Challenge(0x00010001, true);  // Unicode, target type domain
  // Wrapped as SPNEGO does: | 0xA2 len | 0x04 0x81 len | message |, followed by a mechListMIC
  // that must not be taken as part of it.
  std::vector<uint8_t> blob = {0xA1, 0x81, 0xFF, 0x30, 0x81, 0xFF,
                               0xA2, 0x81, 0xFF, 0x04, 0x81, static_cast<uint8_t>(challenge.size())};
  AppendBytes(blob, challenge);
  Append(blob, {0xA3, 0x12, 0x04, 0x10, 1, 2, 3});
  const auto found = smb::FindNtlmssp(blob);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->size(), challenge.size());
  smb::NtlmMessage m;
  smb::NtlmError e;
  ASSERT_TRUE(smb::ParseNtlmssp(*found, m, e)) << smb::NtlmErrorName(e);
  EXPECT_EQ(m.type, 2u);
  EXPECT_EQ(m.target_name, "RADIOLOGY");
  EXPECT_TRUE(m.target_is_domain());
  EXPECT_EQ(m.nb_computer, "PACS01");
  EXPECT_EQ(m.nb_domain, "RADIOLOGY");
  EXPECT_EQ(m.dns_computer, "pacs01.radiology.example");
  EXPECT_EQ(m.dns_domain, "radiology.example");
  ASSERT_TRUE(m.version.present);
  EXPECT_EQ(smb::VersionText(m.version), "Windows 10.0 build 19041");
  // Without NTLMSSP_NEGOTIATE_VERSION the bytes there are not a version.
  smb::NtlmMessage nv;
  ASSERT_TRUE(smb::ParseNtlmssp(Challenge(0x00010001, false), nv, e));
  EXPECT_FALSE(nv.version.present);
  // An AV pair running past TargetInfo, and TargetInfo past the message.
  std::vector<uint8_t> bad = challenge;
  bad[56 + 18 + 2] = 0xFF;  // first AV pair's length
  smb::NtlmMessage b;
  EXPECT_FALSE(smb::ParseNtlmssp(bad, b, e));
  EXPECT_EQ(e, smb::NtlmError::kBadAvPair);
  bad = challenge;
  bad[40] = 0xFF;
  bad[41] = 0xFF;
  EXPECT_FALSE(smb::ParseNtlmssp(bad, b, e));
  EXPECT_EQ(e, smb::NtlmError::kBadField);
  bad = challenge;
  bad[8] = 7;
  EXPECT_FALSE(smb::ParseNtlmssp(bad, b, e));
  EXPECT_EQ(e, smb::NtlmError::kBadMessage);
  // A blob without NTLMSSP (Kerberos).
  EXPECT_FALSE(smb::FindNtlmssp(std::vector<uint8_t>{0x60, 0x82, 1, 0, 6, 9, 0x2A, 0x86}));
}

// [MS-NLMP] 2.2.1.3 through the flow parser: the workstation, domain and version on the client;
// the user name in no fact; a bad field counted.
TEST(Smb, NtlmsspAuthenticateThroughTheParser) {
  std::vector<uint8_t> auth = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};
  AppendLe32(auth, 3);
  const std::vector<uint8_t> domain = Utf16("ICU");
  const std::vector<uint8_t> user = Utf16("nurse.jones");
  const std::vector<uint8_t> host = Utf16("MONITOR-07");
  const std::vector<uint8_t> nt(24, 0xAB);
  uint32_t offset = 88;
  auto field = [&](size_t length) {
    AppendLe16(auth, static_cast<uint16_t>(length));
    AppendLe16(auth, static_cast<uint16_t>(length));
    AppendLe32(auth, length ? offset : 0);
    offset += static_cast<uint32_t>(length);
  };
  field(0);  // LM
  field(nt.size());
  field(domain.size());
  field(user.size());
  field(host.size());
  field(0);  // session key
  AppendLe32(auth, 0x02000001);
  Append(auth, {6, 1, 0xB1, 0x1D, 0, 0, 0, 15});  // 6.1 build 7601
  auth.resize(88, 0);                             // MIC
  AppendBytes(auth, nt);
  AppendBytes(auth, domain);
  AppendBytes(auth, user);
  AppendBytes(auth, host);
  // In an SMB2 SESSION_SETUP request, raw (no SPNEGO), on port 445.
  std::vector<uint8_t> m = Smb2Header(1, false, 0, 0);
  AppendLe16(m, 25);
  Append(m, {0, 1});
  AppendLe32(m, 0);
  AppendLe32(m, 0);
  AppendLe16(m, 88);
  AppendLe16(m, static_cast<uint16_t>(auth.size()));
  m.resize(88, 0);
  AppendBytes(m, auth);
  std::vector<uint8_t> framed = {0, 0, static_cast<uint8_t>(m.size() >> 8), static_cast<uint8_t>(m.size())};
  AppendBytes(framed, m);
  FlowContext ctx;
  ctx.transport = kIpProtoTcp;
  ctx.responder.port = 445;
  auto p = smb::Factory()->Create(ctx);
  Recorder r;
  p->OnData(Direction::kToResponder, framed, 0, r);
  EXPECT_TRUE(r.Has(Party::kSender, Attribute::kHostname, "MONITOR-07"));
  EXPECT_TRUE(r.Has(Party::kSender, Attribute::kDomain, "ICU"));
  EXPECT_TRUE(r.Has(Party::kSender, Attribute::kOsVersion, "Windows 6.1 build 7601"));
  for (const Recorder::Entry& f : r.facts) EXPECT_EQ(f.value.find("nurse"), std::string::npos);
  EXPECT_EQ(r.facts.size(), 3u);
  EXPECT_FALSE(p->Done());
  // The same with the workstation field pointing past the message.
  std::vector<uint8_t> broken = framed;
  broken[4 + 88 + 44 + 4] = 0xF0;
  auto q = smb::Factory()->Create(ctx);
  Recorder rb;
  q->OnData(Direction::kToResponder, broken, 0, rb);
  EXPECT_EQ(rb.anomalies["ntlmssp_bad_field"], 1);
  EXPECT_FALSE(rb.Has(Party::kSender, Attribute::kHostname, "MONITOR-07"));
}

TEST(Smb, TextAndNames) {
  // UTF-16LE: BMP, a surrogate pair, a lone surrogate.
  const std::vector<uint8_t> text = {'O', 0, 0xE9, 0, 0x3D, 0xD8, 0x00, 0xDE, 0x00, 0xD8, 'x', 0};
  EXPECT_EQ(smb::Utf16LeToUtf8(text), "O\xC3\xA9\xF0\x9F\x98\x80\xEF\xBF\xBDx");
  // RFC 1001 14.1: "FRED" padded with spaces, suffix 0x20, scope "NETBIOS.COM".
  std::vector<uint8_t> encoded = {32};
  const std::string raw = std::string("FRED") + std::string(11, ' ') + '\x20';
  for (char ch : raw) {
    encoded.push_back(static_cast<uint8_t>('A' + ((static_cast<uint8_t>(ch) >> 4) & 0xF)));
    encoded.push_back(static_cast<uint8_t>('A' + (static_cast<uint8_t>(ch) & 0xF)));
  }
  Append(encoded, {7, 'N', 'E', 'T', 'B', 'I', 'O', 'S', 3, 'C', 'O', 'M', 0});
  ByteReader r(encoded);
  std::string name;
  uint8_t suffix = 0;
  ASSERT_TRUE(smb::ReadNetbiosName(r, name, suffix));
  EXPECT_EQ(name, "FRED");
  EXPECT_EQ(suffix, 0x20);
  EXPECT_EQ(r.remaining(), 0u);
  for (size_t n = 0; n < encoded.size(); ++n) {
    ByteReader cut(encoded.data(), n);
    EXPECT_FALSE(smb::ReadNetbiosName(cut, name, suffix)) << n;
  }
  encoded[5] = 'Z';  // not a nibble letter
  ByteReader bad(encoded);
  EXPECT_FALSE(smb::ReadNetbiosName(bad, name, suffix));
}

}  // namespace
}  // namespace auscult::sensor
