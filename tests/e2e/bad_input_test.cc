// Bad input gets a one-line error naming the thing and a non-zero exit, or a counted drop for
// packets; never a crash, a hang, or damage to anything else.
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

namespace fs = std::filesystem;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A crash shows up as 128 + signal; a failure must be a deliberate exit status.
void ExpectCleanFailure(const CommandResult& r, int code, const std::string& message) {
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_TRUE(Contains(r.err, message)) << "stderr should mention '" << message << "':\n" << r.err;
}

// A file of this test process in the temporary folder; the test removes what it made.
std::string TempPath(const std::string& name) {
  return (fs::temp_directory_path() / absl::StrCat("auscult-", getpid(), "-", name)).string();
}

std::string TempFile(const std::string& name, const std::string& content) {
  const std::string p = TempPath(name);
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(SensorBadInput, UnreadableCaptures) {
  const std::string sensor = BinaryPath("auscult-sensor");
  ExpectCleanFailure(RunCommand({sensor, "--pcap=/nonexistent/capture.pcap", "--output=null"}), 1,
                     "/nonexistent/capture.pcap");
  ExpectCleanFailure(RunCommand({sensor, "--pcap=/tmp", "--output=null"}), 1, "/tmp");
  const std::string garbage = TempFile("garbage.pcap", std::string(4096, '\x5a'));
  ExpectCleanFailure(RunCommand({sensor, "--pcap=" + garbage, "--output=null"}), 1, garbage);
  fs::remove(garbage);
  // A link type the decoder does not know (NETLINK): its frames are counted and skipped, with a
  // warning that names the file and the link type.
  const auto netlink = CapturePath("pcap-formats/microsecs_big_endian.pcap");
  ASSERT_TRUE(netlink);
  const CommandResult skipped = RunCommand({sensor, "--pcap=" + *netlink, "--output=jsonl"});
  EXPECT_EQ(skipped.exit_code, 0) << skipped.err;
  EXPECT_TRUE(Contains(skipped.err, "link type 253 (unknown) is not supported")) << skipped.err;
  EXPECT_TRUE(Contains(skipped.out, "\"unsupported_link_type\":\"13\"")) << skipped.out;
  // A good file after a bad one: still refused up front, nothing half-sent.
  const auto good = CapturePath("medical/hl7.pcap");
  ExpectCleanFailure(RunCommand({sensor, "--pcap=" + *good + ",/nonexistent/b.pcap", "--output=jsonl"}), 1,
                     "/nonexistent/b.pcap");
}

// A file cut off in the middle of a record: what came before is used and sent, the cut is reported
// and the exit status says the input was not read to its end.
TEST(SensorBadInput, TruncatedCaptureFile) {
  const auto path = CapturePath("mixed/wikipedia.pcap");
  ASSERT_TRUE(path);
  const std::string bytes = ReadAll(*path);
  const std::string cut = TempFile("cut.pcap", bytes.substr(0, bytes.size() / 2 + 7));
  const CommandResult r = RunCommand({BinaryPath("auscult-sensor"), "--pcap=" + cut, "--output=jsonl"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(Contains(r.out, "\"flows\"")) << "what was read before the cut is still reported";
  EXPECT_TRUE(Contains(r.err, cut)) << r.err;
  EXPECT_TRUE(Contains(r.out, "capture_read_error")) << "the cut is counted in the batch's anomalies";
  fs::remove(cut);
}

// Malformed and fuzzer-found frames are counted, and the sensor carries on.
TEST(SensorBadInput, MalformedFramesAreCountedNotFatal) {
  std::vector<std::string> captures = {"malformed/lldp_asan.pcap", "malformed/arp-too-long-tha.pcap"};
  for (const std::string& f : SharedCaptureFiles()) {
    if (f.rfind("malformed/", 0) == 0) captures.push_back(f);
  }
  for (const std::string& name : captures) {
    const auto path = CapturePath(name);
    ASSERT_TRUE(path) << name;
    const CommandResult r = RunCommand({BinaryPath("auscult-sensor"), "--pcap=" + *path, "--output=jsonl"});
    EXPECT_FALSE(r.timed_out) << name;
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_TRUE(Contains(r.err, "packets")) << name;
  }
  const auto arp = CapturePath("malformed/arp-too-long-tha.pcap");
  const CommandResult r = RunCommand({BinaryPath("auscult-sensor"), "--pcap=" + *arp, "--output=jsonl"});
  EXPECT_TRUE(Contains(r.out, "\"unsupported_arp_format\":\"1\"")) << r.out;
}

// Long files show how far the sensor is; --progress=always shows it even for short ones.
TEST(Sensor, ReportsProgressOnStderr) {
  const auto path = CapturePath("dns/DnsPackets.pcap");
  ASSERT_TRUE(path);
  const CommandResult r =
      RunCommand({BinaryPath("auscult-sensor"), "--pcap=" + *path, "--output=null", "--progress=always"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed";
  const size_t frames = TsharkFields(*path, {"frame.number"}).size();
  const size_t macs = [&] {
    std::set<std::string> m;
    for (const auto& row : TsharkFields(*path, {"eth.src"})) m.insert(row[0]);
    return m.size();
  }();
  EXPECT_TRUE(Contains(r.err, absl::StrCat("DnsPackets.pcap: 100% of 0.1 MB read, ", frames, " packets"))) << r.err;
  const CommandResult quiet =
      RunCommand({BinaryPath("auscult-sensor"), "--pcap=" + *path, "--output=null", "--progress=never"});
  EXPECT_FALSE(Contains(quiet.err, "% of")) << quiet.err;
  // The summary line closes every run.
  EXPECT_TRUE(Contains(quiet.err, absl::StrCat(frames, " packets (0 malformed), ", macs, " devices"))) << quiet.err;
}

TEST(SensorBadInput, InvalidFlagsNameTheFlag) {
  const std::string sensor = BinaryPath("auscult-sensor");
  const auto pcap = CapturePath("medical/hl7.pcap");
  ASSERT_TRUE(pcap);
  const std::string p = "--pcap=" + *pcap;
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{sensor, "--output=null"}, "--pcap"},
      {{sensor, p, "--interface=eth0", "--output=null"}, "--pcap"},
      {{sensor, p, "--output=xml"}, "--output"},
      {{sensor, p}, "--sensor_id"},
      {{sensor, p, "--sensor_id=bad id!"}, "--sensor_id"},
      {{sensor, p, "--output=null", "--max_flows=0"}, "--max_flows"},
      {{sensor, p, "--output=null", "--batch_size=-3"}, "--batch_size"},
      {{sensor, p, "--output=null", "--report_interval=-1s"}, "--report_interval"},
      {{sensor, p, "--output=null", "--progress=sometimes"}, "--progress"},
      {{sensor, p, "--sensor_id=s1", "--collector=nohostport"}, "--collector"},
      {{sensor, p, "--output=null", "--log_level=loud"}, "--log_level"},
      {{sensor, p, "--output=null", "--buffer_mb=4096"}, "--buffer_mb"},
      {{sensor, p, "--output=null", "--site=north\x1b[2J"}, "--site"},
      {{sensor, p, "--output=null", "--tcp_fingerprints=/nonexistent/fp.txt"}, "--tcp_fingerprints"},
      {{sensor, p, "--output=null",
        "--tcp_fingerprints=" + TempFile("fp.txt", "syn 64 * * * mss Linux Linux\nsyn 99\n")},
       ":2: expected"},
      {{sensor, p, "--output=null", "--clinical_services=/nonexistent/clinical.txt"}, "--clinical_services"},
  };
  for (const auto& [argv, flag] : cases) ExpectCleanFailure(RunCommand(argv), 2, flag);
  // A clinical services file with a bad line: the flag, the file, the line and the reason.
  const std::string clinical =
      TempFile("clinical.txt", "# ports\ntcp 2575 hl7 yes - HL7 [S22]\nudp 24105 IntelliVue yes - Philips\n");
  const CommandResult bad_line = RunCommand({sensor, p, "--output=null", "--clinical_services=" + clinical});
  ExpectCleanFailure(bad_line, 2, "--clinical_services: " + clinical + ":3: APPLICATION must be");
  const CommandResult overlap =
      RunCommand({sensor, p, "--output=null",
                  "--clinical_services=" + TempFile("overlap.txt", "tcp 2575 hl7 yes - a\ntcp 2570-2580 x yes - b\n")});
  ExpectCleanFailure(overlap, 2, ":2: tcp port 2575 is already on line 1");
  // A good one is used.
  const CommandResult good = RunCommand(
      {sensor, p, "--output=null", "--clinical_services=" + TempFile("good.txt", "tcp 2575 hl7 yes - HL7\n")});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  // Unparseable values are refused by the flag parser itself, also naming the flag.
  const CommandResult r = RunCommand({sensor, p, "--output=null", "--max_flows=lots"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.err, "max_flows")) << r.err;
  for (const char* made : {"fp.txt", "clinical.txt", "overlap.txt", "good.txt"}) {
    EXPECT_TRUE(fs::remove(TempPath(made))) << made;
  }
}

TEST(SensorBadInput, UnreachableCollectorOrInterface) {
  const auto pcap = CapturePath("medical/hl7.pcap");
  const std::string target = absl::StrCat("127.0.0.1:", FreeTcpPort());
  const CommandResult r = RunCommand({BinaryPath("auscult-sensor"), "--pcap=" + *pcap, "--collector=" + target,
                                      "--insecure", "--sensor_id=s1", "--connect_timeout=1s"},
                                     absl::Seconds(30));
  ExpectCleanFailure(r, 1, "cannot reach collector at " + target);
  ExpectCleanFailure(RunCommand({BinaryPath("auscult-sensor"), "--interface=auscult-no-such-if0", "--output=null"}), 1,
                     "auscult-no-such-if0");
}

TEST(CollectorBadInput, RefusesBadConfiguration) {
  const std::string collector = BinaryPath("auscult-collector");
  ExpectCleanFailure(RunCommand({collector, "--insecure"}), 2, "--db");
  ExpectCleanFailure(RunCommand({collector, "--db=postgresql:///x"}), 2, "--insecure");
  ExpectCleanFailure(RunCommand({collector, "--insecure", "--db=postgresql:///x", "--listen=nowhere"}), 2, "--listen");
  ExpectCleanFailure(RunCommand({collector, "--insecure", "--db=postgresql:///x", "--db_connections=0"}), 2,
                     "--db_connections");
  // An unreachable database: named, password withheld.
  const CommandResult r =
      RunCommand({collector, "--insecure",
                  "--db=postgresql://auscult:s3cret-pw@/auscult?host=/nonexistent/socket&connect_timeout=2"});
  ExpectCleanFailure(r, 1, "cannot connect to PostgreSQL");
  EXPECT_FALSE(Contains(r.err, "s3cret-pw")) << r.err;
}

TEST(CliBadInput, ClearErrors) {
  const std::string cli = BinaryPath("auscult");
  const std::string dead = absl::StrCat("--collector=127.0.0.1:", FreeTcpPort());
  ExpectCleanFailure(RunCommand({cli, dead, "--insecure", "--timeout=2s", "devices"}), 1, "cannot reach collector");
  ExpectCleanFailure(RunCommand({cli, dead, "--insecure", "frobnicate"}), 2, "frobnicate");
  ExpectCleanFailure(RunCommand({cli, dead, "--insecure"}), 2, "command");
  ExpectCleanFailure(RunCommand({cli, dead, "--insecure", "connections", "--transport=carrier-pigeon"}), 2,
                     "--transport");
  ExpectCleanFailure(RunCommand({cli, dead, "--insecure", "device", "abc"}), 2, "abc");
  ExpectCleanFailure(RunCommand({cli, "--collector=bad", "--insecure", "devices"}), 2, "--collector");
}

// The collector refuses a malformed batch on its stream, naming the field, and keeps serving
// everyone else; an oversized message is refused by gRPC itself.
TEST_F(CollectorTest, RefusesBadBatchesWithoutHarmingOthers) {
  const auto path = CapturePath("medical/hl7.pcap");
  ASSERT_TRUE(path);
  const auto batches = SensorBatches(*path, {});
  ASSERT_FALSE(batches.empty());

  auto bad = batches[0];
  bad.mutable_devices(0)->set_mac("de:ad:be:ef");
  const StreamResult refused = StreamBatches(target(), {bad});
  EXPECT_EQ(refused.status_code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(refused.status_message, "devices[0].mac")) << refused.status_message;
  EXPECT_TRUE(refused.acks.empty());

  auto liar = batches[0];
  liar.set_sequence(2);
  liar.mutable_sensor()->set_sensor_id("someone-else");
  const StreamResult switched = StreamBatches(target(), {batches[0], liar});
  EXPECT_EQ(switched.status_code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Contains(switched.status_message, "sensor id changed")) << switched.status_message;
  EXPECT_EQ(switched.acks.size(), 1u);

  // Nothing of the refused batches reached the database; the good one did, once.
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM ingested_batches"), "1");
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM devices WHERE mac = 'de:ad:be:ef:00:00'"), "0");

  StartCollector({"--max_message_mb=1"});
  auto huge = batches[0];
  huge.set_sequence(99);
  for (int i = 0; i < 20000; ++i) *huge.add_flows() = batches[0].flows(0);
  const StreamResult too_big = StreamBatches(target(), {huge});
  EXPECT_EQ(too_big.status_code, grpc::StatusCode::RESOURCE_EXHAUSTED) << too_big.status_message;
  auto next = batches[0];
  next.set_sequence(3);
  const StreamResult after = StreamBatches(target(), {next});
  EXPECT_EQ(after.status_code, 0) << after.status_message;
  ASSERT_EQ(after.acks.size(), 1u);
  EXPECT_EQ(after.acks[0].result(), v1::BatchAck::RESULT_APPLIED);
}

}  // namespace
}  // namespace auscult::testing
