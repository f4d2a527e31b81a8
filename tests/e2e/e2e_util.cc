#include "tests/e2e/e2e_util.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "auscult/v1/ingest.grpc.pb.h"

namespace auscult::testing {

void CollectorTest::SetUp() {
  const auto admin = AdminUri();
  if (!admin) GTEST_SKIP() << "AUSCULT_TEST_PG_URI is not set: run the suite with tests/run.sh";
  db_ = std::make_unique<TestDatabase>(*admin);
  StartCollector();
}

void CollectorTest::TearDown() {
  if (collector_ && collector_->Running()) {
    EXPECT_EQ(collector_->Stop(), 0) << "collector did not stop cleanly:\n" << collector_->Stderr();
    collector_.reset();
  }
  db_.reset();
}

namespace {
// Plain text unless the flags name TLS files: the argument list without or with --insecure.
std::vector<std::string> Security(std::vector<std::string> argv, const std::vector<std::string>& flags) {
  bool tls = false;
  for (const std::string& f : flags) tls |= f.rfind("--tls_", 0) == 0;
  if (!tls) argv.push_back("--insecure");
  return argv;
}
}  // namespace

void CollectorTest::StartCollector(const std::vector<std::string>& extra_flags, bool same_port) {
  if (collector_) collector_->Stop();
  if (!same_port || port_ == 0) port_ = FreeTcpPort();
  std::vector<std::string> argv = Security(
      {BinaryPath("auscult-collector"), "--listen=" + target(), "--db=" + db_->uri(), "--log_level=warn"}, extra_flags);
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  collector_ = std::make_unique<Process>(argv);
  ASSERT_TRUE(WaitForPort(port_, absl::Seconds(60))) << "collector did not start:\n" << collector_->Stderr();
}

CommandResult CollectorTest::RunSensor(const std::vector<std::string>& captures, const std::string& sensor_id,
                                       const std::vector<std::string>& extra_flags) {
  std::vector<std::string> argv =
      Security({BinaryPath("auscult-sensor"), "--pcap=" + absl::StrJoin(captures, ","), "--collector=" + target(),
                "--sensor_id=" + sensor_id, "--site=test-site", "--wing=test-wing", "--log_level=warn"},
               extra_flags);
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  return RunCommand(argv);
}

CommandResult CollectorTest::Cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv = Security({BinaryPath("auscult"), "--collector=" + target()}, args);
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

google::protobuf::Value CollectorTest::CliJson(const std::vector<std::string>& args) {
  std::vector<std::string> with_json = args;
  with_json.push_back("--json");
  const CommandResult r = Cli(with_json);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return ParseJson(r.out);
}

namespace {

// Each device by its name, each edge as a line of its ends' names and totals.
constexpr char kNamedEdges[] = R"sql(
WITH names AS (
  SELECT 'd:' || device_id AS node, coalesce(mac::text, 'ip ' || host(identity_ip)) AS name FROM devices),
edge AS (
  SELECT concat_ws(' ', coalesce(s.name, e.src_node), coalesce(d.name, e.dst_node), e.transport, e.port,
                   e.application, e.bytes_to_dst, e.bytes_to_src, e.packets_to_dst, e.packets_to_src, e.flows,
                   e.clinical, e.phi, e.encrypted) AS line
  FROM graph_edges e LEFT JOIN names s ON s.node = e.src_node LEFT JOIN names d ON d.node = e.dst_node))sql";

constexpr char kTotals[] = R"sql(
SELECT concat_ws(' ',
  'devices=' || (SELECT count(*) FROM devices),
  'device_packets=' || (SELECT coalesce(sum(packets_sent), 0) FROM devices),
  'device_bytes=' || (SELECT coalesce(sum(bytes_sent), 0) FROM devices),
  'evidence=' || (SELECT count(*) || '/' || coalesce(sum(count), 0) FROM device_evidence),
  'addresses=' || (SELECT count(*) FROM device_addresses),
  'flows=' || (SELECT count(*) FROM flows),
  'flow_packets=' || (SELECT coalesce(sum(packets_to_dst + packets_to_src), 0) FROM flows),
  'flow_bytes=' || (SELECT coalesce(sum(bytes_to_dst + bytes_to_src), 0) FROM flows),
  'flow_phi=' || (SELECT count(*) FROM flow_phi),
  'flow_messages=' || (SELECT count(*) FROM flow_messages),
  'edges=' || (SELECT count(*) FROM graph_edges),
  'edge_packets=' || (SELECT coalesce(sum(packets_to_dst + packets_to_src), 0) FROM graph_edges),
  'edge_bytes=' || (SELECT coalesce(sum(bytes_to_dst + bytes_to_src), 0) FROM graph_edges),
  'edge_flows=' || (SELECT coalesce(sum(flows), 0) FROM graph_edges),
  'batches=' || (SELECT count(*) FROM ingested_batches),
  'device_digest=' || (SELECT left(md5(coalesce(string_agg(name, ',' ORDER BY name), '')), 12) FROM names),
  'edge_digest=' || (SELECT left(md5(coalesce(string_agg(line, ',' ORDER BY line), '')), 12) FROM edge)))sql";

}  // namespace

std::string DatabaseTotals(const TestDatabase& db) { return db.Scalar(std::string(kNamedEdges) + kTotals); }

std::vector<std::string> DatabaseEdgeLines(const TestDatabase& db) {
  std::vector<std::string> lines;
  for (const auto& row : db.Rows(std::string(kNamedEdges) + " SELECT line FROM edge ORDER BY line")) {
    lines.push_back(row.at(0));
  }
  return lines;
}

bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

StreamResult StreamBatches(const std::string& target, const std::vector<v1::ObservationBatch>& batches) {
  StreamResult result;
  auto stub = v1::Ingest::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  auto stream = stub->Stream(&ctx);
  for (const auto& b : batches) {
    if (!stream->Write(b)) break;
    v1::BatchAck ack;
    if (!stream->Read(&ack)) break;
    result.acks.push_back(ack);
  }
  stream->WritesDone();
  v1::BatchAck extra;
  while (stream->Read(&extra)) result.acks.push_back(extra);
  const grpc::Status s = stream->Finish();
  result.status_code = s.error_code();
  result.status_message = s.error_message();
  return result;
}

std::vector<v1::ObservationBatch> SensorBatches(const std::string& capture,
                                                const std::vector<std::string>& extra_flags) {
  std::vector<std::string> argv = {BinaryPath("auscult-sensor"), "--pcap=" + capture, "--output=jsonl",
                                   "--sensor_id=replayed", "--log_level=warn"};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  const CommandResult r = RunCommand(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<v1::ObservationBatch> out;
  for (absl::string_view line : absl::StrSplit(r.out, '\n', absl::SkipEmpty())) {
    v1::ObservationBatch b;
    const auto s = google::protobuf::util::JsonStringToMessage(std::string(line), &b);
    EXPECT_TRUE(s.ok()) << s.ToString();
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace auscult::testing
