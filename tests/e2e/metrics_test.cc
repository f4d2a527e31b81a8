// The Prometheus metrics of the sensor and the collector (--metrics_listen), scraped over HTTP
// while they work, against what an independent reader (tshark) and the database say.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "auscult/v1/observation.pb.h"
#include "common/version.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

namespace fs = std::filesystem;

// GET /metrics over a real connection; the body, or "" if the answer was not a 200.
std::string Scrape(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return "";
  }
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n";
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return "";
  }
  std::string answer;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) answer.append(buf, static_cast<size_t>(n));
  close(fd);
  const size_t body = answer.find("\r\n\r\n");
  if (answer.rfind("HTTP/1.1 200", 0) != 0 || body == std::string::npos) return "";
  return answer.substr(body + 4);
}

// The value of one sample, named with its labels as on the page ("x_total{a=\"b\"}"); NaN if absent.
double Value(const std::string& page, const std::string& sample) {
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (line.size() > sample.size() && line.substr(0, sample.size()) == sample && line[sample.size()] == ' ') {
      double v = NAN;
      if (absl::SimpleAtod(line.substr(sample.size() + 1), &v)) return v;
    }
  }
  return NAN;
}

// A classic pcap cut into its file header and its records.
struct Pcap {
  std::string header;
  std::vector<std::string> records;
  std::vector<uint64_t> wire_lengths;
};
Pcap ReadPcap(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Pcap out;
  if (bytes.size() < 24 || std::memcmp(bytes.data(), "\xd4\xc3\xb2\xa1", 4) != 0) return out;  // little-endian only
  out.header = bytes.substr(0, 24);
  auto u32 = [&](size_t at) {
    uint32_t v;
    std::memcpy(&v, bytes.data() + at, 4);
    return v;
  };
  for (size_t at = 24; at + 16 <= bytes.size();) {
    const size_t length = 16 + u32(at + 8);
    if (at + length > bytes.size()) break;
    out.records.push_back(bytes.substr(at, length));
    out.wire_lengths.push_back(u32(at + 12));
    at += length;
  }
  return out;
}

// The batches a sensor's summary line says were acknowledged ("..., N batches sent, N acknowledged
// in ..."); -1 if there is no such line.
int Acknowledged(const std::string& sensor_stderr) {
  const size_t at = sensor_stderr.find(" acknowledged");
  if (at == std::string::npos || at == 0) return -1;
  const size_t start = sensor_stderr.rfind(' ', at - 1) + 1;
  int n = -1;
  return absl::SimpleAtoi(sensor_stderr.substr(start, at - start), &n) ? n : -1;
}

bool WriteAll(int fd, const std::string& data) {
  for (size_t done = 0; done < data.size();) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// The sensor reads a capture from a FIFO that the test writes in two halves: scraped in between,
// the sensor has counted exactly the first half's frames and bytes, as tshark counts them.
TEST_F(CollectorTest, SensorMetricsCountWhatAReplayHasReadSoFar) {
  const auto capture = CapturePath("mixed/wikipedia.pcap");
  if (!capture) GTEST_SKIP() << "mixed/wikipedia.pcap is not here";
  const Pcap pcap = ReadPcap(*capture);
  ASSERT_GT(pcap.records.size(), 100u);
  const size_t half = pcap.records.size() / 2;
  std::string first = pcap.header;
  uint64_t first_bytes = 0;
  for (size_t i = 0; i < half; ++i) {
    first += pcap.records[i];
    first_bytes += pcap.wire_lengths[i];
  }
  const fs::path dir = fs::temp_directory_path() / absl::StrCat("auscult-metrics-", getpid());
  fs::create_directories(dir);
  { std::ofstream(dir / "first.pcap", std::ios::binary) << first; }
  if (HaveTshark()) {  // the oracle: tshark's frames and wire lengths of the first half
    const auto frames = TsharkFields((dir / "first.pcap").string(), {"frame.len"}, "");
    ASSERT_EQ(frames.size(), half);
    uint64_t sum = 0;
    for (const auto& f : frames) sum += std::stoull(f.at(0));
    ASSERT_EQ(sum, first_bytes);
  }
  const std::string fifo = (dir / "replay.fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);

  const int port = FreeTcpPort();
  Process sensor({BinaryPath("auscult-sensor"), "--pcap=" + fifo, "--collector=" + target(), "--insecure",
                  "--sensor_id=metrics-1", "--site=north", "--wing=icu", "--progress=never",
                  absl::StrCat("--metrics_listen=127.0.0.1:", port)});
  ASSERT_TRUE(WaitForPort(port, absl::Seconds(30))) << sensor.Stderr();
  // Before the first packet: the page is there, with who the sensor is and nothing counted.
  std::string page = Scrape(port);
  EXPECT_EQ(Value(page, "auscult_sensor_info{sensor_id=\"metrics-1\",site=\"north\",wing=\"icu\",version=\"" +
                            std::string(kVersion) + "\",mode=\"file\"}"),
            1)
      << page;
  EXPECT_EQ(Value(page, "auscult_sensor_packets_total"), 0) << page;

  // The sensor opens the FIFO once it has reached the collector.
  int fd = -1;
  ASSERT_TRUE(
      WaitUntil([&] { return (fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC)) >= 0; }, absl::Seconds(30)))
      << sensor.Stderr();
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  ASSERT_TRUE(WriteAll(fd, first));
  ASSERT_TRUE(
      WaitUntil([&] { return Value(page = Scrape(port), "auscult_sensor_packets_total") == half; }, absl::Seconds(30)))
      << page << sensor.Stderr();
  EXPECT_TRUE(sensor.Running()) << "scraped during the replay";
  EXPECT_EQ(Value(page, "auscult_sensor_bytes_total"), first_bytes);
  EXPECT_EQ(Value(page, "auscult_sensor_inputs_done_total"), 0);
  EXPECT_EQ(Value(page, "auscult_sensor_packets_dropped_total{cause=\"kernel\"}"), 0);
  EXPECT_GT(Value(page, "auscult_sensor_flows_total"), 0);
  EXPECT_GT(Value(page, "auscult_sensor_devices"), 0);
  EXPECT_NE(page.find("# TYPE auscult_sensor_anomalies_total counter\n"), std::string::npos);

  // The rest: the sensor reads it to the end, is acknowledged and exits.
  std::string rest;
  for (size_t i = half; i < pcap.records.size(); ++i) rest += pcap.records[i];
  ASSERT_TRUE(WriteAll(fd, rest));
  close(fd);
  EXPECT_EQ(sensor.Wait(absl::Seconds(60)), 0) << sensor.Stderr();
  EXPECT_NE(sensor.Stderr().find(absl::StrCat(pcap.records.size(), " packets")), std::string::npos) << sensor.Stderr();
  fs::remove_all(dir);
}

// The collector's page after a sensor's run: batches as the sensor counted its acknowledgments,
// the inventory as the database holds it.
TEST_F(CollectorTest, CollectorMetricsCountBatchesAndTheInventory) {
  const auto captures = CapturePaths(kGraphCaptures);
  if (!captures) GTEST_SKIP() << "the graph captures are not here";
  const int port = FreeTcpPort();
  StartCollector({absl::StrCat("--metrics_listen=127.0.0.1:", port)});
  ASSERT_TRUE(WaitForPort(port, absl::Seconds(30)));
  const CommandResult run = RunSensor(*captures, "metrics-2");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const int acknowledged = Acknowledged(run.err);
  ASSERT_GT(acknowledged, 0) << run.err;

  std::string page;
  ASSERT_TRUE(
      WaitUntil([&] { return Value(page = Scrape(port), "auscult_collector_ingest_streams") == 0; }, absl::Seconds(30)))
      << page;
  EXPECT_EQ(Value(page, "auscult_collector_batches_total{result=\"applied\"}"), acknowledged) << page;
  EXPECT_EQ(Value(page, "auscult_collector_batches_total{result=\"failed\"}"), 0);
  EXPECT_EQ(Value(page, "auscult_collector_batch_latency_seconds_count"), acknowledged);
  EXPECT_EQ(Value(page, "auscult_collector_batch_latency_seconds_bucket{le=\"+Inf\"}"), acknowledged);
  EXPECT_EQ(Value(page, "auscult_collector_database_errors_total"), 0);
  EXPECT_EQ(Value(page, "auscult_collector_database_up"), 1);
  EXPECT_EQ(Value(page, "auscult_collector_devices"), std::stod(db_->Scalar("SELECT count(*) FROM devices")));
  EXPECT_GT(Value(page, "auscult_collector_devices"), 0);
  EXPECT_EQ(Value(page, "auscult_collector_graph_edges"), std::stod(db_->Scalar("SELECT count(*) FROM graph_edges")));
  EXPECT_GT(Value(page, "auscult_collector_graph_edges"), 0);
  EXPECT_EQ(Value(page, "auscult_collector_sensors"), 1);
}

// --log_format=json: every line the collector writes is one JSON object with its time, level,
// logger and message, through a sensor's run and a flood of refused batches; and the flood leaves a
// bounded number of lines (the limiter's burst), not one per refusal.
TEST_F(CollectorTest, JsonLogsParseAndRefusalsAreRateLimited) {
  const auto captures = CapturePaths(kGraphCaptures);
  if (!captures) GTEST_SKIP() << "the graph captures are not here";
  StartCollector({"--log_format=json", "--log_level=info"});
  const CommandResult run = RunSensor(*captures, "json-logs-1");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  constexpr int kRefusals = 40;
  for (int i = 0; i < kRefusals; ++i) {
    v1::ObservationBatch bad;  // no sensor id: refused by the collector's validation
    bad.set_epoch(1);
    bad.set_sequence(static_cast<uint64_t>(i) + 1);
    const StreamResult r = StreamBatches(target(), {bad});
    ASSERT_EQ(r.status_code, 3) << r.status_message;  // INVALID_ARGUMENT
  }
  collector_->Stop();
  int lines = 0, refusals = 0, connected = 0;
  for (absl::string_view line : absl::StrSplit(collector_->Stderr(), '\n', absl::SkipEmpty())) {
    ++lines;
    const google::protobuf::Value v = ParseJson(std::string(line));
    ASSERT_EQ(v.kind_case(), google::protobuf::Value::kStructValue) << line;
    const auto& f = v.struct_value().fields();
    for (const char* key : {"time", "level", "logger", "message"}) {
      ASSERT_TRUE(f.contains(key)) << key << " missing: " << line;
    }
    EXPECT_EQ(f.at("logger").string_value(), "auscult-collector");
    EXPECT_EQ(f.at("time").string_value().size(), 24u) << line;  // 2026-11-30T04:55:32.123Z
    const std::string& message = f.at("message").string_value();
    if (message.find("refused a batch from") == 0) ++refusals;
    if (message.find("sensor json-logs-1 connected") == 0) ++connected;
  }
  EXPECT_GT(lines, 5);
  EXPECT_EQ(connected, 1) << collector_->Stderr();
  EXPECT_NE(collector_->Stderr().find("\"level\":\"info\""), std::string::npos);
  // A burst of 5, then one every 10 s: the test's refusals take a few seconds.
  EXPECT_GE(refusals, 5);
  EXPECT_LE(refusals, 6) << "every refusal logged: the limiter is not in the way";
}

// `auscult status`: this collector, its database and every sensor, as the database and the sensor's
// own summary count them; healthy (exit 0) while the sensor is up, not (exit 3) once it is silent.
TEST_F(CollectorTest, StatusShowsTheCollectorItsDatabaseAndEverySensor) {
  const auto captures = CapturePaths(kGraphCaptures);
  if (!captures) GTEST_SKIP() << "the graph captures are not here";
  StartCollector({"--sensor_silent_after=5s"});
  const CommandResult run = RunSensor(*captures, "status-1");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const double acknowledged = Acknowledged(run.err);
  ASSERT_GT(acknowledged, 0) << run.err;

  const CommandResult json = Cli({"status", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.out << json.err;
  const google::protobuf::Value v = ParseJson(json.out);
  const auto& f = v.struct_value().fields();
  EXPECT_TRUE(f.at("healthy").bool_value());
  const auto& collector = f.at("collector").struct_value().fields();
  EXPECT_EQ(collector.at("version").string_value(), kVersion);
  EXPECT_EQ(collector.at("batches_applied").number_value(), acknowledged);
  EXPECT_EQ(collector.at("batches_failed").number_value(), 0);
  const auto& database = f.at("database").struct_value().fields();
  EXPECT_TRUE(database.at("ok").bool_value());
  EXPECT_EQ(database.at("schema_version").number_value(),
            std::stod(db_->Scalar("SELECT max(version) FROM schema_migrations")));
  EXPECT_EQ(database.at("devices").number_value(), std::stod(db_->Scalar("SELECT count(*) FROM devices")));
  EXPECT_GT(database.at("devices").number_value(), 0);
  EXPECT_EQ(database.at("graph_edges").number_value(), std::stod(db_->Scalar("SELECT count(*) FROM graph_edges")));
  const auto& sensors = f.at("sensors").struct_value().fields();
  EXPECT_EQ(sensors.at("up").number_value(), 1);
  EXPECT_EQ(sensors.at("silent").number_value(), 0);
  ASSERT_EQ(sensors.at("each").list_value().values_size(), 1);
  EXPECT_EQ(sensors.at("each").list_value().values(0).struct_value().fields().at("sensor_id").string_value(),
            "status-1");

  // The sensor has finished: once silent for --sensor_silent_after, the tier is not healthy.
  CommandResult text;
  ASSERT_TRUE(WaitUntil([&] { return (text = Cli({"status"})).exit_code == 3; }, absl::Seconds(60)))
      << text.out << text.err;
  EXPECT_NE(text.out.find("1 silent"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("status-1"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("NOT HEALTHY"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("database   ok, schema " + db_->Scalar("SELECT max(version) FROM schema_migrations")),
            std::string::npos)
      << text.out;
}

}  // namespace
}  // namespace auscult::testing
