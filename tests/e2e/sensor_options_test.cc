// Sensor capture options on real captures, checked against tcpdump and tshark.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_split.h"
#include "auscult/v1/observation.pb.h"
#include "tests/support/test_support.h"

namespace auscult::testing {
namespace {

// Packets in the flows of a sensor run with --output=jsonl.
uint64_t FlowPackets(const std::string& jsonl, std::set<uint32_t>* vlans = nullptr) {
  uint64_t packets = 0;
  for (absl::string_view line : absl::StrSplit(jsonl, '\n', absl::SkipEmpty())) {
    v1::ObservationBatch b;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(line), &b).ok());
    for (const auto& f : b.flows()) {
      packets += f.to_responder().packets() + f.to_initiator().packets();
      if (vlans != nullptr) vlans->insert(f.vlan());
    }
  }
  return packets;
}

// --bpf filters files as tcpdump does.
TEST(SensorOptions, BpfFilterOnFilesAgreesWithTcpdump) {
  const auto path = CapturePath("mixed/wikipedia.pcap");
  ASSERT_TRUE(path);
  const CommandResult dump = RunCommand({"tcpdump", "-nr", *path, "tcp"});
  if (dump.exit_code != 0) GTEST_SKIP() << "tcpdump is not installed (tests/run.sh installs it)";
  const size_t expected = std::count(dump.out.begin(), dump.out.end(), '\n');
  ASSERT_GT(expected, 0u);
  const CommandResult r = RunCommand({BinaryPath("auscult-sensor"), "--pcap=" + *path, "--output=jsonl", "--bpf=tcp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FlowPackets(r.out), expected);
  const CommandResult bad =
      RunCommand({BinaryPath("auscult-sensor"), "--pcap=" + *path, "--output=null", "--bpf=tcp and ("});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--bpf"), std::string::npos) << bad.err;
}

// --vlan keeps the listed VLANs only.
TEST(SensorOptions, VlanFilter) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed";
  // Several VLANs in the corpus's capture; one in the bundled one.
  auto path = CapturePath("ethernet-vlan/VlanPackets.pcap");
  if (!path) path = CapturePath("ethernet-vlan/twovlan.pcap");
  ASSERT_TRUE(path);
  const auto ids = TsharkFields(*path, {"vlan.id"}, "vlan && ip");
  ASSERT_FALSE(ids.empty());
  const std::string vlan = ids[0][0];
  const size_t expected = TsharkFields(*path, {"frame.number"}, "ip && vlan.id == " + vlan).size();
  const CommandResult r =
      RunCommand({BinaryPath("auscult-sensor"), "--pcap=" + *path, "--output=jsonl", "--vlan=" + vlan});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<uint32_t> seen;
  EXPECT_EQ(FlowPackets(r.out, &seen), expected);
  EXPECT_EQ(seen, std::set<uint32_t>{static_cast<uint32_t>(std::stoi(vlan))});
  const size_t others = TsharkFields(*path, {"frame.number"}, "!(vlan.id == " + vlan + ")").size();
  EXPECT_EQ(r.out.find("\"filtered_out\":\"" + std::to_string(others) + "\"") != std::string::npos, others > 0)
      << others << " frames are not on VLAN " << vlan;
  const CommandResult bad =
      RunCommand({BinaryPath("auscult-sensor"), "--pcap=" + *path, "--output=null", "--vlan=5000"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--vlan"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace auscult::testing
