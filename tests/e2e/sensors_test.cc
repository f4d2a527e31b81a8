// `auscult sensors`: every sensor that sent a batch, with its health, checked against what the
// captures hold (tshark counts their frames and VLANs) and against the database.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

TEST_F(CollectorTest, SensorsListTheirHealth) {
  const auto admin_capture = CapturePath("mixed/wikipedia.pcap");
  const auto vlan_capture = CapturePath("ethernet-vlan/twovlan.pcap");
  ASSERT_TRUE(admin_capture && vlan_capture);
  ASSERT_EQ(RunSensor({*admin_capture}, "admin-wing").exit_code, 0);
  ASSERT_EQ(RunSensor({*vlan_capture}, "lab-wing", {"--site=second-site"}).exit_code, 0);

  const google::protobuf::Value all = CliJson({"sensors"});
  ASSERT_EQ(all.list_value().values_size(), 2);
  // By site, then id: "second-site" < "test-site".
  const auto& lab = all.list_value().values(0).struct_value().fields();
  const auto& admin = all.list_value().values(1).struct_value().fields();
  EXPECT_EQ(lab.at("sensor_id").string_value(), "lab-wing");
  EXPECT_EQ(admin.at("sensor_id").string_value(), "admin-wing");
  EXPECT_EQ(admin.at("site").string_value(), "test-site");
  EXPECT_TRUE(admin.at("up").bool_value()) << "its last batch was seconds ago";
  EXPECT_LT(admin.at("silent_seconds").number_value(), 60);
  EXPECT_FALSE(admin.at("version").string_value().empty());
  ASSERT_EQ(admin.at("sources").list_value().values_size(), 1);
  EXPECT_EQ(admin.at("sources").list_value().values(0).string_value(), *admin_capture);
  if (HaveTshark()) {
    // Every frame of the capture was received (tshark counts them), none dropped from a file.
    EXPECT_EQ(admin.at("packets_received").number_value(), TsharkFields(*admin_capture, {"frame.number"}).size());
    EXPECT_EQ(lab.at("packets_received").number_value(), TsharkFields(*vlan_capture, {"frame.number"}).size());
    std::set<double> vlans;
    for (const auto& row : TsharkFields(*vlan_capture, {"vlan.id"}, "vlan")) vlans.insert(std::stod(row[0]));
    std::set<double> listed;
    for (const auto& v : lab.at("vlans").list_value().values()) listed.insert(v.number_value());
    for (double v : vlans) EXPECT_TRUE(listed.count(v)) << "VLAN " << v;
  }
  EXPECT_EQ(admin.at("packets_dropped_kernel").number_value() + admin.at("packets_dropped_sensor").number_value(), 0);
  EXPECT_EQ(absl::StrCat(static_cast<int64_t>(admin.at("devices").number_value())),
            db_->Scalar("SELECT count(*) FROM device_sensors WHERE sensor_id = 'admin-wing'"));

  // The site filter, and the table.
  EXPECT_EQ(CliJson({"sensors", "--site=second-site"}).list_value().values_size(), 1);
  const CommandResult table = Cli({"sensors"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("admin-wing"), std::string::npos);
  EXPECT_NE(table.out.find(" up "), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("2 sensors"), std::string::npos);
}

}  // namespace
}  // namespace auscult::testing
