// DICOM through the whole packet path, against tshark's DICOM dissector, on the captures DCMTK made
// (tests/data/captures/clinical, made by tests/fixtures/) and the corpus's synthetic one when it is
// there: AE titles, roles, implementation, SOP classes accepted, user identity, association PDUs
// and DIMSE commands with response times, patient data moved; and nothing of the patient or the
// credentials in any fact.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "sensor/parsers/dicom/dicom_parser.h"
#include "sensor/parsers/oracle.h"
#include "sensor/parsers/parser_testing.h"

namespace auscult::sensor::dicom {
namespace {

using ::auscult::sensor::testing::DeviceKeys;
using ::auscult::sensor::testing::EngineRun;
using ::auscult::sensor::testing::FactKey;
using ::auscult::sensor::testing::OracleTally;
using ::auscult::sensor::testing::RunSensor;
using ::auscult::sensor::testing::SensorRun;
using ::auscult::testing::HaveTshark;

constexpr const char* kCaptures[] = {
    "clinical/dicom_store_worklist.pcap",
    "clinical/dicom_user_identity.pcap",  // on port 4242
    "clinical/dicom_reject_abort.pcap",
    "medical-synthetic/ct_to_pacs_scenario.pcap",  // corpus only
};

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  return s;
}

// "CT Image Storage (1.2.840...)" or "Verification SOP Class (1.2.840.10008.1.1)" -> the PS3.6 name.
std::string SopName(const std::string& tshark) {
  std::string name = tshark.substr(0, tshark.rfind(" ("));
  if (absl::EndsWith(name, " SOP Class")) name.resize(name.size() - 10);
  return name;
}

struct Expected {
  std::set<FactKey> facts;
  std::map<std::string, uint64_t> messages;
  uint64_t images = 0, worklist = 0;
  uint64_t credential_streams = 0;
  uint64_t responses_timed = 0;
  double response_time_sum_us = 0;
};

Expected FromTshark(const std::string& path, const SensorRun& run) {
  const DeviceKeys key(path);
  Expected e;
  struct Stream {
    std::string requester, acceptor, called;
    std::map<std::string, std::string> proposed;  // context id -> SOP class name
    std::map<std::string, double> requests;       // "C-STORE ID=1" -> time
  };
  std::map<std::string, Stream> streams;
  std::set<std::string> credential_streams;
  const std::regex command(R"(([CN]-[A-Z]+)-(RQ|RSP) ID=(\d+)( \(([A-Za-z ]+)\))?)");
  const std::regex data(R"(C-FIND-RSP-DATA)");
  for (const auto& r : ::auscult::testing::TsharkAllFields(
           path,
           {"frame.time_epoch", "eth.src", "ip.src", "tcp.stream", "dicom.pdu.type", "dicom.assoc.ae.calling",
            "dicom.assoc.ae.called", "dicom.pctx.id", "dicom.pctx.abss.syntax", "dicom.pctx.result",
            "dicom.userinfo.uid", "dicom.userinfo.version", "dicom.assoc.item.type", "_ws.col.Info", "eth.dst",
            "ip.dst"},
           "dicom", '|')) {
    double time = 0;
    EXPECT_TRUE(absl::SimpleAtod(r[0], &time));
    const std::string sender = run.Device(key, r[1], r[2]);
    const std::string receiver = run.Device(key, r[14], r[15]);
    Stream& s = streams[r[3]];
    const std::vector<std::string> types = absl::StrSplit(r[4], '|');
    const std::vector<std::string> ids = absl::StrSplit(r[7], '|', absl::SkipEmpty());
    const std::vector<std::string> syntaxes = absl::StrSplit(r[8], '|', absl::SkipEmpty());
    const std::vector<std::string> results = absl::StrSplit(r[9], '|', absl::SkipEmpty());
    const std::string info = r[13];
    auto fact = [&](const std::string& device, Attribute a, const std::string& v) {
      if (!v.empty()) e.facts.insert({device, a, v});
    };
    const std::string implementation = r[11].empty() ? r[10] : r[10] + " " + r[11];
    if (types[0] == "0x01") {
      ++e.messages["A-ASSOCIATE-RQ"];
      s = Stream{sender, receiver, Trim(r[6]), {}, {}};
      for (size_t i = 0; i < ids.size() && i < syntaxes.size(); ++i) s.proposed[ids[i]] = SopName(syntaxes[i]);
      fact(sender, Attribute::kDicomAeTitle, Trim(r[5]));
      fact(sender, Attribute::kClinicalRole, "dicom-scu");
      fact(sender, Attribute::kDicomImplementation, implementation);
      fact(sender, Attribute::kSoftwareVersion, r[11]);
      if (absl::StrContains(r[12], "0x58")) {
        credential_streams.insert(r[3]);
        fact(sender, Attribute::kRisk, "dicom_cleartext_credentials");
      }
      continue;
    }
    if (types[0] == "0x02") {
      ++e.messages["A-ASSOCIATE-AC"];
      fact(sender, Attribute::kDicomAeTitle, s.called);
      fact(sender, Attribute::kClinicalRole, "dicom-scp");
      fact(sender, Attribute::kDicomImplementation, implementation);
      fact(sender, Attribute::kSoftwareVersion, r[11]);
      for (size_t i = 0; i < ids.size() && i < results.size(); ++i) {
        if (results[i] != "0x00" || !s.proposed.count(ids[i])) continue;
        fact(sender, Attribute::kDicomSopClass, s.proposed[ids[i]]);
        fact(receiver, Attribute::kDicomSopClass, s.proposed[ids[i]]);
      }
      continue;
    }
    if (types[0] == "0x03") ++e.messages["A-ASSOCIATE-RJ"];
    if (types[0] == "0x05") ++e.messages["A-RELEASE-RQ"];
    if (types[0] == "0x06") ++e.messages["A-RELEASE-RP"];
    if (types[0] == "0x07") ++e.messages["A-ABORT"];
    for (auto it = std::sregex_iterator(info.begin(), info.end(), command); it != std::sregex_iterator(); ++it) {
      const std::smatch& m = *it;
      const std::string name = m[1].str() + "-" + m[2].str();
      ++e.messages[name];
      const std::string id = m[1].str() + " ID=" + m[3].str();
      if (m[2] == "RQ") {
        s.requests[id] = time;
        if (name == "C-STORE-RQ") ++e.images;
        if (name == "C-FIND-RQ") ++e.worklist;  // the fixtures' C-FIND are worklist queries
      } else if (m[4].matched && m[5] != "Pending") {
        if (const auto req = s.requests.find(id); req != s.requests.end()) {
          ++e.responses_timed;
          e.response_time_sum_us += (time - req->second) * 1e6;
          s.requests.erase(req);
        }
      }
    }
    for (auto it = std::sregex_iterator(info.begin(), info.end(), data); it != std::sregex_iterator(); ++it) {
      ++e.worklist;  // a worklist match: the patient's identifiers
    }
  }
  e.credential_streams = credential_streams.size();
  return e;
}

TEST(DicomOracle, FieldsMessagesAndPatientDataMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally tally("dicom");
  for (const char* name : kCaptures) {
    const auto path = ::auscult::testing::CapturePath(name);
    if (!path) {
      std::printf("dicom %s: not here (corpus absent), skipped\n", name);
      continue;
    }
    SCOPED_TRACE(name);
    const SensorRun run = RunSensor(*path);
    const Expected expected = FromTshark(*path, run);
    ASSERT_FALSE(expected.messages.empty()) << "tshark found no DICOM in " << name;
    tally.Compare(name, expected.facts, run.facts);
    ::auscult::sensor::testing::ExpectNothingBeyond(
        expected.facts, run.facts,
        {Attribute::kDicomAeTitle, Attribute::kDicomSopClass, Attribute::kDicomImplementation, Attribute::kClinicalRole,
         Attribute::kRisk});

    std::map<std::string, uint64_t> messages;
    uint64_t images = 0, worklist = 0, credential_flows = 0, timed = 0, dicom_flows = 0, clinical = 0;
    double sum_us = 0;
    for (const FlowRecord& f : run.flows) {
      if (f.application != "dicom") continue;
      ++dicom_flows;
      clinical += f.clinical;
      credential_flows += f.cleartext_credentials;
      images += f.phi[static_cast<int>(PhiKind::kImages) - 1];
      worklist += f.phi[static_cast<int>(PhiKind::kWorklist) - 1];
      for (const MessageCountRecord& m : f.messages) {
        messages[m.name] += m.count;
        sum_us += static_cast<double>(m.response_time_sum_us);
        if (m.name.ends_with("-RSP") && m.response_time_sum_us > 0) timed += m.count;
      }
    }
    EXPECT_EQ(clinical, dicom_flows);
    EXPECT_EQ(messages, expected.messages);
    EXPECT_EQ(images, expected.images);
    EXPECT_EQ(worklist, expected.worklist);
    EXPECT_EQ(credential_flows, expected.credential_streams);
    EXPECT_NEAR(sum_us, expected.response_time_sum_us, 1.0 + static_cast<double>(expected.responses_timed));
    std::printf(
        "dicom %s: %zu facts, %zu message kinds, %llu images, %llu worklist messages, %llu flows with "
        "credentials in clear, %llu responses timed (%.0f us); tshark agrees\n",
        name, expected.facts.size(), expected.messages.size(), static_cast<unsigned long long>(expected.images),
        static_cast<unsigned long long>(expected.worklist),
        static_cast<unsigned long long>(expected.credential_streams),
        static_cast<unsigned long long>(expected.responses_timed), expected.response_time_sum_us);
  }
}

// Neither the synthetic patient nor the user identity's credentials reach any fact or message name.
TEST(DicomOracle, NoPatientDataOrCredentialsInOutput) {
  for (const char* name : kCaptures) {
    const auto path = ::auscult::testing::CapturePath(name);
    if (!path) continue;
    EngineRun engine;
    EngineOptions options;
    options.flows.parsers = Parsers();
    ::auscult::sensor::testing::RunEngine(*path, options, nullptr, engine);
    std::vector<std::string> out;
    for (const DeviceRecord& d : engine.sink.devices) {
      for (const FactRecord& f : d.facts) out.push_back(f.value);
    }
    for (const FlowRecord& f : engine.sink.flows) {
      for (const MessageCountRecord& m : f.messages) out.push_back(m.name);
    }
    ASSERT_FALSE(out.empty());
    for (const std::string& v : out) {
      for (const char* needle : {"SYNTH123", "DOE", "JANE", "19700101", "SYNTHUSER", "SYNTHPASS"}) {
        EXPECT_EQ(v.find(needle), std::string::npos) << name << ": " << v;
      }
    }
  }
}

}  // namespace
}  // namespace auscult::sensor::dicom
