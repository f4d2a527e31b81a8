// Mutual TLS with the certificates deploy/pki.sh makes: a sensor sends only as the sensor its
// certificate names, analysts query, only admins change, nobody without a certificate of the site
// CA gets in, and admins revoke a sensor or one of its certificates.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "auscult/v1/ingest.grpc.pb.h"
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

  // What `openssl x509 -fingerprint -sha256` prints for a certificate: "AB:CD:…".
  std::string OpensslFingerprint(const std::string& pem) {
    const CommandResult r = RunCommand({"openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", pem});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const size_t eq = r.out.find('=');
    return eq == std::string::npos ? "" : std::string(absl::StripAsciiWhitespace(r.out.substr(eq + 1)));
  }
  // A sensor's certificate made anew (deploy/pki.sh will not overwrite one); the old one is kept
  // as old-<who>.pem and .key.
  void Reissue(const std::string& who) {
    for (const char* ext : {".pem", ".key"}) {
      std::filesystem::rename(dir_ + "/" + who + ext, dir_ + "/old-" + who + ext);
    }
    const CommandResult r = RunCommand({std::string(AUSCULT_SOURCE_DIR) + "/deploy/pki.sh", dir_, "sensor",
                                        who.substr(std::string("sensor-").size())});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static std::string Read(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
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

TEST_F(TlsTest, AdminsRevokeASensorOrOneOfItsCertificates) {
  const auto capture = CapturePath("clinical/hl7_mllp.pcap");
  ASSERT_TRUE(capture);
  ASSERT_EQ(RunSensor({*capture}, "ward-1", As("sensor-ward-1")).exit_code, 0);
  // The collector records which certificate a sensor came with, as openssl names it.
  const std::string first_cert = dir_ + "/sensor-ward-1.pem";
  const std::string fingerprint = OpensslFingerprint(first_cert);
  ASSERT_EQ(fingerprint.size(), 95u) << fingerprint;
  const std::string sha256 = absl::AsciiStrToLower(absl::StrReplaceAll(fingerprint, {{":", ""}}));
  google::protobuf::Value sensors = CliJson(Cmd({"sensors"}, As("analyst-alice")));
  ASSERT_EQ(sensors.list_value().values_size(), 1);
  EXPECT_EQ(JsonFirst(sensors.list_value().values(0), "certificate_sha256"), sha256);
  EXPECT_FALSE(sensors.list_value().values(0).struct_value().fields().at("revoked").bool_value());

  // Only admins revoke; the wrong certificate file or a malformed fingerprint is refused by the CLI.
  const CommandResult by_analyst = Cli(Cmd({"sensors", "revoke", "ward-1"}, As("analyst-alice")));
  EXPECT_EQ(by_analyst.exit_code, 1);
  EXPECT_NE(by_analyst.err.find("needs an admin certificate"), std::string::npos) << by_analyst.err;
  const CommandResult wrong_file =
      Cli(Cmd({"sensors", "revoke", "ward-1", "--certificate=" + dir_ + "/analyst-alice.pem"}, As("admin-bob")));
  EXPECT_EQ(wrong_file.exit_code, 2);
  EXPECT_NE(wrong_file.err.find("is the certificate of 'analyst:alice', not of sensor:ward-1"), std::string::npos)
      << wrong_file.err;
  EXPECT_EQ(Cli(Cmd({"sensors", "revoke", "ward-1", "--fingerprint=12:34"}, As("admin-bob"))).exit_code, 2);
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM sensor_revocations"), "0");

  // Its certificate revoked (the key was copied, say): that certificate opens nothing any more ...
  const CommandResult revoke_cert =
      Cli(Cmd({"sensors", "revoke", "ward-1", "--certificate=" + first_cert, "--reason=key copied"}, As("admin-bob")));
  ASSERT_EQ(revoke_cert.exit_code, 0) << revoke_cert.err;
  EXPECT_NE(revoke_cert.out.find("certificate " + sha256 + " of sensor ward-1 revoked"), std::string::npos)
      << revoke_cert.out;
  const CommandResult listed = Cli(Cmd({"sensors"}, As("analyst-alice")));
  EXPECT_NE(listed.out.find("revoked"), std::string::npos) << listed.out;
  const std::string flows = db_->Scalar("SELECT count(*) FROM flows");
  const std::string last_seen = db_->Scalar("SELECT last_seen FROM sensors");
  const CommandResult refused = RunSensor({*capture}, "ward-1", As("sensor-ward-1"));
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("is revoked: the sensor needs a new certificate"), std::string::npos) << refused.err;
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM flows"), flows);
  EXPECT_EQ(db_->Scalar("SELECT last_seen FROM sensors"), last_seen) << "nothing of a refused batch is stored";
  // ... and a new certificate for the same sensor works.
  Reissue("sensor-ward-1");
  const CommandResult reissued = RunSensor({*capture}, "ward-1", As("sensor-ward-1"));
  ASSERT_EQ(reissued.exit_code, 0) << reissued.err;
  EXPECT_NE(db_->Scalar("SELECT certificate_sha256 FROM sensors"), sha256);

  // The sensor itself revoked (stolen, decommissioned): every certificate naming it is refused.
  ASSERT_EQ(Cli(Cmd({"sensors", "revoke", "ward-1", "--reason=stolen"}, As("admin-bob"))).exit_code, 0);
  const CommandResult again = Cli(Cmd({"sensors", "revoke", "ward-1"}, As("admin-bob")));
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("sensor ward-1 was revoked already, by admin:bob"), std::string::npos) << again.out;
  const CommandResult stolen = RunSensor({*capture}, "ward-1", As("sensor-ward-1"));
  EXPECT_NE(stolen.exit_code, 0);
  EXPECT_NE(stolen.err.find("sensor 'ward-1' is revoked at this collector"), std::string::npos) << stolen.err;
  const google::protobuf::Value revocations = CliJson(Cmd({"sensors", "revoked"}, As("analyst-alice")));
  ASSERT_EQ(revocations.list_value().values_size(), 2);
  EXPECT_EQ(JsonFirst(revocations.list_value().values(0), "certificate_sha256"), "") << "the newest first";
  EXPECT_EQ(JsonFirst(revocations.list_value().values(0), "reason"), "stolen");
  EXPECT_EQ(JsonFirst(revocations.list_value().values(1), "certificate_sha256"), sha256);
  EXPECT_EQ(JsonFirst(revocations.list_value().values(1), "revoked_by"), "admin:bob");

  // Lifted, the new certificate works again; the old one stays revoked until its own is lifted
  // (named as openssl prints it).
  const CommandResult lift = Cli(Cmd({"sensors", "unrevoke", "ward-1"}, As("admin-bob")));
  ASSERT_EQ(lift.exit_code, 0) << lift.err;
  EXPECT_NE(lift.out.find("sensor ward-1 unrevoked"), std::string::npos) << lift.out;
  EXPECT_EQ(RunSensor({*capture}, "ward-1", As("sensor-ward-1")).exit_code, 0);
  EXPECT_NE(RunSensor({*capture}, "ward-1", As("old-sensor-ward-1")).exit_code, 0);
  ASSERT_EQ(Cli(Cmd({"sensors", "unrevoke", "ward-1", "--fingerprint=" + fingerprint}, As("admin-bob"))).exit_code, 0);
  EXPECT_EQ(RunSensor({*capture}, "ward-1", As("old-sensor-ward-1")).exit_code, 0);
  const CommandResult nothing = Cli(Cmd({"sensors", "unrevoke", "ward-1"}, As("admin-bob")));
  EXPECT_NE(nothing.out.find("was not revoked; nothing changed"), std::string::npos) << nothing.out;

  // Every change in the audit table, under the admin's name; the repeated and refused ones not.
  EXPECT_EQ(db_->Scalar("SELECT string_agg(who || ' ' || action || ' ' || (detail ->> 'sensor_id') ||"
                        " COALESCE(' ' || left(detail ->> 'certificate_sha256', 8), '') ||"
                        " COALESCE(' (' || (detail ->> 'reason') || ')', ''), '; ' ORDER BY id) FROM admin_actions"),
            absl::StrCat("admin:bob revoke_sensor ward-1 ", sha256.substr(0, 8),
                         " (key copied); admin:bob revoke_sensor ward-1 (stolen); admin:bob unrevoke_sensor ward-1; "
                         "admin:bob unrevoke_sensor ward-1 ",
                         sha256.substr(0, 8)));
}

TEST_F(TlsTest, AStreamingSensorIsCutOffAtItsNextBatchOnceRevoked) {
  const auto capture = CapturePath("clinical/hl7_mllp.pcap");
  ASSERT_TRUE(capture);
  const std::vector<v1::ObservationBatch> batches = SensorBatches(*capture, {"--sensor_id=ward-1"});
  ASSERT_FALSE(batches.empty());
  // A sensor's stream over mutual TLS, one batch at a time.
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = Read(dir_ + "/ca.pem");
  tls.pem_cert_chain = Read(dir_ + "/sensor-ward-1.pem");
  tls.pem_private_key = Read(dir_ + "/sensor-ward-1.key");
  auto stub = v1::Ingest::NewStub(grpc::CreateChannel(target(), grpc::SslCredentials(tls)));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto stream = stub->Stream(&ctx);
  v1::BatchAck ack;
  ASSERT_TRUE(stream->Write(batches[0]));
  ASSERT_TRUE(stream->Read(&ack)) << "the first batch is taken";
  EXPECT_EQ(ack.result(), v1::BatchAck::RESULT_APPLIED);

  // Revoked while the stream is open: the next batch ends it.
  ASSERT_EQ(Cli(Cmd({"sensors", "revoke", "ward-1"}, As("admin-bob"))).exit_code, 0);
  v1::ObservationBatch next = batches[0];
  next.set_sequence(batches[0].sequence() + 1000);
  stream->Write(next);
  EXPECT_FALSE(stream->Read(&ack)) << "no acknowledgment for a revoked sensor's batch";
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(status.error_message().find("sensor 'ward-1' is revoked at this collector"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM ingested_batches"), "1");
  EXPECT_NE(collector_->Stderr().find("refused batch"), std::string::npos) << collector_->Stderr();
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
