// Stream reassembly against tshark's "follow tcp" on real captures, and on segments delivered out
// of order, duplicated, and lost.
#include "sensor/flow/tcp_reassembler.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <regex>
#include <set>

#include "absl/strings/match.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "sensor/flow/flow_table.h"
#include "sensor/testing.h"
#include "tests/support/test_support.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::RecordingSink;
using ::auscult::testing::CapturePath;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::RunCommand;
using ::auscult::testing::TsharkFields;

// A parser for tests: keeps every byte it is given, per flow and direction.
struct Streams {
  std::map<uint64_t, std::string> bytes[2];
  std::map<uint64_t, FlowContext> flows;
  uint64_t gaps = 0;
};

class CollectingParser : public FlowParser {
 public:
  CollectingParser(Streams* streams, uint64_t flow) : streams_(streams), flow_(flow) {}
  void OnData(Direction d, std::span<const uint8_t> bytes, TimeNs, ParserOutput& out) override {
    streams_->bytes[static_cast<int>(d)][flow_].append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    out.SetApplication("collected");
  }
  void OnGap(Direction, uint64_t bytes, ParserOutput&) override { streams_->gaps += bytes; }
  bool Done() const override { return false; }

 private:
  Streams* streams_;
  uint64_t flow_;
};

class CollectingFactory : public ParserFactory {
 public:
  explicit CollectingFactory(Streams* streams, uint32_t budget = 1 << 30) : streams_(streams), budget_(budget) {}
  std::string_view name() const override { return "collect"; }
  bool Wants(const FlowContext& flow, Direction, std::span<const uint8_t>) const override {
    return flow.transport == kIpProtoTcp;
  }
  std::unique_ptr<FlowParser> Create(const FlowContext& flow) const override {
    streams_->flows[flow.flow_id] = flow;
    return std::make_unique<CollectingParser>(streams_, flow.flow_id);
  }
  uint64_t byte_budget() const override { return budget_; }

 private:
  Streams* streams_;
  uint32_t budget_;
};

// tshark marks bytes a capture lost with "[N bytes missing in capture file]" in the stream itself
// (4.0 even includes the string's terminating NUL). The markers are taken out, and their N added
// up, to compare with the gaps we report.
std::string WithoutMissingMarkers(const std::string& hex, uint64_t* missing) {
  static const std::regex kMarker(R"(\[(\d+) bytes missing in capture file\]\x00?)");
  const std::string bytes = absl::HexStringToBytes(hex);
  std::string out;
  auto begin = std::sregex_iterator(bytes.begin(), bytes.end(), kMarker);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    out += bytes.substr(last, it->position() - last);
    *missing += std::stoull((*it)[1].str());
    last = it->position() + it->length();
  }
  return out + bytes.substr(last);
}

// Reports where two byte strings first differ rather than printing megabytes.
void ExpectSameBytes(const std::string& ours, const std::string& theirs, const std::string& what) {
  if (ours == theirs) return;
  size_t i = 0;
  while (i < ours.size() && i < theirs.size() && ours[i] == theirs[i]) ++i;
  ADD_FAILURE() << what << ": " << ours.size() << " bytes, tshark " << theirs.size() << "; first difference at byte "
                << i;
}

// Every TCP stream of the capture, each direction byte for byte, as tshark's follow shows it.
void ExpectStreamsLikeTshark(const std::string& path) {
  Streams streams;
  CollectingFactory factory(&streams);
  EngineOptions options;
  options.flows.parsers = {&factory};
  options.flows.max_out_of_order_bytes = 1 << 20;
  RecordingSink sink;
  Engine engine(options, nullptr, &sink);
  ::auscult::sensor::testing::ForEachFrame(path, [&](const RawFrame& f) { engine.Process(f); });
  engine.Finish();

  std::set<std::string> stream_ids;
  for (const auto& r : TsharkFields(path, {"tcp.stream"}, "tcp")) stream_ids.insert(r[0]);
  std::vector<std::string> argv = {"tshark", "-n", "-q", "-r", path};
  for (const std::string& id : stream_ids) {
    argv.push_back("-z");
    argv.push_back("follow,tcp,raw," + id);
  }
  const auto tshark = RunCommand(argv);
  ASSERT_EQ(tshark.exit_code, 0) << tshark.err;
  // Blocks: "Node 0: a:p", "Node 1: b:p", then hex lines, tab-indented for node 1.
  int compared = 0;
  std::string node[2];
  std::string hex[2];
  int with_data = 0;
  uint64_t missing = 0;
  auto finish = [&] {
    if (node[0].empty()) return;
    if (!hex[0].empty() || !hex[1].empty()) ++with_data;
    for (const auto& [id, flow] : streams.flows) {
      const std::string initiator = flow.initiator.ip.ToString() + ":" + std::to_string(flow.initiator.port);
      const std::string responder = flow.responder.ip.ToString() + ":" + std::to_string(flow.responder.port);
      if (!((initiator == node[0] && responder == node[1]) || (initiator == node[1] && responder == node[0]))) continue;
      const int from_node0 = initiator == node[0] ? 0 : 1;
      const std::string& to_responder = streams.bytes[0][id];
      const std::string& to_initiator = streams.bytes[1][id];
      ExpectSameBytes(to_responder, WithoutMissingMarkers(from_node0 == 0 ? hex[0] : hex[1], &missing),
                      path + " " + initiator + " -> " + responder);
      ExpectSameBytes(to_initiator, WithoutMissingMarkers(from_node0 == 0 ? hex[1] : hex[0], &missing),
                      path + " " + responder + " -> " + initiator);
      ++compared;
      break;
    }
    node[0].clear();
    node[1].clear();
    hex[0].clear();
    hex[1].clear();
  };
  for (absl::string_view line : absl::StrSplit(tshark.out, '\n')) {
    if (absl::StartsWith(line, "=====")) {
      finish();
    } else if (absl::StartsWith(line, "Node 0: ")) {
      node[0] = std::string(line.substr(8));
    } else if (absl::StartsWith(line, "Node 1: ")) {
      node[1] = std::string(line.substr(8));
    } else if (!node[0].empty() && !line.empty() && !absl::StartsWith(line, "Follow") &&
               !absl::StartsWith(line, "Filter")) {
      if (line[0] == '\t') {
        hex[1] += std::string(line.substr(1));
      } else {
        hex[0] += std::string(line);
      }
    }
  }
  finish();
  EXPECT_EQ(compared, with_data) << path;
  EXPECT_GT(compared, 0) << path;
  // The bytes the capture lost are exactly the gaps reported.
  EXPECT_EQ(streams.gaps, missing) << path << ": " << engine.flows().stats().reassembly_gaps << " gaps";
}

TEST(TcpReassembler, StreamsMatchTsharkFollow) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  for (const char* name : {"http/get.pcap", "medical/hl7.pcap", "mixed/wikipedia.pcap", "mixed/http-packets.pcap"}) {
    const auto path = CapturePath(name);
    if (!path) continue;
    ExpectStreamsLikeTshark(*path);
  }
}

// The same stream, its segments shuffled and duplicated, comes out the same; a lost segment is a
// gap of exactly its size, and the bytes after it still arrive.
TEST(TcpReassembler, ReordersDeduplicatesAndReportsGaps) {
  std::string message;
  for (int i = 0; i < 2000; ++i) message += static_cast<char>('a' + i % 26);
  struct Seg {
    uint32_t seq;
    std::string bytes;
  };
  const uint32_t isn = 0xfffffc00;  // wraps around zero mid-stream
  std::vector<Seg> segments;
  for (size_t off = 0; off < message.size(); off += 100)
    segments.push_back({isn + 1 + static_cast<uint32_t>(off), message.substr(off, 100)});
  std::mt19937 random(42);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<Seg> order = segments;
    order.push_back(segments[3]);                                           // a retransmission
    order.push_back({segments[5].seq + 50, segments[5].bytes.substr(50)});  // a partial overlap
    std::shuffle(order.begin() + 1, order.end(), random);
    TcpReassembler r(1 << 20, 1 << 20);
    std::string out;
    uint64_t gap = 0;
    const TcpReassembler::Sink sink{[&](std::span<const uint8_t> b, TimeNs) { out.append(b.begin(), b.end()); },
                                    [&](uint64_t n) { gap += n; }};
    r.Segment(isn, kTcpSyn, {}, 0, sink);
    for (const Seg& s : order) {
      r.Segment(s.seq, kTcpAck, std::span(reinterpret_cast<const uint8_t*>(s.bytes.data()), s.bytes.size()), 0, sink);
    }
    r.Flush(sink);
    EXPECT_EQ(out, message);
    EXPECT_EQ(gap, 0u);
  }
  // Segment 7 never arrives.
  TcpReassembler r(1 << 20, 1 << 20);
  std::string out;
  uint64_t gap = 0;
  const TcpReassembler::Sink sink{[&](std::span<const uint8_t> b, TimeNs) { out.append(b.begin(), b.end()); },
                                  [&](uint64_t n) { gap += n; }};
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i == 7) continue;
    r.Segment(segments[i].seq, kTcpAck,
              std::span(reinterpret_cast<const uint8_t*>(segments[i].bytes.data()), segments[i].bytes.size()), 0, sink);
  }
  r.Flush(sink);
  EXPECT_EQ(gap, 100u);
  EXPECT_EQ(out, message.substr(0, 700) + message.substr(800));
}

// Waiting bytes are bounded; the budget stops delivery; nothing is delivered twice.
TEST(TcpReassembler, BoundedByMemoryAndBudget) {
  TcpReassembler r(/*max_pending=*/300, /*budget=*/450);
  std::string out;
  uint64_t gaps = 0;
  const TcpReassembler::Sink sink{[&](std::span<const uint8_t> b, TimeNs) { out.append(b.begin(), b.end()); },
                                  [&](uint64_t n) { gaps += n; }};
  const std::string chunk(100, 'x');
  const auto bytes = std::span(reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size());
  r.Segment(1000, kTcpSyn, {}, 0, sink);
  // A hole at 1001-1100; later segments pile up until 300 bytes wait, then the hole is given up.
  for (uint32_t seq = 1101; seq < 2001; seq += 100) {
    r.Segment(seq, kTcpAck, bytes, 0, sink);
    EXPECT_LE(r.pending_bytes(), 300u);
  }
  EXPECT_EQ(gaps, 100u);
  EXPECT_EQ(out.size(), 450u);  // the budget
  EXPECT_TRUE(r.exhausted());
  EXPECT_EQ(r.pending_bytes(), 0u);
}

}  // namespace
}  // namespace auscult::sensor
