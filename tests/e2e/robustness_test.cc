// Regression tests for defects found in review: each one once lost data, hung, or corrupted state.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "auscult/v1/ingest.grpc.pb.h"
#include "auscult/v1/query.grpc.pb.h"
#include "sensor/export/batch_transport.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

namespace fs = std::filesystem;

// A batch the collector refuses is dropped by the sensor's transport (and counted), not resent
// forever; the batches after it still arrive.
TEST_F(CollectorTest, SensorTransportDropsARefusedBatchAndGoesOn) {
  const auto path = CapturePath("mixed/wikipedia.pcap");
  ASSERT_TRUE(path);
  auto batches = SensorBatches(*path, {"--batch_size=10"});
  ASSERT_GE(batches.size(), 3u);
  // Spoil one batch in the middle: a flow with an address that is none.
  ASSERT_GT(batches[1].flows_size(), 0);
  batches[1].mutable_flows(0)->mutable_initiator()->set_ip("not-an-address");

  sensor::GrpcTransportOptions options;
  options.target = target();
  options.insecure = true;
  options.connect_timeout = absl::Seconds(10);
  auto transport = sensor::MakeGrpcTransport(options);
  ASSERT_TRUE(transport.ok()) << transport.status();
  for (const auto& b : batches) {
    ASSERT_TRUE((*transport)->Send(std::make_unique<v1::ObservationBatch>(b)).ok());
  }
  EXPECT_TRUE((*transport)->Close(absl::Seconds(60)).ok());
  const sensor::TransportStats stats = (*transport)->stats();
  EXPECT_EQ(stats.batches_rejected, 1u);
  EXPECT_EQ(stats.batches_acknowledged, batches.size() - 1);
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM ingested_batches"), std::to_string(batches.size() - 1));
}

// Sixty-five capture files (a rotated capture) and a file name that is not UTF-8: the sensor names
// what fits, in valid UTF-8, and everything is delivered.
TEST_F(CollectorTest, ManyAndOddlyNamedCaptureFiles) {
  const auto hl7 = CapturePath("medical/hl7.pcap");
  ASSERT_TRUE(hl7);
  const fs::path dir = fs::temp_directory_path() / absl::StrCat("auscult-files-", getpid());
  fs::create_directories(dir);
  std::vector<std::string> files;
  for (int i = 0; i < 70; ++i) {
    const fs::path p = dir / (i == 0 ? std::string("caf\xe9-latin1.pcap") : absl::StrCat("rotated-", i, ".pcap"));
    fs::copy_file(*hl7, p);
    files.push_back(p.string());
  }
  const CommandResult r = RunSensor(files, "many-files");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(db_->Scalar("SELECT cardinality(sources) FROM sensors WHERE sensor_id = 'many-files'"), "64");
  EXPECT_EQ(db_->Scalar("SELECT sources[64] FROM sensors WHERE sensor_id = 'many-files'"), "... and 7 more");
  EXPECT_NE(db_->Scalar("SELECT sources[1] FROM sensors WHERE sensor_id = 'many-files'").find("caf\xef\xbf\xbd"),
            std::string::npos);
  EXPECT_EQ(db_->Scalar("SELECT packets_received FROM sensors WHERE sensor_id = 'many-files'"), "630");
  fs::remove_all(dir);
}

// Counters saturate instead of failing every later batch for the device.
TEST_F(CollectorTest, CountersSaturateInsteadOfOverflowing) {
  const auto path = CapturePath("medical/hl7.pcap");
  ASSERT_TRUE(path);
  auto batches = SensorBatches(*path, {});
  ASSERT_EQ(StreamBatches(target(), batches).status_code, 0);
  db_->Scalar(
      "UPDATE devices SET packets_sent = 9223372036854775805; UPDATE flows SET bytes_to_dst = 9223372036854775805");
  // The same traffic again, as new batches of the same sensor run: the same flows grow.
  for (auto& b : batches) b.set_sequence(b.sequence() + 100);
  const StreamResult again = StreamBatches(target(), batches);
  EXPECT_EQ(again.status_code, 0) << again.status_message;
  EXPECT_EQ(db_->Scalar("SELECT min(packets_sent) FROM devices"), "9223372036854775807");
  EXPECT_EQ(db_->Scalar("SELECT min(bytes_to_dst) FROM flows"), "9223372036854775807");
}

// Device ids are drawn for new devices only: however often devices are reported, ids stay dense.
// A device id past 2^31 is a valid query, not a database error.
TEST_F(CollectorTest, DeviceIdsStayDenseAndLargeIdsQueryCleanly) {
  const auto path = CapturePath("mixed/wikipedia.pcap");
  ASSERT_TRUE(path);
  for (int run = 0; run < 3; ++run) {
    ASSERT_EQ(RunSensor({*path}, "dense", {"--report_interval=1s"}).exit_code, 0);
  }
  EXPECT_EQ(db_->Scalar("SELECT max(device_id) = count(*) FROM devices"), "t");
  const CommandResult r = Cli({"connections", "--device=3000000000", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[]\n");
  // Any spelling of a MAC finds the device.
  const std::string mac = db_->Scalar("SELECT mac FROM devices ORDER BY device_id LIMIT 1");
  std::string dashed = absl::AsciiStrToUpper(mac);
  std::replace(dashed.begin(), dashed.end(), ':', '-');
  EXPECT_EQ(CliJson({"devices", "--mac=" + dashed}).list_value().values_size(), 1);
  // An absurd seen_since is refused, not passed on.
  auto stub = v1::Query::NewStub(grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  v1::ListDevicesRequest req;
  req.mutable_seen_since()->set_seconds(10'000'000'000'000);
  v1::ListDevicesResponse resp;
  EXPECT_EQ(stub->ListDevices(&ctx, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// A cooked (SLL) capture names only the sender's MAC: unknown MACs are stored as unknown (NULL),
// never as 00:00:00:00:00:00.
TEST_F(CollectorTest, UnknownMacsAreNullNotZero) {
  const auto path = CapturePath("pcap-formats/tcp-handshake-nano.pcap");
  ASSERT_TRUE(path);
  ASSERT_EQ(RunSensor({*path}, "cooked").exit_code, 0);
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM flows"), "1");
  EXPECT_EQ(
      db_->Scalar("SELECT count(*) FROM flows WHERE src_mac = '00:00:00:00:00:00' OR dst_mac = '00:00:00:00:00:00'"),
      "0");
}

// A sensor restarted with a clock behind its previous run still updates its health counters.
TEST_F(CollectorTest, HealthOfARestartedSensorWithAnEarlierClock) {
  const auto path = CapturePath("medical/hl7.pcap");
  ASSERT_TRUE(path);
  auto batches = SensorBatches(*path, {});
  ASSERT_EQ(batches.size(), 1u);
  auto later = batches[0];
  later.set_epoch(batches[0].epoch() + 1000);
  later.mutable_stats()->set_packets_received(111);
  ASSERT_EQ(StreamBatches(target(), {later}).status_code, 0);
  auto earlier = batches[0];
  earlier.set_epoch(batches[0].epoch() - 1000);
  earlier.mutable_stats()->set_packets_received(5);
  ASSERT_EQ(StreamBatches(target(), {earlier}).status_code, 0);
  EXPECT_EQ(db_->Scalar("SELECT packets_received FROM sensors"), "5");
}

// The collector serves at most --max_sensors streams; one more is refused, the others go on.
TEST_F(CollectorTest, RefusesStreamsBeyondItsLimit) {
  StartCollector({"--max_sensors=1"});
  const auto path = CapturePath("medical/hl7.pcap");
  ASSERT_TRUE(path);
  const auto batches = SensorBatches(*path, {});
  auto stub = v1::Ingest::NewStub(grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  auto held = stub->Stream(&ctx);
  ASSERT_TRUE(held->Write(batches[0]));
  v1::BatchAck ack;
  ASSERT_TRUE(held->Read(&ack));
  auto second = batches[0];
  second.mutable_sensor()->set_sensor_id("second");
  const StreamResult refused = StreamBatches(target(), {second});
  EXPECT_EQ(refused.status_code, grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.status_message;
  held->WritesDone();
  EXPECT_TRUE(held->Finish().ok());
  // With the first stream closed, the second sensor gets in (the slot frees when the collector has
  // finished with the stream, a moment after the client sees it end).
  int code = -1;
  for (int i = 0; i < 50 && code != 0; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    code = StreamBatches(target(), {second}).status_code;
  }
  EXPECT_EQ(code, 0);
}

// A live sensor whose collector has died still stops on SIGTERM, promptly, saying what was lost.
TEST_F(CollectorTest, LiveSensorStopsWhenItsCollectorIsGone) {
  if (geteuid() != 0) GTEST_SKIP() << "live capture needs root; not root here";
  Process sensor({BinaryPath("auscult-sensor"), "--interface=lo", "--collector=" + target(), "--insecure",
                  "--sensor_id=orphan", "--max_unacked_batches=2", "--report_interval=1s", "--log_level=info"});
  for (int i = 0; i < 100 && sensor.Stderr().find("capturing on lo") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  collector_->Stop();
  collector_.reset();
  // Heartbeat batches pile up (one per report window) until the two-batch window is full.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  ASSERT_TRUE(sensor.Running());
  const absl::Time asked = absl::Now();
  const int code = sensor.Stop(absl::Seconds(30));
  EXPECT_LT(absl::Now() - asked, absl::Seconds(10)) << sensor.Stderr();
  EXPECT_EQ(code, 1) << sensor.Stderr();
  EXPECT_NE(sensor.Stderr().find("not acknowledged"), std::string::npos) << sensor.Stderr();
}

}  // namespace
}  // namespace auscult::testing
