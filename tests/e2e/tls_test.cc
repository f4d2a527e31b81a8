// Mutual TLS with the certificates deploy/pki.sh makes: a sensor sends only as the sensor its
// certificate names, analysts query, only admins change, and nobody without a certificate of the
// site CA gets in.
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

class TlsTest : public CollectorTest {
 protected:
  void SetUp() override {
    CollectorTest::SetUp();
    dir_ = std::filesystem::temp_directory_path() / absl::StrCat("auscult-pki-", getpid());
    rogue_ = dir_ + "-rogue";
    std::filesystem::remove_all(dir_);
    std::filesystem::remove_all(rogue_);
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{{dir_, "init"},
                                                                                      {dir_, "collector", "localhost"},
                                                                                      {dir_, "sensor", "ward-1"},
                                                                                      {dir_, "analyst", "alice"},
                                                                                      {dir_, "admin", "bob"},
                                                                                      {rogue_, "init"},
                                                                                      {rogue_, "sensor", "ward-1"}}) {
      std::vector<std::string> argv = {std::string(AUSCULT_SOURCE_DIR) + "/deploy/pki.sh"};
      argv.insert(argv.end(), args.begin(), args.end());
      const CommandResult r = RunCommand(argv);
      ASSERT_EQ(r.exit_code, 0) << args[1] << ": " << r.err;
    }
    StartCollector({"--tls_ca=" + dir_ + "/ca.pem", "--tls_cert=" + dir_ + "/collector.pem",
                    "--tls_key=" + dir_ + "/collector.key"});
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    std::filesystem::remove_all(rogue_);
    CollectorTest::TearDown();
  }
  std::vector<std::string> As(const std::string& who, const std::string& dir = "") {
    const std::string d = dir.empty() ? dir_ : dir;
    return {"--tls_ca=" + dir_ + "/ca.pem", "--tls_cert=" + d + "/" + who + ".pem",
            "--tls_key=" + d + "/" + who + ".key"};
  }
  std::vector<std::string> Cmd(std::vector<std::string> args, const std::vector<std::string>& who) {
    args.insert(args.end(), who.begin(), who.end());
    return args;
  }

  std::string dir_, rogue_;
};

TEST_F(TlsTest, SensorsSendOnlyAsThemselvesAnalystsQueryAdminsChange) {
  const auto capture = CapturePath("clinical/hl7_mllp.pcap");
  ASSERT_TRUE(capture);
  // The sensor its certificate names: applied.
  const CommandResult ok = RunSensor({*capture}, "ward-1", As("sensor-ward-1"));
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(db_->Scalar("SELECT string_agg(sensor_id, ',') FROM sensors"), "ward-1");
  const std::string flows = db_->Scalar("SELECT count(*) FROM flows");
  EXPECT_NE(flows, "0");
  // Another sensor id with ward-1's certificate: refused at once, nothing stored.
  const CommandResult other = RunSensor({*capture}, "ward-2", As("sensor-ward-1"));
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.err.find("certificate is for sensor 'ward-1'"), std::string::npos) << other.err;
  // A certificate of another CA, and plain text: no connection at all.
  const CommandResult rogue =
      RunSensor({*capture}, "ward-1", Cmd({"--connect_timeout=3s"}, As("sensor-ward-1", rogue_)));
  EXPECT_NE(rogue.exit_code, 0);
  const CommandResult plain = RunSensor({*capture}, "ward-1", {"--connect_timeout=3s"});
  EXPECT_NE(plain.exit_code, 0);
  EXPECT_EQ(db_->Scalar("SELECT string_agg(sensor_id, ',') FROM sensors"), "ward-1");
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM flows"), flows);

  // Analysts query; a sensor's certificate opens no query.
  const CommandResult devices = Cli(Cmd({"devices"}, As("analyst-alice")));
  ASSERT_EQ(devices.exit_code, 0) << devices.err;
  EXPECT_NE(devices.out.find("2 of 2 devices"), std::string::npos) << devices.out;
  const CommandResult by_sensor = Cli(Cmd({"devices"}, As("sensor-ward-1")));
  EXPECT_EQ(by_sensor.exit_code, 1);
  EXPECT_NE(by_sensor.err.find("needs an analyst or admin certificate"), std::string::npos) << by_sensor.err;
  // Changes need an admin.
  const std::string csv = dir_ + "/segments.csv";
  std::ofstream(csv) << "site,cidr,department\ntest-site,10.0.0.0/8,Radiology\n";
  const CommandResult analyst_import = Cli(Cmd({"segments", "import", csv}, As("analyst-alice")));
  EXPECT_EQ(analyst_import.exit_code, 1);
  EXPECT_NE(analyst_import.err.find("needs an admin certificate"), std::string::npos) << analyst_import.err;
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM segments"), "0");
  const CommandResult admin_import = Cli(Cmd({"segments", "import", csv}, As("admin-bob")));
  EXPECT_EQ(admin_import.exit_code, 0) << admin_import.err;
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM segments"), "1");
  const std::string id = db_->Scalar("SELECT min(device_id) FROM devices");
  const CommandResult set = Cli(Cmd({"device", "set", id, "--field=model", "--value=X"}, As("analyst-alice")));
  EXPECT_EQ(set.exit_code, 1);
  const CommandResult admin_set = Cli(Cmd({"device", "set", id, "--field=model", "--value=X"}, As("admin-bob")));
  EXPECT_EQ(admin_set.exit_code, 0) << admin_set.err;
  EXPECT_EQ(db_->Scalar("SELECT set_by FROM device_overrides WHERE field = 'model'"), "admin:bob")
      << "the change is recorded under the admin's certificate name";
  // Both changes are in the audit table, under the admin's name; the refused attempts are not.
  EXPECT_EQ(
      db_->Scalar("SELECT string_agg(who || ' ' || action || ' ' || COALESCE(detail ->> 'imported', '') ||"
                  " COALESCE(detail ->> 'field', '') || COALESCE('=' || (detail ->> 'value'), ''), '; ' ORDER BY id)"
                  " FROM admin_actions"),
      "admin:bob import_segments 1; admin:bob set_device_field model=X");
  // A plain-text client cannot talk to a TLS collector.
  EXPECT_EQ(Cli({"devices", "--timeout=3s"}).exit_code, 1);
}

TEST_F(TlsTest, ChoosingPlainTextOrTlsIsExplicit) {
  const std::string collector = BinaryPath("auscult-collector");
  const CommandResult both =
      RunCommand(Cmd({collector, "--db=" + db_->uri(), "--listen=127.0.0.1:0", "--insecure"}, As("collector")));
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("choose one"), std::string::npos) << both.err;
  const CommandResult neither = RunCommand({collector, "--db=" + db_->uri(), "--listen=127.0.0.1:0"});
  EXPECT_EQ(neither.exit_code, 2);
  EXPECT_NE(neither.err.find("deploy/pki.sh"), std::string::npos) << neither.err;
  const CommandResult missing = RunCommand({collector, "--db=" + db_->uri(), "--tls_ca=" + dir_ + "/ca.pem"});
  EXPECT_EQ(missing.exit_code, 2);
  const CommandResult not_pem =
      RunCommand({collector, "--db=" + db_->uri(), "--tls_ca=/etc/hostname", "--tls_cert=" + dir_ + "/collector.pem",
                  "--tls_key=" + dir_ + "/collector.key"});
  EXPECT_EQ(not_pem.exit_code, 2);
  EXPECT_NE(not_pem.err.find("not a PEM file"), std::string::npos) << not_pem.err;
  // pki.sh refuses a name that could not be a sensor id, and will not overwrite a CA.
  EXPECT_EQ(RunCommand({std::string(AUSCULT_SOURCE_DIR) + "/deploy/pki.sh", dir_, "sensor", "a b"}).exit_code, 2);
  EXPECT_EQ(RunCommand({std::string(AUSCULT_SOURCE_DIR) + "/deploy/pki.sh", dir_, "init"}).exit_code, 1);
}

}  // namespace
}  // namespace auscult::testing
