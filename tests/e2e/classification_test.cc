// Classification and risk end to end: captures through the real sensor, gRPC and PostgreSQL, then
// the shipped rules file (collector/data/device_rules.txt) and the risk formula (docs/risk.md), read
// back through the CLI. Also: the rules file is read again without a restart, a broken one leaves
// the rules in force, and an analyst's word on what a device is changes its risk at once.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

using Fields = google::protobuf::Map<std::string, google::protobuf::Value>;

std::string Capture(const std::string& relative) {
  const auto p = CapturePath(relative);
  EXPECT_TRUE(p) << relative;
  return p.value_or("");
}

std::vector<std::string> Factors(const Fields& f) {
  std::vector<std::string> out;
  for (const auto& x : f.at("risk_factors").list_value().values()) {
    out.push_back(x.struct_value().fields().at("factor").string_value());
  }
  return out;
}

class ClassificationTest : public CollectorTest {
 protected:
  // The devices as `auscult devices --json` lists them, by one of their DICOM AE titles or HL7
  // applications ("AE:ARCHIVE", "HL7:RECVAPP").
  std::map<std::string, Fields> ByClinicalName() {
    std::map<std::string, Fields> out;
    const google::protobuf::Value devices = CliJson({"devices"});
    for (const auto& d : devices.list_value().values()) {
      const Fields& f = d.struct_value().fields();
      for (const auto& ae : f.at("dicom_ae_titles").list_value().values()) out["AE:" + ae.string_value()] = f;
      for (const auto& app : f.at("hl7_applications").list_value().values()) {
        const std::string& name = app.string_value();
        out["HL7:" + name.substr(0, name.find('^'))] = f;  // without an EUI-64 in components 2-3
      }
    }
    return out;
  }
};

// The examples on the clinical fixtures: the CT is a CT, the archive a PACS, the HL7
// gateway a gateway; each with the rule and the evidence that made it, and a risk whose factors
// name the unencrypted patient data.
TEST_F(ClassificationTest, ClinicalFixturesAreTypedAndRanked) {
  StartCollector();
  ASSERT_EQ(RunSensor({Capture("clinical/dicom_store_worklist.pcap")}, "radiology").exit_code, 0);
  std::map<std::string, Fields> dev = ByClinicalName();
  ASSERT_TRUE(dev.count("AE:SYNTHCT01") && dev.count("AE:ARCHIVE")) << "AE titles missing";
  const Fields& ct = dev["AE:SYNTHCT01"];
  EXPECT_EQ(ct.at("device_type").string_value(), "ct");
  EXPECT_EQ(ct.at("category").string_value(), "medical");
  EXPECT_EQ(ct.at("patient_connection").string_value(), "indirect");
  EXPECT_EQ(ct.at("fda_class").string_value(), "II");
  const Fields& pacs = dev["AE:ARCHIVE"];
  EXPECT_EQ(pacs.at("device_type").string_value(), "pacs");
  EXPECT_EQ(pacs.at("category").string_value(), "clinical-it");
  // Why: the rule and the evidence it matched.
  bool explained = false;
  for (const auto& c : ct.at("classification").list_value().values()) {
    const Fields& cf = c.struct_value().fields();
    if (cf.at("key").string_value() != "device_type") continue;
    explained = cf.at("rule").string_value() == "ct-modality-worklist" &&
                cf.at("evidence_json").string_value().find("CT Image Storage") != std::string::npos;
  }
  EXPECT_TRUE(explained) << "the CT's classification does not name its rule and evidence";
  // Risk: both carry images and worklists in clear; the CT (connected to patients through its
  // operators) ranks above the archive.
  std::vector<std::string> factors = Factors(ct);
  EXPECT_NE(std::find(factors.begin(), factors.end(), "cleartext_phi"), factors.end()) << absl::StrJoin(factors, ",");
  EXPECT_NE(std::find(factors.begin(), factors.end(), "patient_connection_indirect"), factors.end());
  factors = Factors(pacs);
  EXPECT_NE(std::find(factors.begin(), factors.end(), "phi_stored"), factors.end()) << absl::StrJoin(factors, ",");
  EXPECT_GT(ct.at("risk_score").number_value(), pacs.at("risk_score").number_value());
  EXPECT_GT(pacs.at("risk_score").number_value(), 0);

  // The HL7 capture in a database of its own (the fixtures reuse two addresses).
  collector_->Stop();
  db_ = std::make_unique<TestDatabase>(*AdminUri());
  StartCollector();
  ASSERT_EQ(RunSensor({Capture("clinical/hl7_mllp.pcap")}, "icu").exit_code, 0);
  dev = ByClinicalName();
  ASSERT_TRUE(dev.count("HL7:SYNTHGW")) << "HL7 sender missing";
  EXPECT_EQ(dev["HL7:SYNTHGW"].at("device_type").string_value(), "medical-device-gateway");
  EXPECT_EQ(dev["HL7:SYNTHGW"].at("category").string_value(), "medical");
  factors = Factors(dev["HL7:SYNTHGW"]);
  EXPECT_NE(std::find(factors.begin(), factors.end(), "cleartext_phi"), factors.end()) << absl::StrJoin(factors, ",");
}

// The table and the JSON list come sorted by risk, highest first; filters by type and risk hold.
TEST_F(ClassificationTest, DevicesAreListedByRiskWithFilters) {
  StartCollector();
  {
    const std::string csv = std::filesystem::temp_directory_path() / absl::StrCat("auscult-seg-", getpid(), ".csv");
    std::ofstream(csv) << "site,cidr,wing,department\ntest-site,10.99.0.0/24,radiology,Radiology\n";
    ASSERT_EQ(Cli({"segments", "import", csv}).exit_code, 0);
    std::filesystem::remove(csv);
  }
  ASSERT_EQ(RunSensor({Capture("clinical/dicom_store_worklist.pcap"), Capture("lldp-cdp/LLDP_and_CDP.pcap"),
                       Capture("mixed/wikipedia.pcap"), Capture("dhcp/dhcp.pcap")},
                      "mixed")
                .exit_code,
            0);
  const google::protobuf::Value all = CliJson({"devices"});
  ASSERT_GE(all.list_value().values_size(), 4);
  double previous = 101;
  std::set<std::string> types;
  for (const auto& d : all.list_value().values()) {
    const Fields& f = d.struct_value().fields();
    // What users see (issue 6): every object carries these.
    for (const char* key : {"hostname",
                            "vendor",
                            "model",
                            "serial",
                            "device_type",
                            "category",
                            "os",
                            "os_version",
                            "software_version",
                            "patch_level",
                            "department",
                            "site",
                            "wing",
                            "patient_connection",
                            "fda_class",
                            "handles_phi",
                            "clinical",
                            "roles",
                            "risk_score",
                            "risk_factors",
                            "sensors",
                            "evidence",
                            "classification"}) {
      EXPECT_TRUE(f.count(key)) << "devices --json lacks " << key;
    }
    EXPECT_LE(f.at("risk_score").number_value(), previous) << "not sorted by risk";
    previous = f.at("risk_score").number_value();
    types.insert(f.at("device_type").string_value());
    int points = 0;
    for (const auto& x : f.at("risk_factors").list_value().values()) {
      points += static_cast<int>(x.struct_value().fields().at("points").number_value());
    }
    EXPECT_EQ(points, f.at("risk_score").number_value()) << "factors do not add up to the score";
  }
  EXPECT_TRUE(types.count("ct") && types.count("switch")) << absl::StrJoin(types, ",");
  const google::protobuf::Value cts = CliJson({"devices", "--type=ct"});
  ASSERT_EQ(cts.list_value().values_size(), 1);
  const double ct_risk = cts.list_value().values(0).struct_value().fields().at("risk_score").number_value();
  const google::protobuf::Value risky = CliJson({"devices", absl::StrCat("--min_risk=", static_cast<int>(ct_risk))});
  EXPECT_GE(risky.list_value().values_size(), 1);
  EXPECT_LT(risky.list_value().values_size(), all.list_value().values_size());
  for (const auto& d : risky.list_value().values()) {
    EXPECT_GE(d.struct_value().fields().at("risk_score").number_value(), ct_risk);
  }
  // Each further filter returns exactly the devices of the full list that satisfy it.
  auto ids_where = [&](const std::function<bool(const Fields&)>& keep) {
    std::set<int64_t> out;
    for (const auto& d : all.list_value().values()) {
      if (keep(d.struct_value().fields()))
        out.insert(static_cast<int64_t>(d.struct_value().fields().at("id").number_value()));
    }
    return out;
  };
  auto ids_of = [&](const std::vector<std::string>& args) {
    std::set<int64_t> out;
    std::vector<std::string> argv = {"devices"};
    argv.insert(argv.end(), args.begin(), args.end());
    const google::protobuf::Value v = CliJson(argv);
    for (const auto& d : v.list_value().values())
      out.insert(static_cast<int64_t>(d.struct_value().fields().at("id").number_value()));
    return out;
  };
  const int middle = static_cast<int>(ct_risk) / 2;
  struct Filter {
    std::vector<std::string> args;
    std::function<bool(const Fields&)> keep;
  };
  const std::vector<Filter> filters = {
      {{"--phi"}, [](const Fields& f) { return f.at("handles_phi").bool_value(); }},
      {{absl::StrCat("--max_risk=", middle)},
       [&](const Fields& f) { return f.at("risk_score").number_value() <= middle; }},
      {{"--patient_connection=indirect"},
       [](const Fields& f) { return f.at("patient_connection").string_value() == "indirect"; }},
      {{"--patient_connection=unknown"},
       [](const Fields& f) { return f.at("patient_connection").string_value() == "unknown"; }},
      {{"--department=RADIOLOGY"}, [](const Fields& f) { return f.at("department").string_value() == "Radiology"; }},
      {{"--wing=test-wing"}, [](const Fields&) { return true; }},
      {{"--state=active"}, [](const Fields& f) { return f.at("active").bool_value(); }},
      {{"--state=inactive"}, [](const Fields& f) { return !f.at("active").bool_value(); }},
  };
  for (const Filter& filter : filters) {
    EXPECT_EQ(ids_of(filter.args), ids_where(filter.keep)) << absl::StrJoin(filter.args, " ");
  }
  EXPECT_FALSE(ids_where([](const Fields& f) { return f.at("handles_phi").bool_value(); }).empty());
  EXPECT_FALSE(ids_where([](const Fields& f) { return f.at("department").string_value() == "Radiology"; }).empty());
  EXPECT_EQ(Cli({"devices", "--state=asleep"}).exit_code, 2);

  // The table: the riskiest device on the first line, with its score and type.
  const Fields& top = all.list_value().values(0).struct_value().fields();
  const CommandResult table = Cli({"devices", "--limit=1"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  const std::vector<std::string> lines = absl::StrSplit(table.out, '\n');
  ASSERT_GE(lines.size(), 2u);
  EXPECT_NE(lines[0].find("RISK"), std::string::npos);
  EXPECT_NE(lines[0].find("TYPE"), std::string::npos);
  const std::vector<std::string> cells = absl::StrSplit(lines[1], ' ', absl::SkipEmpty());
  ASSERT_GE(cells.size(), 3u) << lines[1];
  EXPECT_EQ(cells[0], absl::StrCat(static_cast<int64_t>(top.at("id").number_value())));
  EXPECT_EQ(cells[1], absl::StrCat(static_cast<int64_t>(top.at("risk_score").number_value())));
  EXPECT_EQ(cells[2], top.at("device_type").string_value());
  // Bad filters are refused with the field named (INVALID_ARGUMENT: exit status 2).
  const CommandResult bad = Cli({"devices", "--min_risk=101"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("min_risk"), std::string::npos) << bad.err;
  EXPECT_EQ(Cli({"devices", "--order=color"}).exit_code, 2);
}

// Operators edit the rules file while the collector runs: a good edit takes effect without a
// restart, a broken one is refused and the rules in force stay.
TEST_F(ClassificationTest, RulesFileIsReloadedWithoutRestart) {
  const std::string dir = std::filesystem::temp_directory_path() / absl::StrCat("auscult-rules-", getpid());
  std::filesystem::create_directories(dir);
  const std::string rules = dir + "/device_rules.txt";
  std::filesystem::copy_file(std::string(AUSCULT_SOURCE_DIR) + "/collector/data/device_rules.txt", rules,
                             std::filesystem::copy_options::overwrite_existing);
  StartCollector({"--device_rules=" + rules});
  ASSERT_EQ(RunSensor({Capture("clinical/dicom_store_worklist.pcap")}, "radiology").exit_code, 0);
  auto type_of_archive = [&] { return ByClinicalName()["AE:ARCHIVE"].at("device_type").string_value(); };
  ASSERT_EQ(type_of_archive(), "pacs");

  // A local rule, surer than the shipped ones: this archive is a viewing workstation.
  {
    std::ofstream f(rules, std::ios::app);
    f << "\nrule local-viewer confidence=0.99 source=\"site inventory\"\n"
         "  when dicom_ae_title = ARCHIVE\n"
         "  set type=medical-workstation\n";
  }
  std::string type;
  for (int i = 0; i < 100 && (type = type_of_archive()) != "medical-workstation"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(type, "medical-workstation") << "the edited rules did not take effect";

  // A broken file: refused, logged with its line, and the rules in force stay.
  {
    std::ofstream f(rules, std::ios::app);
    f << "rule broken confidence=0.99 source=x\n  when no_such_attribute = 1\n  set type=ct\n";
  }
  bool logged = false;
  for (int i = 0; i < 100 && !logged; ++i) {
    logged = collector_->Stderr().find("unknown attribute 'no_such_attribute'") != std::string::npos;
    if (!logged) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(logged) << collector_->Stderr();
  EXPECT_NE(collector_->Stderr().find("device_rules.txt:"), std::string::npos);
  // Said once per change of the file, not at every pass (every two seconds).
  std::this_thread::sleep_for(std::chrono::milliseconds(4500));
  const std::string log = collector_->Stderr();
  size_t times = 0;
  for (size_t at = 0; (at = log.find("unknown attribute 'no_such_attribute'", at)) != std::string::npos; ++at) ++times;
  EXPECT_EQ(times, 1u) << log;
  EXPECT_TRUE(collector_->Running());
  EXPECT_EQ(type_of_archive(), "medical-workstation");
  std::filesystem::remove_all(dir);
}

// An analyst's word on what a device is wins over the rules and moves its risk at once.
TEST_F(ClassificationTest, AnalystSaysWhatADeviceIs) {
  StartCollector();
  ASSERT_EQ(RunSensor({Capture("clinical/dicom_store_worklist.pcap")}, "radiology").exit_code, 0);
  const Fields before = ByClinicalName()["AE:ARCHIVE"];
  const std::string id = absl::StrCat(static_cast<int64_t>(before.at("id").number_value()));
  ASSERT_EQ(Cli({"device", "set", id, "--field=patient_connection", "--value=direct"}).exit_code, 0);
  const google::protobuf::Value after = CliJson({"device", id});
  const Fields& f = after.struct_value().fields();
  EXPECT_EQ(f.at("patient_connection").string_value(), "direct");
  // Dashboards see the analyst's word too.
  EXPECT_EQ(db_->Scalar("SELECT patient_connection FROM dashboard.devices WHERE device_id = " + id), "direct");
  // 30 points for a direct connection, within the impact cap of 40 (docs/risk.md).
  int impact_before = 0, impact_after = 0;
  for (const auto& x : before.at("risk_factors").list_value().values()) {
    if (x.struct_value().fields().at("group").string_value() == "impact") {
      impact_before += static_cast<int>(x.struct_value().fields().at("points").number_value());
    }
  }
  bool direct = false;
  for (const auto& x : f.at("risk_factors").list_value().values()) {
    const auto& xf = x.struct_value().fields();
    if (xf.at("group").string_value() == "impact") impact_after += static_cast<int>(xf.at("points").number_value());
    direct |= xf.at("factor").string_value() == "patient_connection_direct" &&
              xf.at("detail").string_value().find("analyst override") != std::string::npos;
  }
  EXPECT_TRUE(direct) << "no patient_connection_direct factor naming the override";
  EXPECT_EQ(impact_after, std::min(40, impact_before + 30));
  EXPECT_EQ(f.at("risk_score").number_value(), before.at("risk_score").number_value() + (impact_after - impact_before));
  // Values outside the vocabulary are refused.
  const CommandResult bad = Cli({"device", "set", id, "--field=device_type", "--value=toaster"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("not a known device_type"), std::string::npos) << bad.err;
}

// The segment map says which addresses are the hospital's: importing a network makes the peers in
// it internal, and the devices talking to them lose their external-exposure factor without new
// traffic.
TEST_F(ClassificationTest, SegmentMapDecidesWhatIsExternal) {
  StartCollector();
  ASSERT_EQ(RunSensor({Capture("mixed/wikipedia.pcap")}, "admin").exit_code, 0);
  auto factors_of = [&](const std::string& ip) {
    const google::protobuf::Value d = CliJson({"devices", "--ip=" + ip});
    EXPECT_EQ(d.list_value().values_size(), 1) << ip;
    return d.list_value().values_size() == 1 ? Factors(d.list_value().values(0).struct_value().fields())
                                             : std::vector<std::string>{};
  };
  auto has = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  auto import = [&](const std::string& line) {
    const std::string csv = std::filesystem::temp_directory_path() / absl::StrCat("auscult-seg-", getpid(), ".csv");
    {
      std::ofstream f(csv);
      f << "site,cidr,wing,department\n" << line << "\n";
    }
    const CommandResult r = Cli({"segments", "import", csv});
    std::filesystem::remove(csv);
    return r.exit_code;
  };
  // The capture's campus network is public address space: the map makes it the hospital's.
  ASSERT_EQ(import("test-site,141.142.0.0/16,west-wing,Administration"), 0);
  // Its connections to Wikipedia's servers (208.80.152.0/22) are external, the others not; each
  // names the sensor that saw it.
  auto external_connections = [&] {
    int n = 0;
    const google::protobuf::Value list = CliJson({"connections", "--ip=141.142.220.118"});
    for (const auto& c : list.list_value().values()) {
      const Fields& f = c.struct_value().fields();
      n += f.at("external").bool_value();
      const std::string dst = f.at("dst_ip").string_value();
      if (dst.rfind("141.142.", 0) == 0) {
        EXPECT_FALSE(f.at("external").bool_value()) << dst;
      }
      EXPECT_EQ(f.at("sensors").list_value().values_size(), 1);
      if (f.at("sensors").list_value().values_size() == 1) {
        EXPECT_EQ(f.at("sensors").list_value().values(0).string_value(), "admin");
      }
    }
    // The exposure filter lists exactly these.
    EXPECT_EQ(CliJson({"connections", "--ip=141.142.220.118", "--external"}).list_value().values_size(), n);
    return n;
  };
  EXPECT_GT(external_connections(), 0);
  bool factor = false;
  for (int i = 0; i < 50 && !factor; ++i) {
    factor = has(factors_of("141.142.220.118"), "external_outbound");
    if (!factor) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(factor) << absl::StrJoin(factors_of("141.142.220.118"), ",");
  // Wikipedia's network imported too: nothing of it is external any more, without new traffic.
  ASSERT_EQ(import("test-site,208.80.152.0/22,datacenter,Web services"), 0);
  EXPECT_EQ(external_connections(), 0);
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    gone = !has(factors_of("141.142.220.118"), "external_outbound");
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(gone) << "still external after the network was imported as the hospital's";
}

// The whole corpus through one collector: once the sensor is acknowledged, every device is
// classified and scored (the queue is empty), and every score is the sum of its factors within the
// caps of docs/risk.md.
TEST_F(ClassificationTest, EveryCorpusDeviceIsScoredWhenTheSensorIsDone) {
  std::vector<std::string> captures;
  for (const std::string& c : SharedCaptureFiles()) captures.push_back(SharedCapturesDir() + "/" + c);
  if (captures.empty()) GTEST_SKIP() << "no ../shared/captures beside this clone";
  StartCollector();
  const CommandResult sensor = RunSensor(captures, "corpus");
  ASSERT_EQ(sensor.exit_code, 0) << sensor.err;
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM device_reclassify"), "0");
  const std::string devices = db_->Scalar("SELECT count(*) FROM devices");
  EXPECT_GT(std::stoi(devices), 300);
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM device_risk"), devices);
  EXPECT_EQ(
      db_->Scalar("SELECT count(*) FROM device_risk r WHERE r.score <> (SELECT COALESCE(sum((f->>'points')::int), 0)"
                  " FROM jsonb_array_elements(r.factors) f)"),
      "0");
  for (const char* group : {"impact", "weakness", "exposure"}) {
    EXPECT_EQ(db_->Scalar(
                  absl::StrCat("SELECT count(*) FROM device_risk r WHERE (SELECT COALESCE(sum((f->>'points')::int), 0)"
                               " FROM jsonb_array_elements(r.factors) f WHERE f->>'group' = '",
                               group, "') > ", std::string(group) == "exposure" ? 20 : 40)),
              "0")
        << group;
  }
  const std::string typed =
      db_->Scalar("SELECT count(DISTINCT device_id) FROM device_classification WHERE key = 'device_type'");
  std::printf("corpus: %s devices, %s typed, all scored\n", devices.c_str(), typed.c_str());
  EXPECT_GT(std::stoi(typed), 90);
}

// Every device whose LLDP enables the bridge capability (and neither telephone, access point nor
// station-only), or whose CDP says switch or transparent bridge (and not phone), is a switch in the
// network category: tshark reads the capabilities. On every LLDP/CDP capture of the corpus
// (../shared/captures/lldp-cdp), or the bundled one when the corpus is absent.
std::vector<std::string> LldpCaptures() {
  std::vector<std::string> out;
  for (const std::string& c : SharedCaptureFiles()) {
    if (c.rfind("lldp-cdp/", 0) == 0) out.push_back(c);
  }
  if (out.empty()) out.push_back("lldp-cdp/LLDP_and_CDP.pcap");
  return out;
}

class LldpClassificationTest : public ClassificationTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(LldpClassificationTest, BridgesAreSwitchesPerTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark not installed";
  const std::string capture = Capture(GetParam());
  std::set<std::string> bridges;
  for (const auto& row :
       TsharkFields(capture,
                    {"eth.src", "lldp.tlv.enable_system_cap.bridge", "lldp.tlv.enable_system_cap.telephone",
                     "lldp.tlv.enable_system_cap.wlan_access_pt", "lldp.tlv.enable_system_cap.station_only"},
                    "lldp")) {
    if (row[1] == "1" && row[2] != "1" && row[3] != "1" && row[4] != "1") bridges.insert(row[0]);
  }
  // CDP: a switch or transparent bridge that is not a phone.
  for (const auto& row : TsharkFields(
           capture,
           {"eth.src", "cdp.capabilities.switch", "cdp.capabilities.trans_bridge", "cdp.capabilities.voip_phone"},
           "cdp")) {
    if ((row[1] == "1" || row[2] == "1") && row[3] != "1") bridges.insert(row[0]);
  }
  if (bridges.empty()) GTEST_SKIP() << GetParam() << " has no LLDP or CDP bridge (per tshark)";
  StartCollector();
  ASSERT_EQ(RunSensor({capture}, "closet").exit_code, 0);
  for (const std::string& mac : bridges) {
    const google::protobuf::Value d = CliJson({"devices", "--mac=" + mac});
    ASSERT_EQ(d.list_value().values_size(), 1) << mac;
    const Fields& f = d.list_value().values(0).struct_value().fields();
    EXPECT_EQ(f.at("device_type").string_value(), "switch") << mac;
    EXPECT_EQ(f.at("category").string_value(), "network") << mac;
    EXPECT_EQ(f.at("patient_connection").string_value(), "none") << mac;
  }
  std::printf("%s: %zu LLDP/CDP bridges, all switches\n", GetParam().c_str(), bridges.size());
}

INSTANTIATE_TEST_SUITE_P(Captures, LldpClassificationTest, ::testing::ValuesIn(LldpCaptures()), CaptureTestName());

}  // namespace
}  // namespace auscult::testing
