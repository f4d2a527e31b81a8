// The flow table against tshark's conversation tables on real captures, and its bounds, timeouts
// and delta reports on constructed traffic.
#include "sensor/flow/flow_table.h"

#include <gtest/gtest.h>
#include <pcap/dlt.h>

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "sensor/testing.h"
#include "tests/support/test_support.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::EngineRun;
using ::auscult::sensor::testing::RecordingSink;
using ::auscult::sensor::testing::RunEngine;
using ::auscult::testing::CapturePath;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::TsharkConversations;
using ::auscult::testing::TsharkFields;

// "addr:port" as tshark prints it in conversation tables.
std::string Endpoint(const IpAddress& ip, uint16_t port) { return absl::StrCat(ip.ToString(), ":", port); }
std::pair<std::string, std::string> Unordered(std::string a, std::string b) {
  if (b < a) std::swap(a, b);
  return {a, b};
}

// Packets per TCP/UDP conversation (VLANs folded, as tshark folds them), from our flow reports.
std::map<std::pair<std::string, std::string>, uint64_t> OurConversations(const RecordingSink& sink, uint8_t transport) {
  std::map<std::pair<std::string, std::string>, uint64_t> out;
  for (const FlowRecord& f : sink.flows) {
    if (f.transport != transport) continue;
    out[Unordered(Endpoint(f.initiator.ip, f.initiator.port), Endpoint(f.responder.ip, f.responder.port))] +=
        f.to_responder.packets + f.to_initiator.packets;
  }
  return out;
}

class FlowsVsTshark : public ::testing::TestWithParam<std::string> {};

// Every TCP and UDP conversation tshark lists, we list too, with the same number of frames.
TEST_P(FlowsVsTshark, ConversationsAndFrameCountsAgree) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  const auto path = CapturePath(GetParam());
  if (!path) GTEST_SKIP() << GetParam() << " is neither in tests/data/captures nor in ../shared/captures";
  EngineRun run;
  RunEngine(*path, EngineOptions{}, nullptr, run);
  for (const auto& [type, proto] : {std::pair{"tcp", kIpProtoTcp}, {"udp", kIpProtoUdp}}) {
    std::map<std::pair<std::string, std::string>, uint64_t> theirs;
    for (const auto& c : TsharkConversations(*path, type)) theirs[Unordered(c.a, c.b)] += c.frames;
    const auto ours = OurConversations(run.sink, proto);
    EXPECT_EQ(ours.size(), theirs.size()) << GetParam() << " " << type << " conversations";
    int shown = 0;
    for (const auto& [key, frames] : theirs) {
      auto it = ours.find(key);
      if (it == ours.end()) {
        if (shown++ < 5)
          ADD_FAILURE() << GetParam() << ": missing " << type << " " << key.first << " <-> " << key.second;
      } else if (it->second != frames) {
        if (shown++ < 5) {
          ADD_FAILURE() << GetParam() << ": " << type << " " << key.first << " <-> " << key.second << " has "
                        << it->second << " frames, tshark " << frames;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Captures, FlowsVsTshark,
                         ::testing::Values("medical/hl7.pcap", "mixed/wikipedia.pcap", "dns/DnsPackets.pcap",
                                           "http/get.pcap", "dhcp/dhcp.pcap", "mixed/example.pcap",
                                           "mixed/http-packets.pcap", "mixed/1kxun.pcap", "mixed/telegram.pcap",
                                           "mixed/android.pcap", "tls/tls2.pcap", "smb/smb2.pcap"),
                         ::auscult::testing::CaptureTestName());

// Frame bytes per TCP and UDP conversation, summed from tshark's per-frame fields (its conversation
// table rounds bytes to kB).
TEST_P(FlowsVsTshark, BytesPerConversationAgree) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  const auto path = CapturePath(GetParam());
  if (!path) GTEST_SKIP() << GetParam() << " is neither in tests/data/captures nor in ../shared/captures";
  EngineRun run;
  RunEngine(*path, EngineOptions{}, nullptr, run);
  std::map<std::pair<std::string, std::string>, uint64_t> ours, theirs;
  for (const FlowRecord& f : run.sink.flows) {
    if (f.transport != kIpProtoTcp && f.transport != kIpProtoUdp) continue;
    ours[Unordered(Endpoint(f.initiator.ip, f.initiator.port), Endpoint(f.responder.ip, f.responder.port))] +=
        f.to_responder.bytes + f.to_initiator.bytes;
  }
  for (const auto& r : TsharkFields(*path,
                                    {"ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport",
                                     "udp.srcport", "udp.dstport", "frame.len"},
                                    "(tcp || udp) && !icmp && !icmpv6")) {
    const std::string& src = r[0].empty() ? r[2] : r[0];
    const std::string& dst = r[0].empty() ? r[3] : r[1];
    const std::string& sport = r[4].empty() ? r[6] : r[4];
    const std::string& dport = r[4].empty() ? r[7] : r[5];
    theirs[Unordered(src + ":" + sport, dst + ":" + dport)] += std::stoull(r[8]);
  }
  EXPECT_EQ(ours.size(), theirs.size()) << GetParam();
  int shown = 0;
  for (const auto& [key, bytes] : theirs) {
    auto it = ours.find(key);
    const uint64_t mine = it == ours.end() ? 0 : it->second;
    if (mine != bytes && shown++ < 5) {
      ADD_FAILURE() << GetParam() << ": " << key.first << " <-> " << key.second << " has " << mine << " bytes, tshark "
                    << bytes;
    }
  }
}

// Bytes too: the sum over all flows equals the frame lengths of every IP frame, per tshark.
TEST(FlowTable, BytesAndPacketsMatchTsharkTotals) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed";
  for (const char* name : {"mixed/wikipedia.pcap", "dns/DnsPackets.pcap", "ethernet-vlan/twovlan.pcap"}) {
    const auto path = CapturePath(name);
    ASSERT_TRUE(path);
    EngineRun run;
    RunEngine(*path, EngineOptions{}, nullptr, run);
    uint64_t packets = 0, bytes = 0;
    for (const FlowRecord& f : run.sink.flows) {
      packets += f.to_responder.packets + f.to_initiator.packets;
      bytes += f.to_responder.bytes + f.to_initiator.bytes;
    }
    uint64_t their_packets = 0, their_bytes = 0;
    for (const auto& row : TsharkFields(*path, {"frame.len"}, "ip || ipv6")) {
      ++their_packets;
      their_bytes += std::stoull(row[0]);
    }
    EXPECT_EQ(packets, their_packets) << name;
    EXPECT_EQ(bytes, their_bytes) << name;
  }
}

// The initiator is the sender of the SYN, as tshark sees it.
TEST(FlowTable, InitiatorIsTheSynSender) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed";
  const auto path = CapturePath("http/get.pcap");
  ASSERT_TRUE(path);
  const auto syns = TsharkFields(*path, {"ip.src", "tcp.srcport", "ip.dst", "tcp.dstport"},
                                 "tcp.flags.syn == 1 && tcp.flags.ack == 0");
  ASSERT_FALSE(syns.empty());
  EngineRun run;
  RunEngine(*path, EngineOptions{}, nullptr, run);
  for (const auto& s : syns) {
    bool found = false;
    for (const FlowRecord& f : run.sink.flows) {
      if (f.transport == kIpProtoTcp && f.initiator.ip.ToString() == s[0] && std::to_string(f.initiator.port) == s[1] &&
          f.responder.ip.ToString() == s[2] && std::to_string(f.responder.port) == s[3]) {
        found = true;
      }
    }
    EXPECT_TRUE(found) << "no flow initiated by " << s[0] << ":" << s[1];
  }
}

// DHCP clients and servers both use well-known ports; the client (68, 546) initiates, though
// DHCPv6's client port is the lower one. On every corpus capture with DHCP or DHCPv6, the endpoint
// tshark sees sending client messages (DISCOVER, REQUEST, SOLICIT, RENEW, ...) is the initiator
// of its flow, never the responder.
TEST(FlowTable, DhcpClientsInitiate) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed";
  int agreed = 0;
  for (const std::string name : {"dhcp/dhcp.pcap", "dhcpv6/dhcpv6.pcap", "dhcpv6/dhcpv6-ia-na.pcap",
                                 "dhcpv6/wireshark-dhcpv6.pcap", "dhcpv6/dhcp6_outlease_acquisition.pcapng"}) {
    const auto path = CapturePath(name);
    if (!path) continue;
    std::set<std::string> clients;  // "ip:port" that sent a client message
    for (const auto& r : TsharkFields(*path, {"ip.src", "ipv6.src", "udp.srcport"},
                                      "(dhcp.option.dhcp == 1 || dhcp.option.dhcp == 3 || dhcp.option.dhcp == 4 || "
                                      "dhcp.option.dhcp == 7 || dhcp.option.dhcp == 8) || dhcpv6.msgtype in "
                                      "{1, 3, 4, 5, 6, 8, 9, 11}")) {
      clients.insert(absl::StrCat(r[0].empty() ? r[1] : r[0], ":", r[2]));
    }
    EXPECT_FALSE(clients.empty()) << name;
    EngineRun run;
    RunEngine(*path, EngineOptions{}, nullptr, run);
    for (const FlowRecord& f : run.sink.flows) {
      if (f.transport != kIpProtoUdp) continue;
      const std::string initiator = absl::StrCat(f.initiator.ip.ToString(), ":", f.initiator.port);
      const std::string responder = absl::StrCat(f.responder.ip.ToString(), ":", f.responder.port);
      EXPECT_FALSE(clients.count(responder) && !clients.count(initiator))
          << name << ": the client " << responder << " is the responder of its flow with " << initiator;
      agreed += clients.count(initiator) > 0;
    }
  }
  EXPECT_GT(agreed, 0);
  std::printf("dhcp/dhcpv6 flows initiated by the client: %d\n", agreed);
}

// Deltas: with a short active timeout a flow is reported several times; the reports add up to the
// totals of a run that reports each flow once.
TEST(FlowTable, PeriodicDeltasAddUpToTotals) {
  const auto path = CapturePath("mixed/wikipedia.pcap");
  ASSERT_TRUE(path);
  EngineRun once;
  RunEngine(*path, EngineOptions{}, nullptr, once);
  EngineOptions frequent;
  frequent.flows.active_timeout = kNanosPerSecond / 10;
  frequent.flows.idle_timeout = 3600 * kNanosPerSecond;
  EngineRun often;
  RunEngine(*path, frequent, nullptr, often);
  EXPECT_GT(often.sink.flows.size(), once.flow_stats.flows_created);
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> sums;  // by flow id: packets, bytes
  for (const FlowRecord& f : often.sink.flows) {
    sums[f.flow_id].first += f.to_responder.packets + f.to_initiator.packets;
    sums[f.flow_id].second += f.to_responder.bytes + f.to_initiator.bytes;
  }
  uint64_t packets_once = 0, packets_often = 0, bytes_once = 0, bytes_often = 0;
  for (const FlowRecord& f : once.sink.flows) {
    packets_once += f.to_responder.packets + f.to_initiator.packets;
    bytes_once += f.to_responder.bytes + f.to_initiator.bytes;
  }
  for (const auto& [id, s] : sums) {
    packets_often += s.first;
    bytes_often += s.second;
  }
  EXPECT_EQ(packets_often, packets_once);
  EXPECT_EQ(bytes_often, bytes_once);
  EXPECT_EQ(sums.size(), once.flow_stats.flows_created);
}

// A constructed Ethernet/IPv4/TCP SYN from 10.0.0.1:sport to 10.0.0.2:80.
std::vector<uint8_t> SynFrame(uint16_t sport) {
  std::vector<uint8_t> f = {0x00, 0x00, 0x5e, 0x00, 0x53, 0x02, 0x00, 0x00, 0x5e, 0x00, 0x53, 0x01,
                            0x08, 0x00,                                                              // Ethernet
                            0x45, 0x00, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,  // IPv4
                            10,   0,    0,    1,    10,   0,    0,    2,                             //
                            0,    0,    0x00, 0x50, 0,    0,    0,    1,    0,    0,    0,    0,     // TCP
                            0x50, 0x02, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00};
  f[34] = static_cast<uint8_t>(sport >> 8);
  f[35] = static_cast<uint8_t>(sport);
  return f;
}

// A scan of one-packet flows never grows the table past its cap; every flow is still reported,
// the oldest ones as evicted.
TEST(FlowTable, FloodStaysWithinTheCap) {
  RecordingSink sink;
  FlowTableOptions options;
  options.max_flows = 100;
  FlowTable table(options, &sink);
  Decoder decoder;
  PacketView v;
  constexpr int kFlows = 5000;
  for (int i = 0; i < kFlows; ++i) {
    const auto bytes = SynFrame(static_cast<uint16_t>(1024 + i));
    RawFrame frame{bytes.data(), static_cast<uint32_t>(bytes.size()), static_cast<uint32_t>(bytes.size()), i * 1000LL,
                   DLT_EN10MB};
    ASSERT_TRUE(decoder.Decode(frame, v));
    table.Update(v);
    ASSERT_LE(table.size(), options.max_flows);
  }
  EXPECT_EQ(table.stats().flows_evicted, static_cast<uint64_t>(kFlows) - options.max_flows);
  table.Flush();
  EXPECT_EQ(sink.flows.size(), static_cast<size_t>(kFlows));
  size_t evicted = 0;
  for (const FlowRecord& f : sink.flows) evicted += f.state == FlowState::kEvicted;
  EXPECT_EQ(evicted, static_cast<size_t>(kFlows) - options.max_flows);
}

// A flow silent for the idle timeout ends and is reported once, before the capture ends.
TEST(FlowTable, IdleFlowsEnd) {
  RecordingSink sink;
  FlowTableOptions options;
  options.idle_timeout = 10 * kNanosPerSecond;
  FlowTable table(options, &sink);
  Decoder decoder;
  PacketView v;
  auto send = [&](uint16_t sport, TimeNs t) {
    const auto bytes = SynFrame(sport);
    RawFrame frame{bytes.data(), static_cast<uint32_t>(bytes.size()), static_cast<uint32_t>(bytes.size()), t,
                   DLT_EN10MB};
    decoder.Decode(frame, v);
    table.Update(v);
  };
  send(1000, 0);
  send(2000, 5 * kNanosPerSecond);
  table.Expire(12 * kNanosPerSecond);
  ASSERT_EQ(sink.flows.size(), 1u);
  EXPECT_EQ(sink.flows[0].initiator.port, 1000);
  EXPECT_EQ(sink.flows[0].state, FlowState::kIdleTimeout);
  EXPECT_EQ(table.size(), 1u);
  table.Flush();
  ASSERT_EQ(sink.flows.size(), 2u);
  EXPECT_EQ(sink.flows[1].state, FlowState::kCaptureEnd);
}

}  // namespace
}  // namespace auscult::sensor

namespace auscult::sensor {
namespace {

// Splits a real IPv4/UDP frame into fragments of `chunk` payload bytes (a multiple of 8).
std::vector<std::vector<uint8_t>> Fragment(const RawFrame& f, uint32_t chunk) {
  const uint8_t* ip = f.data + 14;
  const uint32_t header = (ip[0] & 0x0f) * 4u;
  const uint32_t total = static_cast<uint32_t>(ip[2] << 8 | ip[3]);
  std::vector<std::vector<uint8_t>> out;
  for (uint32_t off = 0; off < total - header; off += chunk) {
    const uint32_t size = std::min(chunk, total - header - off);
    std::vector<uint8_t> frag(f.data, f.data + 14 + header);
    uint8_t* h = frag.data() + 14;
    const uint32_t length = header + size;
    h[2] = static_cast<uint8_t>(length >> 8);
    h[3] = static_cast<uint8_t>(length);
    const bool more = off + size < total - header;
    const uint16_t field = static_cast<uint16_t>((more ? 0x2000 : 0) | (off / 8));
    h[6] = static_cast<uint8_t>(field >> 8);
    h[7] = static_cast<uint8_t>(field);
    frag.insert(frag.end(), ip + header + off, ip + header + off + size);
    out.push_back(std::move(frag));
  }
  return out;
}

// Later fragments, which carry no ports, still count towards their datagram's flow; fragments
// whose first one never came are counted as such.
TEST(FlowTable, FragmentsJoinTheirFirstFragmentsFlow) {
  const auto path = CapturePath("dns/DnsPackets.pcap");
  ASSERT_TRUE(path);
  std::vector<uint8_t> original;
  RawFrame udp{};
  ::auscult::sensor::testing::ForEachFrame(*path, [&](const RawFrame& f) {
    Decoder d;
    PacketView v;
    if (original.empty() && d.Decode(f, v) && v.src_ip.IsV4() && v.ip_protocol == kIpProtoUdp &&
        v.payload.size() >= 60 && f.captured_length == f.wire_length && v.vlan_tags == 0) {
      original.assign(f.data, f.data + f.captured_length);
      udp = f;
    }
  });
  ASSERT_FALSE(original.empty());
  udp.data = original.data();
  Decoder d;
  PacketView expected;
  ASSERT_TRUE(d.Decode(udp, expected));
  const auto fragments = Fragment(udp, 16);
  ASSERT_GE(fragments.size(), 4u);

  RecordingSink sink;
  Engine engine(EngineOptions{}, nullptr, &sink);
  for (const auto& frag : fragments) {
    engine.Process(RawFrame{frag.data(), static_cast<uint32_t>(frag.size()), static_cast<uint32_t>(frag.size()),
                            udp.timestamp, DLT_EN10MB});
  }
  engine.Finish();
  ASSERT_EQ(sink.flows.size(), 1u);
  const FlowRecord& flow = sink.flows[0];
  EXPECT_EQ(flow.to_responder.packets + flow.to_initiator.packets, fragments.size());
  const std::set<uint16_t> ports = {flow.initiator.port, flow.responder.port};
  EXPECT_EQ(ports, (std::set<uint16_t>{expected.src_port, expected.dst_port}));
  EXPECT_EQ(engine.anomalies().Get(Anomaly::kFragmentWithoutFirst), 0u);

  // Without the first fragment, the others cannot be placed: counted, and kept apart.
  RecordingSink orphans;
  Engine lost(EngineOptions{}, nullptr, &orphans);
  for (size_t i = 1; i < fragments.size(); ++i) {
    lost.Process(RawFrame{fragments[i].data(), static_cast<uint32_t>(fragments[i].size()),
                          static_cast<uint32_t>(fragments[i].size()), udp.timestamp, DLT_EN10MB});
  }
  lost.Finish();
  EXPECT_EQ(lost.anomalies().Get(Anomaly::kFragmentWithoutFirst), fragments.size() - 1);
}

}  // namespace
}  // namespace auscult::sensor
