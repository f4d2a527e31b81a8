// Advisories end to end: `auscult advisories import` into a real collector and PostgreSQL, devices
// streamed as a sensor reports them with evidence built from the advisories' own product trees,
// and the matches read back through the CLI (device, advisories list|show), the dashboard view
// and the risk score. CISA's medical advisories come from ../shared/advisories (those tests skip
// when it is absent); a small advisory of our own making runs everywhere.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

namespace fs = std::filesystem;
using google::protobuf::Value;

const Value& Field(const Value& object, const std::string& key) {
  static const Value kNull;
  const auto& fields = object.struct_value().fields();
  auto it = fields.find(key);
  return it == fields.end() ? kNull : it->second;
}
std::string Str(const Value& object, const std::string& key) { return Field(object, key).string_value(); }

// Our own advisory in CISA's shape: a pump line with a range, an exact version and a fixed one.
constexpr char kExample[] = R"json({
  "document": {"csaf_version": "2.0", "category": "csaf_security_advisory",
    "title": "Example Infusion Systems InfuseRight pumps", "publisher": {"name": "Example PSIRT"},
    "tracking": {"id": "EXAMPLE-2026-001", "version": "VERSION", "initial_release_date": "2026-01-01T00:00:00Z",
                 "current_release_date": "2026-0MONTH-01T00:00:00Z"}},
  "product_tree": {"branches": [{"category": "vendor", "name": "Example Infusion Systems, Inc.", "branches": [
    {"category": "product_name", "name": "InfuseRight IR-300 Syringe Pump", "branches": [
      {"category": "product_version_range", "name": "<= 2.4.1",
       "product": {"name": "InfuseRight IR-300 Syringe Pump <= 2.4.1", "product_id": "P1"}}]},
    {"category": "product_name", "name": "InfuseRight IR-300 Syringe Pump", "branches": [
      {"category": "product_version", "name": "2.4.2",
       "product": {"name": "InfuseRight IR-300 Syringe Pump 2.4.2", "product_id": "P2"}}]}]}]},
  "vulnerabilities": [{"cve": "CVE-2026-0001", "cwe": {"id": "CWE-798", "name": "Use of Hard-coded Credentials"},
    "scores": [{"products": ["P1"], "cvss_v3": {"version": "3.1", "baseScore": 9.8, "baseSeverity": "CRITICAL",
      "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}],
    "product_status": {"known_affected": ["P1"], "fixed": ["P2"]},
    "remediations": [{"category": "vendor_fix", "details": "Update the pump to 2.4.2.", "product_ids": ["P1"]}]}]
})json";

std::string Example(const std::string& version, int month) {
  return absl::StrReplaceAll(kExample, {{"VERSION", version}, {"MONTH", absl::StrCat(month)}});
}

class AdvisoriesTest : public CollectorTest {
 protected:
  std::string Write(const std::string& name, const std::string& content) {
    const fs::path dir = fs::path(::testing::TempDir()) / absl::StrCat("advisories-", port_);
    fs::create_directories(dir);
    const fs::path p = dir / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
};

google::protobuf::Timestamp At(int64_t seconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  return t;
}

constexpr int64_t kT0 = 1780000000;

// A device as a sensor reports it: a MAC and facts from named protocols.
struct FakeDevice {
  std::string mac;
  std::vector<std::tuple<v1::Attribute, std::string, std::string>> facts;  // attribute, value, protocol
};

v1::ObservationBatch BatchOf(const std::vector<FakeDevice>& devices, uint64_t sequence) {
  v1::ObservationBatch b;
  b.mutable_sensor()->set_sensor_id("ward-7");
  b.mutable_sensor()->set_site("test-site");
  b.mutable_sensor()->set_wing("test-wing");
  b.mutable_sensor()->set_version("test");
  b.set_epoch(1);
  b.set_sequence(sequence);
  for (const FakeDevice& f : devices) {
    v1::DeviceObservation* d = b.add_devices();
    d->set_mac(f.mac);
    *d->mutable_first_seen() = At(kT0);
    *d->mutable_last_seen() = At(kT0 + 60);
    d->set_packets_sent(10);
    for (const auto& [attribute, value, protocol] : f.facts) {
      v1::DeviceFact* fact = d->add_facts();
      fact->set_attribute(attribute);
      fact->set_value(value);
      fact->mutable_provenance()->set_protocol(protocol);
      fact->mutable_provenance()->set_field("test");
      fact->set_confidence(0.9f);
      *fact->mutable_first_seen() = At(kT0);
      *fact->mutable_last_seen() = At(kT0 + 60);
      fact->set_count(1);
    }
  }
  return b;
}

TEST_F(AdvisoriesTest, ImportIsIdempotentKeepsTheNewestVersionAndRefusesBadFilesByName) {
  StartCollector();
  const std::string v1 = Write("example-v1.json", Example("1", 1));
  const std::string v2 = Write("example-v2.json", Example("2", 2));
  const std::string truncated = Write("truncated.json", Example("3", 3).substr(0, 400));
  const std::string no_version =
      Write("no-csaf-version.json", absl::StrReplaceAll(Example("4", 4), {{"\"csaf_version\": \"2.0\", ", ""}}));
  // Bytes that are not UTF-8 in a string: refused, and the answer still a valid message.
  const std::string not_utf8 =
      Write("not-utf8.json", absl::StrReplaceAll(Example("5", 5), {{"InfuseRight pumps", "InfuseRight \xff\xfe pumps"}}));

  auto outcome = [&](const std::vector<std::string>& files) {
    std::vector<std::string> args = {"advisories", "import"};
    args.insert(args.end(), files.begin(), files.end());
    args.push_back("--json");
    const CommandResult r = Cli(args);
    std::string out;
    const Value parsed = ParseJson(r.out);
    for (const Value& v : parsed.list_value().values()) {
      absl::StrAppend(&out, out.empty() ? "" : " ", Str(v, "file"), "=", Str(v, "outcome"),
                      Str(v, "replaced_version").empty() ? "" : "/" + Str(v, "replaced_version"));
    }
    return absl::StrCat(out, " rc=", r.exit_code);
  };
  EXPECT_EQ(outcome({v1}), "example-v1.json=imported rc=0");
  EXPECT_EQ(outcome({v1}), "example-v1.json=unchanged rc=0");
  EXPECT_EQ(outcome({v2}), "example-v2.json=updated/1 rc=0");
  EXPECT_EQ(outcome({v1}), "example-v1.json=older/2 rc=0");
  // A bad file is named with its reason; the good ones beside it still go in.
  const CommandResult bad =
      Cli({"advisories", "import", truncated, no_version, not_utf8, v2, "/nonexistent/advisory.json"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("refused truncated.json: not JSON"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("refused no-csaf-version.json: document.csaf_version: missing"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("/nonexistent/advisory.json: no such file or folder"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("refused not-utf8.json: "), std::string::npos) << bad.err;
  EXPECT_NE(bad.out.find("unchanged EXAMPLE-2026-001 version 2"), std::string::npos) << bad.out;
  EXPECT_EQ(db_->Scalar("SELECT version FROM advisories"), "2");
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM advisories"), "1");
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM admin_actions WHERE action = 'import_advisory'"), "2");

  // CISA's medical advisories, when here: all of them once, then nothing new.
  const fs::path corpus = fs::path(SharedCapturesDir()).parent_path() / "advisories" / "csaf-medical";
  if (!fs::exists(corpus)) GTEST_SKIP() << corpus << " is not here: the corpus import was not tried";
  const CommandResult first = Cli({"advisories", "import", corpus.string()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("144 documents: 144 imported, 0 updated, 0 unchanged, 0 older, 0 refused"),
            std::string::npos)
      << first.out;
  const CommandResult again = Cli({"advisories", "import", corpus.string()});
  EXPECT_NE(again.out.find("144 documents: 0 imported, 0 updated, 144 unchanged, 0 older, 0 refused"),
            std::string::npos)
      << again.out;
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM advisory_products"), "609");  // 607 and our example's 2
  EXPECT_EQ(db_->Scalar("SELECT count(DISTINCT cve) FROM advisory_vulnerabilities WHERE cve LIKE 'CVE-%'"), "429");
}

// The devices of the ward, each built from an advisory's product tree (or from our example's).
struct Case {
  const char* name;
  FakeDevice device;
  // tracking id -> expected match ("" = must not match)
  std::map<std::string, std::string> expect;
};

TEST_F(AdvisoriesTest, DevicesBuiltFromProductTreesMatchWithTheirConfidenceEverywhere) {
  const fs::path corpus = fs::path(SharedCapturesDir()).parent_path() / "advisories" / "csaf-medical";
  const bool have_corpus = fs::exists(corpus);
  StartCollector();
  ASSERT_EQ(Cli({"advisories", "import", Write("example.json", Example("1", 1))}).exit_code, 0);
  if (have_corpus) {
    ASSERT_EQ(Cli({"advisories", "import", corpus.string()}).exit_code, 0);
  }

  using A = v1::Attribute;
  std::vector<Case> cases = {
      // Our example: "<= 2.4.1" affected, 2.4.2 fixed.
      {"pump at the boundary",
       {"02:00:5e:10:00:01",
        {{A::ATTRIBUTE_VENDOR, "Example Infusion Systems", "lldp"},
         {A::ATTRIBUTE_MODEL, "InfuseRight IR-300", "lldp"},
         {A::ATTRIBUTE_FIRMWARE_VERSION, "2.4.1", "lldp"}}},
       {{"EXAMPLE-2026-001", "version_range"}}},
      {"pump fixed",
       {"02:00:5e:10:00:02",
        {{A::ATTRIBUTE_VENDOR, "Example Infusion Systems", "lldp"},
         {A::ATTRIBUTE_MODEL, "InfuseRight IR-300", "lldp"},
         {A::ATTRIBUTE_FIRMWARE_VERSION, "2.4.2", "lldp"}}},
       {{"EXAMPLE-2026-001", ""}}},
      {"pump of unknown version",
       {"02:00:5e:10:00:03",
        {{A::ATTRIBUTE_VENDOR, "Example Infusion Systems", "lldp"}, {A::ATTRIBUTE_MODEL, "IR-300", "lldp"}}},
       {{"EXAMPLE-2026-001", "product_only"}}},
  };
  if (have_corpus) {
    const std::vector<Case> real = {
        // ICSMA-24-151-02 "<=1.52" and ICSMA-21-152-01 "< 1.52", Welch Allyn Connex Spot Monitor
        // (vendor Baxter and Hillrom; the monitor's MAC says Welch Allyn).
        {"CSM 1.52",
         {"00:11:22:30:00:01",
          {{A::ATTRIBUTE_VENDOR, "Welch Allyn", "oui"},
           {A::ATTRIBUTE_MODEL, "Connex Spot Monitor", "lldp"},
           {A::ATTRIBUTE_FIRMWARE_VERSION, "1.52", "lldp"}}},
         {{"ICSMA-24-151-02", "version_range"}, {"ICSMA-21-152-01", ""}}},
        {"CSM 1.52.01",
         {"00:11:22:30:00:02",
          {{A::ATTRIBUTE_VENDOR, "Welch Allyn", "oui"},
           {A::ATTRIBUTE_MODEL, "Connex Spot Monitor", "lldp"},
           {A::ATTRIBUTE_FIRMWARE_VERSION, "1.52.01", "lldp"}}},
         // 24-151-02 names 1.52.01 as its fix, but "<=1.52" alone may mean the whole 1.52 line:
         // possibly affected ("prefix"), never cleared on a guess; "< 1.52" excludes the line.
         {{"ICSMA-24-151-02", "product_only"}, {"ICSMA-21-152-01", ""}}},
        {"CSM 1.51",
         {"00:11:22:30:00:03",
          {{A::ATTRIBUTE_VENDOR, "Welch Allyn", "oui"},
           {A::ATTRIBUTE_MODEL, "Connex Spot Monitor", "lldp"},
           {A::ATTRIBUTE_FIRMWARE_VERSION, "1.51", "lldp"}}},
         {{"ICSMA-24-151-02", "version_range"}, {"ICSMA-21-152-01", "version_range"}}},
        // ICSMA-17-250-02A: Medfusion 4000 versions 1.1, 1.5 and 1.6 exactly.
        {"Medfusion 1.6",
         {"00:11:22:30:00:04",
          {{A::ATTRIBUTE_VENDOR, "Smiths Medical ASD", "oui"},
           {A::ATTRIBUTE_MODEL, "Medfusion 4000", "dhcp"},
           {A::ATTRIBUTE_SOFTWARE_VERSION, "1.6", "http"}}},
         {{"ICSMA-17-250-02A", "exact_version"}}},
        {"Medfusion 1.7",
         {"00:11:22:30:00:05",
          {{A::ATTRIBUTE_VENDOR, "Smiths Medical ASD", "oui"},
           {A::ATTRIBUTE_MODEL, "Medfusion 4000", "dhcp"},
           {A::ATTRIBUTE_SOFTWARE_VERSION, "1.7", "http"}}},
         {{"ICSMA-17-250-02A", ""}}},
        // ICSMA-17-255-01: IntelliVue MX40 "< B.06.18".
        {"MX40 unknown version",
         {"00:11:22:30:00:06",
          {{A::ATTRIBUTE_VENDOR, "Philips Medical Systems", "oui"}, {A::ATTRIBUTE_MODEL, "IntelliVue MX40", "lldp"}}},
         {{"ICSMA-17-255-01", "product_only"}}},
        {"MX40 B.06.18",
         {"00:11:22:30:00:07",
          {{A::ATTRIBUTE_VENDOR, "Philips Medical Systems", "oui"},
           {A::ATTRIBUTE_MODEL, "IntelliVue MX40", "lldp"},
           {A::ATTRIBUTE_SOFTWARE_VERSION, "B.06.18", "lldp"}}},
         {{"ICSMA-17-255-01", ""}}},
        {"MX40 B.06.17",
         {"00:11:22:30:00:08",
          {{A::ATTRIBUTE_VENDOR, "Philips Medical Systems", "oui"},
           {A::ATTRIBUTE_MODEL, "IntelliVue MX40", "lldp"},
           {A::ATTRIBUTE_SOFTWARE_VERSION, "B.06.17", "lldp"}}},
         {{"ICSMA-17-255-01", "version_range"}}},
        // ICSMA-22-174-01: DCMTK "< 3.6.7", as a DICOM association names it.
        {"DCMTK 3.6.6",
         {"00:11:22:30:00:09",
          {{A::ATTRIBUTE_SOFTWARE, "DCMTK", "dicom"}, {A::ATTRIBUTE_SOFTWARE_VERSION, "OFFIS_DCMTK_366", "dicom"}}},
         {{"ICSMA-22-174-01", "version_range"}}},
        {"DCMTK 3.6.7",
         {"00:11:22:30:00:0a",
          {{A::ATTRIBUTE_SOFTWARE, "DCMTK", "dicom"}, {A::ATTRIBUTE_SOFTWARE_VERSION, "OFFIS_DCMTK_367", "dicom"}}},
         {{"ICSMA-22-174-01", ""}}},
        // Contec GmbH is not Contec Health (ICSMA-22-244-01, CMS8000).
        {"Contec GmbH",
         {"00:11:22:30:00:0b", {{A::ATTRIBUTE_VENDOR, "Contec GmbH", "oui"}, {A::ATTRIBUTE_MODEL, "CMS8000", "dhcp"}}},
         {{"ICSMA-22-244-01", ""}}},
    };
    cases.insert(cases.end(), real.begin(), real.end());
  }
  std::vector<FakeDevice> devices;
  for (const Case& c : cases) devices.push_back(c.device);
  const StreamResult sent = StreamBatches(target(), {BatchOf(devices, 1)});
  ASSERT_EQ(sent.status_code, 0) << sent.status_message;

  auto id_of = [&](const std::string& mac) {
    return db_->Scalar("SELECT device_id FROM devices WHERE mac = '" + mac + "'");
  };
  // Matched once the classifier has read the advisories and worked off its queue: every expected
  // match is there (the devices without one were classified in the same passes).
  auto stored = [&](const std::string& mac, const std::string& tracking) {
    return db_->Scalar("SELECT m.match FROM device_advisories m JOIN devices d USING (device_id) WHERE d.mac = '" +
                       mac + "' AND m.tracking_id = '" + tracking + "'");
  };
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (const Case& c : cases) {
          for (const auto& [tracking, match] : c.expect) {
            if (!match.empty() && stored(c.device.mac, tracking) != match) return false;
          }
        }
        return db_->Scalar("SELECT count(*) FROM device_reclassify") == "0";
      },
      absl::Seconds(30)));
  size_t checked = 0;
  for (const Case& c : cases) {
    const std::string id = id_of(c.device.mac);
    ASSERT_FALSE(id.empty()) << c.name;
    const Value device = CliJson({"device", id});
    std::map<std::string, std::string> found;
    for (const Value& m : Field(device, "advisories").list_value().values()) {
      found[Str(m, "tracking_id")] = Str(m, "match");
      // Every match carries its CVEs with the score for its product.
      EXPECT_GT(Field(m, "cves").list_value().values_size(), 0) << c.name << " " << Str(m, "tracking_id");
    }
    for (const auto& [tracking, match] : c.expect) {
      const auto it = found.find(tracking);
      EXPECT_EQ(it == found.end() ? "" : it->second, match) << c.name << ": " << tracking;
      ++checked;
    }
    EXPECT_EQ(Field(device, "advisory_count").number_value(), static_cast<double>(found.size())) << c.name;
  }
  EXPECT_GE(checked, 3u);

  // The example's match in every place it shows: CLI text, advisories list and show, dashboard view.
  const std::string pump = id_of("02:00:5e:10:00:01");
  const CommandResult text = Cli({"device", pump});
  EXPECT_NE(text.out.find("EXAMPLE-2026-001  CVSS 9.8  affected (version in range)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("fix: Update the pump to 2.4.2."), std::string::npos) << text.out;
  const Value shown = CliJson({"advisories", "show", "example-2026-001"});
  ASSERT_EQ(Field(shown, "devices").list_value().values_size(), 2);  // the boundary and the unknown version
  EXPECT_EQ(Field(shown, "devices_affected").number_value(), 1);
  EXPECT_EQ(Field(shown, "devices_possibly_affected").number_value(), 1);
  const Value listed = CliJson({"advisories", "list", "--matched", "--cve=CVE-2026-0001"});
  ASSERT_EQ(listed.list_value().values_size(), 1);
  EXPECT_EQ(Str(listed.list_value().values(0), "tracking_id"), "EXAMPLE-2026-001");
  EXPECT_EQ(db_->Scalar("SELECT string_agg(cve || ' ' || base_score || ' ' || match || ' ' || vendor_fix, ';')"
                        " FROM dashboard.device_vulnerabilities WHERE device_id = " +
                        pump + " AND status = 'known_affected'"),
            "CVE-2026-0001 9.8 version_range Update the pump to 2.4.2.");

  // The risk factor, weighted by the patient connection an analyst gives: direct counts in full,
  // none half (docs/risk.md). CVSS 9.8 gives 25 points confirmed, 12 possibly.
  const std::string unknown_version = id_of("02:00:5e:10:00:03");
  ASSERT_EQ(Cli({"device", "set", pump, "--field=patient_connection", "--value=direct"}).exit_code, 0);
  ASSERT_EQ(Cli({"device", "set", unknown_version, "--field=patient_connection", "--value=none"}).exit_code, 0);
  auto points = [&](const std::string& id, const std::string& factor) {
    return db_->Scalar("SELECT points FROM dashboard.device_risk WHERE device_id = " + id + " AND factor = '" + factor +
                       "'");
  };
  ASSERT_TRUE(WaitUntil(
      [&] {
        return points(pump, "advisory_affected") == "25" &&
               points(unknown_version, "advisory_possibly_affected") == "6";
      },
      absl::Seconds(30)))
      << points(pump, "advisory_affected") << " " << points(unknown_version, "advisory_possibly_affected");
  EXPECT_EQ(points(id_of("02:00:5e:10:00:02"), "advisory_affected"), "");

  // A newer version of the advisory that lists 2.4.1 as fixed takes the boundary pump's match away.
  std::string v2 = absl::StrReplaceAll(Example("2", 2), {{"\"<= 2.4.1\"", "\"<= 2.4.0\""}});
  ASSERT_EQ(Cli({"advisories", "import", Write("example-v2.json", v2)}).exit_code, 0);
  EXPECT_TRUE(WaitUntil([&] { return points(pump, "advisory_affected").empty(); }, absl::Seconds(30)));
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM device_advisories WHERE device_id = " + pump), "0");
}

}  // namespace
}  // namespace auscult::testing
