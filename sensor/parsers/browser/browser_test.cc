// Browser announcements: facts against tshark on every corpus capture with the browser protocol,
// the decoder on real datagrams (cut and damaged) and on hand-built ones.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sensor/decode/decoder.h"
#include "sensor/parsers/browser/browser_message.h"
#include "sensor/parsers/browser/browser_parser.h"
#include "sensor/parsers/oracle.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::CapturesWith;
using ::auscult::sensor::testing::DeviceKeys;
using ::auscult::sensor::testing::FactKey;
using ::auscult::sensor::testing::FactsOf;
using ::auscult::sensor::testing::ForEachFrame;
using ::auscult::sensor::testing::OracleTally;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::TsharkFields;

const std::vector<std::string> kBundled = {"nbns/nbns.pcap", "nbns/netbios.pcap", "mixed/1kxun.pcap",
                                           "mixed/telegram.pcap"};

std::vector<std::string> BrowserCaptures() {
  std::vector<std::string> out;
  for (const std::string& p : CapturesWith("browser", kBundled)) {
    if (p.find("malformed/") == std::string::npos) out.push_back(p);
  }
  return out;
}

// "MDJR98<00>" -> "MDJR98"; the suffix as a number.
std::string NetbiosName(const std::string& shown, int* suffix = nullptr) {
  const size_t lt = shown.rfind('<');
  if (suffix != nullptr && lt != std::string::npos) *suffix = std::stoi(shown.substr(lt + 1, 2), nullptr, 16);
  std::string name = shown.substr(0, lt);
  while (!name.empty() && name.back() == ' ') name.pop_back();
  return name;
}

// The host and workgroup names, OS versions, comments and server roles each announcing host
// states, and the NetBIOS name of every datagram's sender.
TEST(Browser, FactsMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  std::map<std::string, std::unique_ptr<OracleTally>> tallies;
  auto tally = [&](const std::string& name) -> OracleTally& {
    auto& t = tallies[name];
    if (!t) t = std::make_unique<OracleTally>(name);
    return *t;
  };
  OracleTally total("smb_browser (all kinds)");
  // tshark's server type flags and the capability names Auscult gives them.
  const std::vector<std::pair<std::string, std::string>> roles = {
      {"workstation", "workstation"},
      {"server", "server"},
      {"sql", "sql-server"},
      {"domain_controller", "domain-controller"},
      {"backup_controller", "backup-domain-controller"},
      {"time", "time-source"},
      {"apple", "apple-file-server"},
      {"novell", "novell-server"},
      {"member", "domain-member"},
      {"print", "print-server"},
      {"dialin", "dial-in-server"},
      {"xenix", "unix-server"},
      {"ntw", "windows-nt"},
      {"wfw", "windows-for-workgroups"},
      {"nts", "windows-nt-server"},
      {"browser.potential", "potential-browser"},
      {"browser.backup", "backup-browser"},
      {"browser.master", "master-browser"},
      {"browser.domain_master", "domain-master-browser"},
      {"osf", "osf-server"},
      {"vms", "vms-server"},
      {"w95", "windows-9x"},
      {"dfs", "dfs-root"},
  };
  for (const std::string& path : BrowserCaptures()) {
    const DeviceKeys key(path);
    std::map<std::string, std::set<FactKey>> theirs;
    std::vector<std::string> fields = {"eth.src",
                                       "ip.src",
                                       "browser.command",
                                       "browser.server",
                                       "browser.os_major",
                                       "browser.os_minor",
                                       "browser.server_type",
                                       "browser.mb_server",
                                       "browser.response_computer_name",
                                       "nbdgm.destination_name",
                                       "browser.comment"};
    for (const auto& [flag, name] : roles) fields.push_back("browser.server_type." + flag);
    for (const auto& r : TsharkFields(path, fields, "browser && !_ws.malformed")) {
      const std::string device = key(r[0], r[1]);
      const std::string& command = r[2];
      uint32_t type = 0;
      if (!r[6].empty()) absl::SimpleHexAtoi(r[6], &type);
      if (command == "0x01" || command == "0x0f") {
        if (!r[3].empty()) theirs["smb_browser server_name"].insert({device, Attribute::kHostname, r[3]});
        if (!r[10].empty()) theirs["smb_browser comment"].insert({device, Attribute::kSystemDescription, r[10]});
        int suffix = 0;
        const std::string group = NetbiosName(r[9], &suffix);
        if ((suffix == 0x1d || suffix == 0x1e) && !group.empty()) {
          theirs["smb_browser workgroup"].insert({device, Attribute::kDomain, group});
        }
        // Accepted difference: hosts that announce themselves as Unix servers (Samba) state a
        // fixed browser version (4.9), not their OS's; Auscult gives them the OS family instead.
        if ((type & (browser::kServerTypeUnix | browser::kServerTypeOsf | browser::kServerTypeVms)) == 0) {
          theirs["smb_browser os_version"].insert(
              {device, Attribute::kOsVersion, absl::StrCat("Windows ", r[4], ".", r[5])});
        } else if (type & browser::kServerTypeUnix) {
          theirs["smb_browser os_family"].insert({device, Attribute::kOsFamily, "Unix"});
        }
        for (size_t i = 0; i < roles.size(); ++i) {
          if (r[11 + i] == "1" || r[11 + i] == "True") {
            theirs["smb_browser server_type"].insert({device, Attribute::kCapability, roles[i].second});
          }
        }
      } else if (command == "0x0c") {
        if (!r[3].empty()) theirs["smb_browser workgroup"].insert({device, Attribute::kDomain, r[3]});
        if (!r[7].empty()) theirs["smb_browser master_browser_name"].insert({device, Attribute::kHostname, r[7]});
      } else if (command == "0x08") {
        if (!r[3].empty()) theirs["smb_browser election_name"].insert({device, Attribute::kHostname, r[3]});
      } else if (command == "0x02") {
        if (!r[8].empty()) theirs["smb_browser response_name"].insert({device, Attribute::kHostname, r[8]});
      } else if (command == "0x0d") {
        if (!r[7].empty()) theirs["smb_browser master_browser_name"].insert({device, Attribute::kHostname, r[7]});
      }
    }
    for (const auto& r : TsharkFields(path, {"eth.src", "ip.src", "nbdgm.source_name", "nbdgm.src.ip"},
                                      "nbdgm && udp.port == 138 && !_ws.malformed")) {
      if (r[2].empty() || r[1] != r[3]) continue;  // relayed datagrams are about their source address
      const std::string name = NetbiosName(r[2]);
      if (!name.empty()) theirs["smb_browser nbdgm_source_name"].insert({key(r[0], r[1]), Attribute::kHostname, name});
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

std::vector<std::vector<uint8_t>> Datagrams() {
  std::vector<std::vector<uint8_t>> out;
  for (const std::string& name : kBundled) {
    const auto path = ::auscult::testing::CapturePath(name);
    if (!path) continue;
    ForEachFrame(*path, [&](const RawFrame& f) {
      Decoder d;
      PacketView v;
      if (d.Decode(f, v) && v.ip_protocol == kIpProtoUdp && v.has_transport && v.dst_port == 138) {
        out.emplace_back(v.payload.begin(), v.payload.end());
      }
    });
  }
  return out;
}

TEST(Browser, DecoderOnCutAndDamagedDatagrams) {
  const auto datagrams = Datagrams();
  if (datagrams.empty()) GTEST_SKIP() << "no browser captures";
  std::mt19937 random(138);
  int announcements = 0;
  for (const auto& payload : datagrams) {
    browser::Datagram g;
    browser::Error e;
    ASSERT_TRUE(browser::Parse(payload, g, e)) << browser::ErrorName(e);
    EXPECT_TRUE(g.browser);
    EXPECT_FALSE(g.source_name.empty());
    announcements += g.opcode == 0x01 || g.opcode == 0x0F;
    for (size_t n = 0; n < payload.size(); ++n) {
      browser::Datagram c;
      const bool ok = browser::Parse(std::span(payload).first(n), c, e);
      EXPECT_EQ(ok, e == browser::Error::kNone) << n;
    }
    for (int round = 0; round < 300; ++round) {
      std::vector<uint8_t> damaged = payload;
      for (int k = 0; k < 3; ++k) damaged[random() % damaged.size()] = static_cast<uint8_t>(random());
      browser::Datagram c;
      const bool ok = browser::Parse(damaged, c, e);
      EXPECT_EQ(ok, e == browser::Error::kNone);
      EXPECT_LE(c.server_name.size(), 16u);
      EXPECT_LE(c.comment.size(), 43u);
    }
  }
  EXPECT_GE(announcements, 7);  // 1 + 1 + 3 + 2 in the four captures
}

// Builds a datagram: NetBIOS header from `source_ip`, SMB TRANSACTION to `mailslot` with `data`.
std::vector<uint8_t> Datagram(const std::string& mailslot, const std::vector<uint8_t>& data,
                              std::array<uint8_t, 4> source_ip, uint8_t flags = 0x02) {
  std::vector<uint8_t> d;
  for (uint8_t b : {uint8_t{0x11}, flags, uint8_t{0}, uint8_t{1}}) d.push_back(b);
  for (uint8_t b : source_ip) d.push_back(b);
  for (uint8_t b : {0, 138, 0, 0, 0, 0}) d.push_back(b);
  auto name = [&](const std::string& n, uint8_t suffix) {
    std::string raw = n + std::string(15 - n.size(), ' ') + static_cast<char>(suffix);
    d.push_back(32);
    for (char ch : raw) {
      d.push_back(static_cast<uint8_t>('A' + ((static_cast<uint8_t>(ch) >> 4) & 0xF)));
      d.push_back(static_cast<uint8_t>('A' + (static_cast<uint8_t>(ch) & 0xF)));
    }
    d.push_back(0);
  };
  name("ULTRASOUND3", 0x00);
  name("CARDIOLOGY", 0x1D);
  std::vector<uint8_t> smb = {0xFF, 'S', 'M', 'B', 0x25};
  smb.resize(32, 0);
  smb.push_back(17);
  std::vector<uint8_t> words(34, 0);
  const size_t bytes_start = 32 + 1 + 34 + 2;
  const uint16_t data_offset = static_cast<uint16_t>(bytes_start + mailslot.size() + 1);
  words[22] = static_cast<uint8_t>(data.size());
  words[24] = static_cast<uint8_t>(data_offset);
  words[26] = 3;
  smb.insert(smb.end(), words.begin(), words.end());
  const uint16_t byte_count = static_cast<uint16_t>(mailslot.size() + 1 + data.size());
  smb.push_back(static_cast<uint8_t>(byte_count));
  smb.push_back(static_cast<uint8_t>(byte_count >> 8));
  smb.insert(smb.end(), mailslot.begin(), mailslot.end());
  smb.push_back(0);
  smb.insert(smb.end(), data.begin(), data.end());
  d.insert(d.end(), smb.begin(), smb.end());
  return d;
}

// [MS-BRWS] 2.2.1 HostAnnouncement.
std::vector<uint8_t> HostAnnouncement(const std::string& name, uint8_t major, uint8_t minor, uint32_t type,
                                      const std::string& comment) {
  std::vector<uint8_t> a = {0x01, 3, 0x60, 0xEA, 0, 0};
  std::string padded = name;
  padded.resize(16, '\0');
  a.insert(a.end(), padded.begin(), padded.end());
  a.insert(a.end(), {major, minor, static_cast<uint8_t>(type), static_cast<uint8_t>(type >> 8),
                     static_cast<uint8_t>(type >> 16), static_cast<uint8_t>(type >> 24), 15, 1, 0x55, 0xAA});
  a.insert(a.end(), comment.begin(), comment.end());
  a.push_back(0);
  return a;
}

class Recorder : public ParserOutput {
 public:
  void SetApplication(std::string_view name) override { application = name; }
  void AddFact(Party, const Fact& f) override { sender.insert({f.attribute, std::string(f.value)}); }
  void AddFactForMac(const MacAddress&, const Fact&) override {}
  void AddFactForAddress(const IpAddress& ip, const Fact& f) override {
    by_address.insert({ip.ToString(), f.attribute, std::string(f.value)});
  }
  void BindAddress(const MacAddress&, const IpAddress&, AddressSource) override {}
  void CountAnomaly(std::string_view name) override { ++anomalies[std::string(name)]; }
  std::string application;
  std::set<std::pair<Attribute, std::string>> sender;
  std::set<std::tuple<std::string, Attribute, std::string>> by_address;
  std::map<std::string, int> anomalies;
};

TEST(Browser, ParserFacts) {
  FlowContext ctx;
  ctx.transport = kIpProtoUdp;
  ctx.initiator = FlowEndpoint{{}, *IpAddress::Parse("10.1.2.3"), 138};
  ctx.responder = FlowEndpoint{{}, *IpAddress::Parse("10.1.2.255"), 138};
  ASSERT_TRUE(browser::Factory()->Wants(ctx, Direction::kToResponder, {}));
  auto p = browser::Factory()->Create(ctx);
  Recorder r;
  // A Windows 7 workstation with file sharing.
  p->OnData(
      Direction::kToResponder,
      Datagram("\\MAILSLOT\\BROWSE", HostAnnouncement("ULTRASOUND3", 6, 1, 0x00011003, "Echo room 2"), {10, 1, 2, 3}),
      0, r);
  EXPECT_EQ(r.application, "smb_browser");
  EXPECT_TRUE(r.sender.count({Attribute::kHostname, "ULTRASOUND3"}));
  EXPECT_TRUE(r.sender.count({Attribute::kOsVersion, "Windows 6.1"}));
  EXPECT_TRUE(r.sender.count({Attribute::kDomain, "CARDIOLOGY"}));
  EXPECT_TRUE(r.sender.count({Attribute::kSystemDescription, "Echo room 2"}));
  EXPECT_TRUE(r.sender.count({Attribute::kCapability, "workstation"}));
  EXPECT_TRUE(r.sender.count({Attribute::kCapability, "server"}));
  EXPECT_TRUE(r.sender.count({Attribute::kCapability, "windows-nt"}));
  EXPECT_TRUE(r.sender.count({Attribute::kCapability, "potential-browser"}));
  EXPECT_TRUE(r.sender.count({Attribute::kService, "smb-server"}));
  EXPECT_TRUE(r.by_address.empty());
  // Samba: the Unix bit, no OS version.
  Recorder s;
  p->OnData(Direction::kToResponder,
            Datagram("\\MAILSLOT\\BROWSE", HostAnnouncement("NAS", 4, 9, 0x00000803, ""), {10, 1, 2, 3}), 0, s);
  EXPECT_TRUE(s.sender.count({Attribute::kOsFamily, "Unix"}));
  for (const auto& [a, v] : s.sender) EXPECT_NE(a, Attribute::kOsVersion) << v;
  // Relayed by a datagram distributor: about the source address, not the sender.
  Recorder relayed;
  p->OnData(Direction::kToResponder,
            Datagram("\\MAILSLOT\\BROWSE", HostAnnouncement("LAB-PC", 10, 0, 0x1003, ""), {10, 9, 9, 9}), 0, relayed);
  EXPECT_TRUE(relayed.sender.empty());
  EXPECT_TRUE(relayed.by_address.count({"10.9.9.9", Attribute::kHostname, "LAB-PC"}));
  // Other mailslots (NETLOGON carries account names) are not decoded; the sender's name is kept.
  Recorder netlogon;
  p->OnData(Direction::kToResponder,
            Datagram("\\MAILSLOT\\NET\\NETLOGON", HostAnnouncement("jsmith", 10, 0, 0x1003, "x"), {10, 1, 2, 3}), 0,
            netlogon);
  EXPECT_EQ(netlogon.sender.size(), 1u);
  EXPECT_TRUE(netlogon.sender.count({Attribute::kHostname, "ULTRASOUND3"}));
  // A later fragment holds no SMB header.
  browser::Datagram g;
  browser::Error e;
  ASSERT_TRUE(browser::Parse(Datagram("\\MAILSLOT\\BROWSE", {1, 2, 3}, {10, 1, 2, 3}, 0x00), g, e));
  EXPECT_FALSE(g.browser);
  // Data past the datagram.
  std::vector<uint8_t> bad = Datagram("\\MAILSLOT\\BROWSE", HostAnnouncement("X", 6, 1, 1, ""), {10, 1, 2, 3});
  bad.resize(bad.size() - 10);
  Recorder b;
  p->OnData(Direction::kToResponder, bad, 0, b);
  EXPECT_EQ(b.anomalies["smb_browser_truncated"], 1);
  EXPECT_EQ(browser::ServerTypeNames(0xC0000000).size(), 0u);
}

}  // namespace
}  // namespace auscult::sensor
