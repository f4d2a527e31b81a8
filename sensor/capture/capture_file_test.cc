// The capture file reader against tshark, frame by frame, on every capture of the corpus (pcap in
// both byte orders and timestamp precisions, pcapng with many interfaces and mixed link types),
// and against hostile files.
#include "sensor/capture/capture_file.h"

#include <gtest/gtest.h>
#include <pcap/dlt.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_split.h"
#include "sensor/decode/decoder.h"
#include "sensor/testing.h"
#include "tests/support/test_support.h"

namespace auscult::sensor {
namespace {

using ::auscult::testing::CapturePath;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::TsharkFields;

TimeNs ParseEpoch(const std::string& text) {
  const std::vector<std::string> parts = absl::StrSplit(text, '.');
  const TimeNs seconds = std::stoll(parts[0]);
  const TimeNs fraction = parts.size() > 1 ? std::stoll((parts[1] + "000000000").substr(0, 9)) : 0;
  return seconds * kNanosPerSecond + fraction;
}

// Every frame: same count, captured and wire lengths, and timestamp (to the nanosecond) as tshark.
void ExpectSameFramesAsTshark(const std::string& path) {
  const auto rows = TsharkFields(path, {"frame.cap_len", "frame.len", "frame.time_epoch"});
  size_t i = 0;
  int shown = 0;
  ::auscult::sensor::testing::ForEachFrame(path, [&](const RawFrame& f) {
    if (i < rows.size()) {
      const auto& r = rows[i];
      // Some corpus files carry garbage timestamps (tshark prints year 586 000); the reader saturates
      // those and the decoder drops them, so only plausible times are compared.
      const bool plausible = std::stoll(r[2].substr(0, r[2].find('.'))) < 4102444800LL;
      if ((std::to_string(f.captured_length) != r[0] || std::to_string(f.wire_length) != r[1] ||
           (plausible && f.timestamp != ParseEpoch(r[2])) || (!plausible && IsPlausibleTimestamp(f.timestamp))) &&
          shown++ < 5) {
        ADD_FAILURE() << path << " frame " << i + 1 << ": " << f.captured_length << "/" << f.wire_length << " @ "
                      << f.timestamp << ", tshark " << r[0] << "/" << r[1] << " @ " << r[2];
      }
    }
    ++i;
  });
  EXPECT_EQ(i, rows.size()) << path;
}

TEST(CaptureFile, EveryCorpusCaptureReadsAsTsharkReadsIt) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  std::vector<std::string> captures = ::auscult::testing::SharedCaptureFiles();
  if (captures.empty()) {
    // Without the corpus, the bundled captures still cover both formats and byte orders.
    captures = {"medical/hl7.pcap", "pcap-formats/nanosecs_big_endian.pcap", "pcap-formats/microsecs_big_endian.pcap",
                "pcap-formats/tcp-handshake-nano.pcap", "dns/DnsPackets.pcap", "syslog/tcp-syslog.pcap"};
  }
  int read = 0;
  for (const std::string& name : captures) {
    const auto path = CapturePath(name);
    ASSERT_TRUE(path) << name;
    ExpectSameFramesAsTshark(*path);
    ++read;
  }
  EXPECT_GE(read, 6);
}

// pcapng with eleven interfaces of two link types: libpcap gives up at the second; we keep each
// frame's own link type.
TEST(CaptureFile, PcapngInterfacesKeepTheirOwnLinkTypes) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed";
  const auto path = CapturePath("pcap-formats/many_interfaces-1.pcapng");
  if (!path) GTEST_SKIP() << "../shared/captures is not here";
  const auto rows = TsharkFields(*path, {"frame.interface_id", "eth.src", "null.family"});
  auto file = CaptureFile::Open(*path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE((*file)->is_pcapng());
  RawFrame f;
  size_t i = 0;
  int ethernet = 0, null = 0;
  while (*(*file)->Next(f) == PacketSource::ReadResult::kFrame) {
    ASSERT_LT(i, rows.size());
    if (!rows[i][1].empty()) {
      EXPECT_EQ(f.link_type, DLT_EN10MB) << "frame " << i + 1;
      ++ethernet;
    }
    if (!rows[i][2].empty()) {
      EXPECT_EQ(f.link_type, DLT_NULL) << "frame " << i + 1;
      ++null;
    }
    ++i;
  }
  EXPECT_EQ(i, rows.size());
  EXPECT_GT(ethernet, 0);
  EXPECT_GT(null, 0);
  EXPECT_EQ((*file)->link_types().size(), 11u);
}

std::string Write(const std::string& name, const std::string& bytes) {
  const std::string path = (std::filesystem::temp_directory_path() / ("auscult-cf-" + name)).string();
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Reads a file to its end; returns the number of frames and the final status.
std::pair<int, absl::Status> ReadToEnd(const std::string& path) {
  auto file = CaptureFile::Open(path);
  if (!file.ok()) return {0, file.status()};
  RawFrame f;
  int frames = 0;
  for (;;) {
    auto r = (*file)->Next(f);
    if (!r.ok()) return {frames, r.status()};
    if (*r == PacketSource::ReadResult::kEnd) return {frames, absl::OkStatus()};
    ++frames;
  }
}

// Every prefix of real files: the frames before the cut are read, then a clear error (or a clean
// end exactly at a record boundary); never more frames than the whole file has.
TEST(CaptureFile, EveryTruncationEndsCleanly) {
  for (const char* name : {"medical/hl7.pcap", "pcap-formats/tcp-handshake-nano.pcap"}) {
    const auto path = CapturePath(name);
    ASSERT_TRUE(path);
    const std::string bytes = ReadAll(*path);
    const int all = ReadToEnd(*path).first;
    for (size_t n = 0; n < bytes.size(); ++n) {
      const std::string cut = Write("cut.pcap", bytes.substr(0, n));
      const auto [frames, status] = ReadToEnd(cut);
      EXPECT_LE(frames, all);
      if (!status.ok()) {
        EXPECT_NE(status.message().find(cut), absl::string_view::npos) << status;
      }
    }
  }
  const auto ng = CapturePath("pcap-formats/pcapng-multi-interface.pcapng");
  if (ng) {
    const std::string bytes = ReadAll(*ng);
    for (size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_LE(ReadToEnd(Write("cut.pcapng", bytes.substr(0, n))).first, 6);
    }
  }
}

// Lengths that lie are refused with the offset, not believed.
TEST(CaptureFile, LyingLengthsAreRefused) {
  const auto path = CapturePath("medical/hl7.pcap");
  ASSERT_TRUE(path);
  std::string bytes = ReadAll(*path);
  // First record's captured length (little-endian file): 24 + 8.
  bytes[24 + 8] = '\xff';
  bytes[24 + 9] = '\xff';
  bytes[24 + 10] = '\xff';
  bytes[24 + 11] = '\x7f';
  const auto [frames, status] = ReadToEnd(Write("lying.pcap", bytes));
  EXPECT_EQ(frames, 0);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("at byte 24"), absl::string_view::npos) << status;
  EXPECT_EQ(ReadToEnd(Write("garbage.pcap", std::string(100, 'x'))).second.code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(CaptureFile::Open("/nonexistent.pcap").ok());
}

}  // namespace
}  // namespace auscult::sensor
