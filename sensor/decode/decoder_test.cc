// The decoder against tshark, frame by frame, on real captures: addresses, VLANs, ports and ARP
// fields must agree wherever tshark decodes them; malformed frames are counted, never fatal.
#include "sensor/decode/decoder.h"

#include <gtest/gtest.h>
#include <pcap/dlt.h>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "sensor/testing.h"
#include "tests/support/test_support.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::ForEachFrame;
using ::auscult::testing::CapturePath;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::TsharkFields;

// The outermost network and transport protocol names in tshark's frame.protocols
// ("eth:ethertype:vlan:ethertype:ip:tcp:http" -> "ip", "tcp").
std::pair<std::string, std::string> OuterProtocols(const std::string& protocols) {
  std::vector<std::string> p = absl::StrSplit(protocols, ':');
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == "ip" || p[i] == "ipv6") {
      for (size_t j = i + 1; j < p.size(); ++j) {
        if (p[j].rfind("ipv6.", 0) == 0) continue;  // extension headers
        return {p[i], p[j]};
      }
      return {p[i], ""};
    }
    if (p[i] == "arp") return {"arp", ""};
  }
  return {"", ""};
}

struct Mismatches {
  int frames = 0;
  int compared = 0;
  std::vector<std::string> examples;
  void Add(int frame, const std::string& what) {
    if (examples.size() < 10) examples.push_back("frame " + std::to_string(frame) + ": " + what);
  }
};

// Decodes every frame of `relative` and compares with tshark. Returns the disagreements.
Mismatches CompareWithTshark(const std::string& path) {
  const std::vector<std::string> fields = {
      "frame.protocols",    "eth.src",     "vlan.id",        "ip.src",       "ip.dst",      "ipv6.src",
      "ipv6.dst",           "tcp.srcport", "tcp.dstport",    "udp.srcport",  "udp.dstport", "arp.src.hw_mac",
      "arp.src.proto_ipv4", "ip.flags.mf", "ip.frag_offset", "ieee8021ad.id"};
  const auto rows = TsharkFields(path, fields);
  Mismatches m;
  Decoder decoder;
  PacketView v;
  size_t i = 0;
  ForEachFrame(path, [&](const RawFrame& frame) {
    const int number = static_cast<int>(i) + 1;
    if (i >= rows.size()) {
      m.Add(number, "tshark has fewer frames");
      ++i;
      return;
    }
    const auto& t = rows[i++];
    ++m.frames;
    decoder.Decode(frame, v);
    if (frame.link_type == DLT_EN10MB && !t[1].empty()) {
      ++m.compared;
      if (v.src_mac.ToString() != t[1]) m.Add(number, "eth.src " + t[1] + " vs " + v.src_mac.ToString());
    }
    // tshark names an 802.1ad service tag ieee8021ad.id; vlan.id is then the inner (customer) tag.
    const std::string& outer = t[15].empty() ? t[2] : t[15];
    if (!outer.empty() && std::to_string(v.vlan_outer) != outer) {
      m.Add(number, "outer VLAN " + outer + " vs " + std::to_string(v.vlan_outer));
    }
    if (!t[15].empty() && !t[2].empty() && std::to_string(v.vlan_inner) != t[2]) {
      m.Add(number, "inner VLAN " + t[2] + " vs " + std::to_string(v.vlan_inner));
    }
    const auto [net, transport] = OuterProtocols(t[0]);
    if (net == "ip" || net == "ipv6") {
      ++m.compared;
      const std::string& src = net == "ip" ? t[3] : t[5];
      const std::string& dst = net == "ip" ? t[4] : t[6];
      if (!v.has_ip) {
        m.Add(number, "no IP decoded; tshark: " + t[0]);
        return;
      }
      if (v.src_ip.ToString() != src || v.dst_ip.ToString() != dst) {
        m.Add(number, "IP " + src + ">" + dst + " vs " + v.src_ip.ToString() + ">" + v.dst_ip.ToString());
      }
      const bool later_fragment = net == "ip" && t[14] != "" && t[14] != "0";
      if (!v.is_fragment && !later_fragment && (transport == "tcp" || transport == "udp")) {
        const std::string& sp = transport == "tcp" ? t[7] : t[9];
        const std::string& dp = transport == "tcp" ? t[8] : t[10];
        if (!sp.empty() && (std::to_string(v.src_port) != sp || std::to_string(v.dst_port) != dp)) {
          m.Add(number, transport + " ports " + sp + ">" + dp + " vs " + std::to_string(v.src_port) + ">" +
                            std::to_string(v.dst_port));
        }
      }
    } else if (net == "arp" && !t[11].empty() && !t[12].empty()) {
      ++m.compared;
      if (!v.is_arp || v.arp_sender_mac.ToString() != t[11] || v.arp_sender_ip.ToString() != t[12]) {
        m.Add(number, "ARP sender " + t[11] + "/" + t[12]);
      }
    }
  });
  if (i != rows.size()) m.Add(static_cast<int>(i), "tshark has more frames");
  return m;
}

class DecoderVsTshark : public ::testing::TestWithParam<std::string> {};

TEST_P(DecoderVsTshark, AgreesFrameByFrame) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  const auto path = CapturePath(GetParam());
  if (!path) GTEST_SKIP() << GetParam() << " is neither in tests/data/captures nor in ../shared/captures";
  const Mismatches m = CompareWithTshark(*path);
  EXPECT_GT(m.frames, 0);
  EXPECT_GT(m.compared, 0) << "nothing comparable in " << GetParam();
  EXPECT_TRUE(m.examples.empty()) << GetParam() << ":\n" << absl::StrJoin(m.examples, "\n");
}

// Bundled captures first (always present), then corpus captures that exercise more of the decoder.
INSTANTIATE_TEST_SUITE_P(Captures, DecoderVsTshark,
                         ::testing::Values("medical/hl7.pcap", "mixed/wikipedia.pcap", "ethernet-vlan/twovlan.pcap",
                                           "ethernet-vlan/802.1ad_QinQ.pcap", "dhcp/dhcp.pcap",
                                           "arp/cloudshark-arp.pcap", "dns/DnsPackets.pcap", "http/get.pcap",
                                           "http/http-empty-useragent.pcap", "pcap-formats/nanosecs_big_endian.pcap",
                                           "pcap-formats/tcp-handshake-nano.pcap", "syslog/tcp-syslog.pcap",
                                           "mixed/example.pcap", "mixed/http-packets.pcap", "mixed/1kxun.pcap",
                                           "mixed/telegram.pcap", "mixed/android.pcap", "tls/tls2.pcap",
                                           "ethernet-vlan/VlanPackets.pcap", "ethernet-vlan/QinQ_802.1_AD.pcapng",
                                           "ipv6-nd/icmpv6_neighbor_solicitation.pcapng",
                                           "dhcpv6/wireshark-dhcpv6.pcap", "snmp/snmp.pcap", "mdns-dnssd/iphone.pcap"),
                         ::auscult::testing::CaptureTestName());

// Timestamps: nanosecond and microsecond files, either byte order, read exactly.
TEST(Decoder, TimestampsMatchTsharkToTheNanosecond) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed";
  for (const char* name :
       {"pcap-formats/nanosecs_big_endian.pcap", "pcap-formats/tcp-handshake-nano.pcap", "medical/hl7.pcap"}) {
    const auto path = CapturePath(name);
    ASSERT_TRUE(path) << name;
    const auto rows = TsharkFields(*path, {"frame.time_epoch"});
    size_t i = 0;
    ForEachFrame(*path, [&](const RawFrame& f) {
      ASSERT_LT(i, rows.size());
      // "1234567890.123456789"
      const std::vector<std::string> parts = absl::StrSplit(rows[i++][0], '.');
      ASSERT_EQ(parts.size(), 2u);
      const TimeNs expected =
          std::stoll(parts[0]) * kNanosPerSecond + std::stoll((parts[1] + "000000000").substr(0, 9));
      EXPECT_EQ(f.timestamp, expected) << name << " frame " << i;
    });
    EXPECT_EQ(i, rows.size());
  }
}

// Each supported link type decodes to IP on a capture of that type.
TEST(Decoder, LinkTypes) {
  struct Case {
    const char* capture;
    int link_type;
    bool has_mac;
  };
  for (const Case& c :
       {Case{"pcap-formats/tcp-handshake-nano.pcap", DLT_LINUX_SLL, false},
        Case{"syslog/tcp-syslog.pcap", DLT_IPV4, false}, Case{"http/http-empty-useragent.pcap", DLT_NULL, false},
        Case{"medical/hl7.pcap", DLT_EN10MB, true}}) {
    const auto path = CapturePath(c.capture);
    ASSERT_TRUE(path) << c.capture;
    Decoder decoder;
    PacketView v;
    int frames = 0;
    int with_ip = 0;
    ForEachFrame(*path, [&](const RawFrame& f) {
      ++frames;
      EXPECT_EQ(f.link_type, c.link_type) << c.capture;
      EXPECT_TRUE(decoder.Decode(f, v)) << c.capture;
      with_ip += v.has_ip;
    });
    EXPECT_GT(frames, 0) << c.capture;
    EXPECT_EQ(with_ip, frames) << c.capture << ": every frame carries IP";
  }
}

// An ARP whose hardware address length is not 6 is counted as unsupported, as often as tshark
// sees such frames.
TEST(Decoder, CountsMalformedArp) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed";
  const auto path = CapturePath("malformed/arp-too-long-tha.pcap");
  ASSERT_TRUE(path);
  const auto odd = TsharkFields(*path, {"arp.hw.size"}, "arp && arp.hw.size != 6");
  Decoder decoder;
  PacketView v;
  ForEachFrame(*path, [&](const RawFrame& f) { decoder.Decode(f, v); });
  EXPECT_GT(odd.size(), 0u);
  EXPECT_EQ(decoder.anomalies().Get(Anomaly::kUnsupportedArp), odd.size());
}

// Every prefix of every frame decodes without reading outside it: payload spans stay inside the
// bytes given, and nothing is claimed that the bytes do not hold.
TEST(Decoder, EveryTruncationOfRealFramesIsSafe) {
  for (const char* name : {"mixed/wikipedia.pcap", "ethernet-vlan/802.1ad_QinQ.pcap", "dns/DnsPackets.pcap",
                           "pcap-formats/tcp-handshake-nano.pcap", "http/http-empty-useragent.pcap",
                           "malformed/lldp_asan.pcap", "malformed/arp-too-long-tha.pcap"}) {
    const auto path = CapturePath(name);
    ASSERT_TRUE(path) << name;
    Decoder decoder;
    PacketView v;
    uint64_t truncated_frames = 0;
    ForEachFrame(*path, [&](const RawFrame& f) {
      for (uint32_t n = 0; n <= f.captured_length; ++n) {
        RawFrame cut = f;
        cut.captured_length = n;
        decoder.Decode(cut, v);
        if (!v.payload.empty()) {
          ASSERT_GE(v.payload.data(), f.data);
          ASSERT_LE(v.payload.data() + v.payload.size(), f.data + n) << name << " prefix " << n;
        }
        if (v.cut_by_snap_length) ++truncated_frames;
      }
    });
    EXPECT_GT(truncated_frames, 0u);
  }
}

}  // namespace
}  // namespace auscult::sensor

namespace auscult::sensor {
namespace {

// A frame stamped outside 1970-2100 (a corrupt file, a broken clock) is counted and goes no further.
TEST(Decoder, ImplausibleTimestampsAreCountedAndDropped) {
  const auto path = ::auscult::testing::CapturePath("medical/hl7.pcap");
  ASSERT_TRUE(path);
  std::vector<uint8_t> bytes;
  RawFrame first;
  ::auscult::sensor::testing::ForEachFrame(*path, [&](const RawFrame& f) {
    if (bytes.empty()) {
      bytes.assign(f.data, f.data + f.captured_length);
      first = f;
    }
  });
  first.data = bytes.data();
  Decoder decoder;
  PacketView v;
  ASSERT_TRUE(decoder.Decode(first, v));
  for (TimeNs t : {TimeNs{-1}, TimeNs{7258118400} * kNanosPerSecond}) {  // 1969, 2200
    RawFrame odd = first;
    odd.timestamp = t;
    EXPECT_FALSE(decoder.Decode(odd, v));
  }
  EXPECT_EQ(decoder.anomalies().Get(Anomaly::kTimestampOutOfRange), 2u);
}

}  // namespace
}  // namespace auscult::sensor

namespace auscult::sensor {
namespace {

// Wraps an Ethernet frame as a switch's remote SPAN would: outer Ethernet + IPv4 (protocol 47) +
// GRE with `gre_flags` and `protocol`, then `extra` bytes (sequence number, ERSPAN header).
std::vector<uint8_t> Encapsulate(const RawFrame& inner, uint16_t gre_flags, uint16_t protocol,
                                 const std::vector<uint8_t>& extra) {
  std::vector<uint8_t> f = {0x00, 0x00, 0x5e, 0x00, 0x53, 0x10, 0x00, 0x00, 0x5e, 0x00, 0x53, 0x11, 0x08, 0x00};
  const size_t ip_length = 20 + 4 + extra.size() + inner.captured_length;
  const std::vector<uint8_t> ip = {0x45,
                                   0,
                                   static_cast<uint8_t>(ip_length >> 8),
                                   static_cast<uint8_t>(ip_length),
                                   0,
                                   0,
                                   0x40,
                                   0,
                                   64,
                                   47,
                                   0,
                                   0,
                                   192,
                                   0,
                                   2,
                                   1,
                                   192,
                                   0,
                                   2,
                                   2};
  f.insert(f.end(), ip.begin(), ip.end());
  f.insert(f.end(), {static_cast<uint8_t>(gre_flags >> 8), static_cast<uint8_t>(gre_flags),
                     static_cast<uint8_t>(protocol >> 8), static_cast<uint8_t>(protocol)});
  f.insert(f.end(), extra.begin(), extra.end());
  f.insert(f.end(), inner.data, inner.data + inner.captured_length);
  return f;
}

// A sensor fed by GRE or ERSPAN sees the mirrored frames themselves.
TEST(Decoder, GreAndErspanAreDecapsulated) {
  const auto path = ::auscult::testing::CapturePath("mixed/wikipedia.pcap");
  ASSERT_TRUE(path);
  struct Kind {
    const char* name;
    uint16_t flags;
    uint16_t protocol;
    std::vector<uint8_t> extra;
    uint8_t encapsulation;
  };
  const Kind kinds[] = {
      {"GRE/Ethernet", 0x0000, 0x6558, {}, 1},
      {"ERSPAN II", 0x1000, 0x88be, {0, 0, 0, 1, 0x10, 0x01, 0, 0, 0, 0, 0, 0}, 2},
      {"ERSPAN III", 0x1000, 0x22eb, {0, 0, 0, 1, 0x20, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 2},
  };
  for (const Kind& kind : kinds) {
    Decoder plain, wrapped;
    PacketView a, b;
    int frames = 0;
    ::auscult::sensor::testing::ForEachFrame(*path, [&](const RawFrame& f) {
      const auto bytes = Encapsulate(f, kind.flags, kind.protocol, kind.extra);
      RawFrame outer{bytes.data(), static_cast<uint32_t>(bytes.size()),
                     static_cast<uint32_t>(bytes.size() + (f.wire_length - f.captured_length)), f.timestamp,
                     DLT_EN10MB};
      plain.Decode(f, a);
      wrapped.Decode(outer, b);
      ++frames;
      EXPECT_EQ(b.encapsulation, kind.encapsulation) << kind.name;
      EXPECT_EQ(b.src_mac, a.src_mac) << kind.name << " frame " << frames;
      EXPECT_EQ(b.src_ip, a.src_ip) << kind.name << " frame " << frames;
      EXPECT_EQ(b.dst_ip, a.dst_ip) << kind.name << " frame " << frames;
      EXPECT_EQ(b.src_port, a.src_port) << kind.name << " frame " << frames;
      EXPECT_EQ(b.is_arp, a.is_arp) << kind.name << " frame " << frames;
      EXPECT_EQ(b.wire_length, a.wire_length) << kind.name << " frame " << frames;
    });
    EXPECT_GT(frames, 100);
    EXPECT_EQ(
        wrapped.anomalies().Get(kind.encapsulation == 1 ? Anomaly::kGreDecapsulated : Anomaly::kErspanDecapsulated),
        static_cast<uint64_t>(frames));
  }
}

}  // namespace
}  // namespace auscult::sensor

namespace auscult::sensor {
namespace {

// Linux cooked capture v2 has no file in the corpus: the SLL capture's frames, rewritten into the
// SLL2 header layout, must decode to the same addresses and ports.
TEST(Decoder, LinuxSll2) {
  const auto path = ::auscult::testing::CapturePath("pcap-formats/tcp-handshake-nano.pcap");
  ASSERT_TRUE(path);
  int frames = 0;
  ::auscult::sensor::testing::ForEachFrame(*path, [&](const RawFrame& f) {
    ASSERT_GE(f.captured_length, 16u);
    // SLL:  | packet type (2) | ARPHRD (2) | address length (2) | address (8) | protocol (2) |
    // SLL2: | protocol (2) | reserved (2) | ifindex (4) | ARPHRD (2) | packet type (1) |
    //       | address length (1) | address (8) |
    std::vector<uint8_t> b(20 + f.captured_length - 16);
    b[0] = f.data[14];
    b[1] = f.data[15];
    b[7] = 2;  // interface index
    b[8] = f.data[2];
    b[9] = f.data[3];
    b[10] = f.data[1];
    b[11] = f.data[5];
    std::copy(f.data + 6, f.data + 14, b.begin() + 12);
    std::copy(f.data + 16, f.data + f.captured_length, b.begin() + 20);
    RawFrame v2{b.data(), static_cast<uint32_t>(b.size()), static_cast<uint32_t>(b.size()), f.timestamp,
                DLT_LINUX_SLL2};
    Decoder d1, d2;
    PacketView a, c;
    ASSERT_TRUE(d1.Decode(f, a));
    ASSERT_TRUE(d2.Decode(v2, c));
    EXPECT_TRUE(c.has_ip);
    EXPECT_EQ(c.src_ip, a.src_ip);
    EXPECT_EQ(c.dst_ip, a.dst_ip);
    EXPECT_EQ(c.src_port, a.src_port);
    EXPECT_EQ(c.has_mac, a.has_mac);
    EXPECT_EQ(c.src_mac, a.src_mac);
    ++frames;
  });
  EXPECT_GT(frames, 0);
}

}  // namespace
}  // namespace auscult::sensor
