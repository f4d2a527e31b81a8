// The segment map end to end: imported from CSV through the CLI, validated by the collector, and
// every device's department the most specific network holding its address, else its VLAN's.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>

#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST_F(CollectorTest, SegmentMapGivesDevicesTheirDepartment) {
  std::vector<std::string> captures;
  for (const char* c : {"clinical/dicom_store_worklist.pcap", "ethernet-vlan/twovlan.pcap"}) {
    const auto p = CapturePath(c);
    ASSERT_TRUE(p) << c;
    captures.push_back(*p);
  }
  const CommandResult sensor = RunSensor(captures, "seg-sensor");
  ASSERT_EQ(sensor.exit_code, 0) << sensor.err;
  // The VLAN the sensor saw the 10.0.0.1 host on, whatever the capture's tagging.
  const std::string vlan = db_->Scalar(
      "SELECT min(v.vlan) FROM device_vlans v JOIN device_own_addresses o USING (device_id) WHERE o.ip = '10.0.0.1'");
  ASSERT_FALSE(vlan.empty());

  // Bad files are refused whole, naming the line; nothing is imported.
  const CommandResult bad = Cli({"segments", "import", WriteFile("bad.csv", "cidr,department\n10.99.0.300/24,X\n")});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("segments[0].cidr"), std::string::npos) << bad.err;
  const CommandResult unparsable = Cli({"segments", "import", WriteFile("bad2.csv", "cidr,room\n")});
  EXPECT_EQ(unparsable.exit_code, 2);
  EXPECT_NE(unparsable.err.find("bad2.csv:1: unknown column 'room'"), std::string::npos) << unparsable.err;
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM segments"), "0");

  const std::string map =
      "# st-marys segment map\n"
      "site,cidr,vlan,wing,department\n"
      "test-site,10.99.0.0/24,,north,Radiology\n"
      ",10.99.0.2/32,,north,\"Imaging archive, room 2\"\n"
      "test-site,," +
      vlan + ",south,ICU 3\n";
  const CommandResult ok = Cli({"segments", "import", WriteFile("map.csv", map)});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "3 segments imported\n");
  const google::protobuf::Value listed = CliJson({"segments"});
  EXPECT_EQ(listed.list_value().values_size(), 3);

  std::map<std::string, std::string> department_of;
  const google::protobuf::Value devices = CliJson({"devices"});
  for (const auto& d : devices.list_value().values()) {
    const auto& f = d.struct_value().fields();
    for (const auto& ip : f.at("ips").list_value().values())
      department_of[ip.string_value()] = f.at("department").string_value();
  }
  EXPECT_EQ(department_of["10.99.0.1"], "Radiology");
  EXPECT_EQ(department_of["10.99.0.2"], "Imaging archive, room 2");  // the more specific network
  EXPECT_EQ(department_of["10.0.0.1"], "ICU 3");                     // by its VLAN
  const CommandResult table = Cli({"devices"});
  EXPECT_NE(table.out.find("Radiology"), std::string::npos) << table.out;

  // Importing again replaces by (site, network, VLAN); --replace forgets the site's others first.
  const CommandResult again =
      Cli({"segments", "import", WriteFile("map2.csv", "site,cidr,department\ntest-site,10.99.0.0/24,Cardiology\n"),
           "--replace"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "1 segments imported, 2 removed\n");
  EXPECT_EQ(db_->Scalar("SELECT string_agg(department, '|' ORDER BY department) FROM segments"),
            "Cardiology|Imaging archive, room 2");
}

// An analyst's value wins over the evidence, survives new observations of the device, leaves the
// evidence as it was, and gives way again when cleared.
TEST_F(CollectorTest, AnalystOverridesWinAndSurvive) {
  const auto path = CapturePath("lldp-cdp/LLDP_and_CDP.pcap");
  ASSERT_TRUE(path);
  ASSERT_EQ(RunSensor({*path}, "first").exit_code, 0);
  // A device with a model from the wire.
  const std::string id =
      db_->Scalar("SELECT min(device_id) FROM device_evidence WHERE attribute = 'model' AND value <> ''");
  ASSERT_FALSE(id.empty());
  auto model = [&] {
    const google::protobuf::Value d = CliJson({"device", id});
    return d.struct_value().fields().at("model").string_value();
  };
  const std::string observed = model();
  ASSERT_FALSE(observed.empty());

  const CommandResult set = Cli({"device", "set", id, "--field=model", "--value=Alaris 8015 (asset tag 4411)"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(model(), "Alaris 8015 (asset tag 4411)");
  ASSERT_EQ(RunSensor({*path}, "second").exit_code, 0);  // the same device seen again
  EXPECT_EQ(model(), "Alaris 8015 (asset tag 4411)");
  EXPECT_EQ(db_->Scalar("SELECT count(*) > 0 FROM device_evidence WHERE device_id = " + id +
                        " AND attribute = 'model' AND value = '" + observed + "'"),
            "t");
  const google::protobuf::Value detail = CliJson({"device", id});
  const auto& overrides = detail.struct_value().fields().at("overrides").list_value();
  ASSERT_EQ(overrides.values_size(), 1);
  EXPECT_EQ(overrides.values(0).struct_value().fields().at("field").string_value(), "model");

  // Refused: unknown field, control characters, no such device.
  EXPECT_EQ(Cli({"device", "set", id, "--field=risk", "--value=0"}).exit_code, 2);
  EXPECT_EQ(Cli({"device", "set", id, "--field=model", "--value=a\tb"}).exit_code, 2);
  EXPECT_EQ(Cli({"device", "set", "999999", "--field=model", "--value=x"}).exit_code, 1);

  ASSERT_EQ(Cli({"device", "set", id, "--field=model", "--clear"}).exit_code, 0);
  EXPECT_EQ(model(), observed);
}

// A device whose site has seen traffic more than --inactive_after newer than its own is marked
// inactive, and kept; a longer setting (written at the collector's start) makes it active again.
TEST_F(CollectorTest, SilentDevicesGoInactiveNeverDeleted) {
  std::vector<std::string> captures;
  for (const char* c : {"mixed/wikipedia.pcap", "medical/hl7.pcap"}) {  // 2011 and 2018, one site
    const auto p = CapturePath(c);
    ASSERT_TRUE(p) << c;
    captures.push_back(*p);
  }
  ASSERT_EQ(RunSensor(captures, "inactive").exit_code, 0);
  auto activity = [&] {
    std::map<std::string, bool> out;
    const google::protobuf::Value devices = CliJson({"devices"});
    for (const auto& d : devices.list_value().values()) {
      const auto& f = d.struct_value().fields();
      for (const auto& ip : f.at("ips").list_value().values()) out[ip.string_value()] = f.at("active").bool_value();
    }
    return out;
  };
  const std::string total = db_->Scalar("SELECT count(*) FROM devices");
  auto a = activity();
  EXPECT_FALSE(a["141.142.220.118"]) << "seen in 2011, the site's newest traffic is from 2018";
  EXPECT_TRUE(a["10.0.0.155"]);
  EXPECT_TRUE(a["10.0.0.126"]);
  EXPECT_NE(Cli({"devices"}).out.find("(inactive)"), std::string::npos);

  StartCollector({"--inactive_after=87600h"});
  a = activity();
  EXPECT_TRUE(a["141.142.220.118"]);
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM devices"), total) << "nothing is ever deleted";

  const CommandResult bad = RunCommand({BinaryPath("auscult-collector"), "--listen=127.0.0.1:1", "--db=" + db_->uri(),
                                        "--insecure", "--inactive_after=10s"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--inactive_after"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace auscult::testing
