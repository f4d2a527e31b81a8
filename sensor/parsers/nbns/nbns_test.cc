// NetBIOS name service: names against tshark on every corpus capture with NBNS, and the name
// decoding on bytes.
#include "sensor/parsers/nbns/nbns.h"

#include <gtest/gtest.h>

#include <regex>

#include "absl/strings/str_split.h"
#include "sensor/parsers/oracle.h"
#include "sensor/parsers/parser_testing.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::CapturesWith;
using ::auscult::sensor::testing::DeviceKeys;
using ::auscult::sensor::testing::FactKey;
using ::auscult::sensor::testing::FactsOf;
using ::auscult::sensor::testing::OracleTally;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::TsharkAllFields;

constexpr char kSep = '\x1e';

std::vector<std::string> Split(const std::string& s) {
  if (s.empty()) return {};
  return absl::StrSplit(s, kSep);
}

// What a name held by a device says of it, by its suffix (the same rules the parser states, applied
// to tshark's decoding of the names).
void Expect(std::set<FactKey>& theirs, const std::string& device, const std::string& name, int suffix, bool group) {
  if (name.empty() || name[0] == '*' || name.find("__MSBROWSE__") != std::string::npos) return;
  if (suffix == 0x00) theirs.insert({device, group ? Attribute::kDomain : Attribute::kHostname, name});
  if (suffix == 0x20 && !group) theirs.insert({device, Attribute::kHostname, name});
  if (suffix == 0x1b || suffix == 0x1c || suffix == 0x1d || suffix == 0x1e) {
    theirs.insert({device, Attribute::kDomain, name});
  }
}

TEST(Nbns, NamesMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally held("nbns names held");
  OracleTally queried("nbns names queried");
  // tshark writes "NAME<1d>", and for resource records adds the service: "NAME<1d> (Local Master Browser)".
  const std::regex name_re(R"(^(.*)<([0-9a-f]{2})>( \(.*\))?$)");
  for (const std::string& path : CapturesWith("nbns", {"mixed/wikipedia.pcap"})) {
    if (path.find("malformed/") != std::string::npos) continue;
    const DeviceKeys key(path);
    std::set<FactKey> their_held, their_queries;
    for (const auto& r : TsharkAllFields(
             path,
             {"eth.src", "ip.src", "nbns.flags.response", "nbns.flags.opcode", "nbns.flags.rcode", "nbns.name",
              "nbns.nb_flags.group", "nbns.addr", "nbns.netbios_name", "nbns.name_flags.group", "nbns.count.queries"},
             "nbns && !icmp && !_ws.malformed", kSep)) {
      const std::string device = key(Split(r[0]).at(0), r[1]);
      const bool response = r[2] == "True" || r[2] == "1";
      const int opcode = std::stoi(r[3]);
      const auto names = Split(r[5]);
      if (!response && opcode == 0) {
        for (const std::string& n : names) {
          std::smatch m;
          // Suffix 03 (the Messenger service's name, often a user's) is never reported.
          if (std::regex_match(n, m, name_re) && !m[1].str().empty() && m[1].str()[0] != '*' && m[2].str() != "03") {
            their_queries.insert({device, Attribute::kDnsQuery, m[1].str() + "<" + m[2].str() + ">"});
          }
        }
        continue;
      }
      const bool registration = !response && (opcode == 5 || opcode == 8 || opcode == 9 || opcode == 15);
      const bool answer = response && opcode == 0 && r[4] == "0";
      if (!registration && !answer) continue;
      // NB records: the record's name (the last one tshark lists: questions come first) with its
      // group flag and address; only the sender's own addresses count here.
      const auto groups = Split(r[6]);
      const auto addresses = Split(r[7]);
      std::smatch m;
      if (!names.empty() && !addresses.empty() && std::regex_match(names.back(), m, name_re)) {
        for (size_t i = 0; i < addresses.size() && i < groups.size(); ++i) {
          if (addresses[i] != r[1]) continue;
          Expect(their_held, device, m[1].str(), std::stoi(m[2].str(), nullptr, 16),
                 groups[i] == "True" || groups[i] == "1");
        }
      }
      // Node status: tshark gives the names without their suffixes; unique names are the host's,
      // group names its workgroup or domain.
      const auto status_names = Split(r[8]);
      const auto status_groups = Split(r[9]);
      for (size_t i = 0; i < status_names.size() && i < status_groups.size(); ++i) {
        const bool group = status_groups[i] == "True" || status_groups[i] == "1";
        their_held.insert({device, group ? Attribute::kDomain : Attribute::kHostname, status_names[i]});
      }
    }
    const auto ours = FactsOf(path);
    held.Compare(path, their_held, ours);
    queried.Compare(path, their_queries, ours);
  }
  EXPECT_GT(held.expected(), 0);
  EXPECT_GT(queried.expected(), 0);
}

// The messenger service's names (suffix 03) may be a logged-on user's: never reported.
TEST(Nbns, UserNamesNeverLeave) {
  const auto path = ::auscult::testing::CapturePath("nbns/nbns.pcap");
  if (!path) GTEST_SKIP() << "the corpus is absent";
  for (const auto& [device, attribute, value] : FactsOf(*path)) {
    EXPECT_EQ(value.find("ROSENAU"), std::string::npos) << value;
  }
}

// A name query (RFC 1002 4.2.12) for NAME<suffix>, first-level encoded.
std::vector<uint8_t> NameQuery(const std::string& name, uint8_t suffix) {
  std::vector<uint8_t> q = {0x12, 0x34, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 0, 32};
  std::string padded = name;
  padded.resize(15, ' ');
  padded.push_back(static_cast<char>(suffix));
  for (unsigned char c : padded) {
    q.push_back(static_cast<uint8_t>('A' + (c >> 4)));
    q.push_back(static_cast<uint8_t>('A' + (c & 0x0f)));
  }
  q.insert(q.end(), {0, 0, 0x20, 0, 1});
  return q;
}

// Asking for a user's Messenger name does not report the name either.
TEST(Nbns, UserNamesAreNotReportedAsQueries) {
  const ::auscult::sensor::testing::Host station = {{0x00, 0x1b, 0x3c, 0, 2, 1}, {10, 40, 0, 21}};
  const ::auscult::sensor::testing::Host broadcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {10, 40, 0, 255}};
  ::auscult::sensor::testing::SyntheticCapture c;
  c.Udp(station, 137, broadcast, 137, NameQuery("JSMITH", 0x03));
  c.Udp(station, 137, broadcast, 137, NameQuery("PACS01", 0x20));
  const std::string path = ::auscult::sensor::testing::SyntheticCapturePath("nbns_user");
  c.Write(path);
  const auto facts = FactsOf(path);
  EXPECT_TRUE(facts.count({"00:1b:3c:00:02:01", Attribute::kDnsQuery, "PACS01<20>"}));
  for (const auto& [device, attribute, value] : facts) EXPECT_EQ(value.find("JSMITH"), std::string::npos) << value;
  if (!HaveTshark()) return;
  // tshark reads both queries the same way.
  const auto rows = ::auscult::testing::TsharkFields(path, {"nbns.name"}, "nbns");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0], "JSMITH<03>");
  EXPECT_EQ(rows[1][0], "PACS01<20>");
}

TEST(NbnsMessage, FirstLevelEncoding) {
  nbns::Name n;
  // "FRED" padded with spaces, suffix 00 (RFC 1001 §14.1's example, without scope).
  ASSERT_TRUE(nbns::DecodeName("EGFCEFEECACACACACACACACACACACAAA", n));
  EXPECT_EQ(n.name, "FRED");
  EXPECT_EQ(n.suffix, 0);
  EXPECT_EQ(nbns::NameText(n), "FRED<00>");
  ASSERT_TRUE(nbns::DecodeName("FHEPFCELEHFCEPFFFACACACACACACABN.scope.example", n));
  EXPECT_EQ(n.name, "WORKGROUP");
  EXPECT_EQ(n.suffix, 0x1d);
  for (const char* bad : {"", "EGFCEFEE", "EGFCEFEECACACACACACACACACACACAAZ", "egfcefeecacacacacacacacacacacaaa"}) {
    EXPECT_FALSE(nbns::DecodeName(bad, n)) << bad;
  }
  std::vector<nbns::NameEntry> entries;
  const uint8_t nb[] = {0x80, 0x00, 10, 0, 0, 7, 0x00, 0x00, 10, 0, 0, 8};
  ASSERT_TRUE(nbns::DecodeNb(n, nb, entries));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_TRUE(entries[0].group);
  EXPECT_EQ(entries[1].address.ToString(), "10.0.0.8");
  entries.clear();
  EXPECT_FALSE(nbns::DecodeNb(n, std::span(nb, 5), entries));
  // Node status: a count promising more names than the bytes hold is refused.
  const uint8_t status[] = {2,   'G', 'U', 'N', 'N', 'A', 'R',  ' ',  ' ', ' ',
                            ' ', ' ', ' ', ' ', ' ', ' ', 0x20, 0x04, 0x00};
  entries.clear();
  EXPECT_FALSE(nbns::DecodeNbstat(status, entries));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].name.name, "GUNNAR");
  EXPECT_EQ(entries[0].name.suffix, 0x20);
  EXPECT_FALSE(entries[0].group);
}

TEST(Nbns, MalformedCaptureIsCounted) {
  const auto path = ::auscult::testing::CapturePath("malformed/nbns-valgrind.pcap");
  if (!path) GTEST_SKIP() << "the corpus is absent";
  EngineOptions options;
  options.flows.parsers = Parsers();
  ::auscult::sensor::testing::EngineRun run;
  ::auscult::sensor::testing::RunEngine(*path, options, nullptr, run);
  uint64_t anomalies = 0;
  for (const auto& [name, n] : run.parser_anomalies) {
    if (name.substr(0, 5) == "nbns_") anomalies += n;
  }
  EXPECT_GT(anomalies, 0u);
}

}  // namespace
}  // namespace auscult::sensor
