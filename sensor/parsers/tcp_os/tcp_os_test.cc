// Passive TCP fingerprints: the signature of every SYN and SYN-ACK against tshark's reading of the
// same headers on every corpus capture with TCP; the OS family against what the same hosts say of
// themselves in HTTP User-Agents; the option walker on bytes; the data file's grammar.
#include <gtest/gtest.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sensor/decode/decoder.h"
#include "sensor/parsers/oracle.h"
#include "sensor/parsers/parser_testing.h"
#include "sensor/parsers/tcp_os/tcp_os.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::CapturesWith;
using ::auscult::sensor::testing::DeviceKeys;
using ::auscult::sensor::testing::FactKey;
using ::auscult::sensor::testing::OracleTally;
using ::auscult::sensor::testing::RunSensor;
using ::auscult::sensor::testing::SensorRun;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::TsharkAllFields;
using Bytes = std::vector<uint8_t>;

// ---- The option walker on bytes, through the real decoder ----

// An Ethernet/IPv4/TCP frame with the given TTL, flags, window and option bytes (padded by the
// caller to a multiple of 4). `cut` bytes are left out of the capture (snap length).
struct Frame {
  Bytes bytes;
  uint32_t wire_length = 0;
};
// `ip_short` bytes are left out of the IP packet's stated length (a sender that cut its own
// header); `offset_words` overrides the TCP data offset.
Frame TcpFrame(uint8_t ttl, uint8_t flags, uint16_t window, const Bytes& options, size_t cut = 0, size_t ip_short = 0,
               uint8_t offset_words = 0) {
  const size_t tcp_length = 20 + options.size();
  const size_t total = 20 + tcp_length - ip_short;
  Bytes f = {0, 1, 2, 3, 4, 5, 0, 0x1b, 0x3c, 0, 0, 1, 0x08, 0x00};
  // IPv4: version/IHL, TOS, total length, id, DF, TTL, protocol 6, checksum 0, 10.40.0.11 -> 10.40.0.2
  const Bytes ip = {0x45, 0, static_cast<uint8_t>(total >> 8), static_cast<uint8_t>(total), 0, 1, 0x40, 0, ttl, 6,
                    0,    0};
  f.insert(f.end(), ip.begin(), ip.end());
  f.insert(f.end(), {10, 40, 0, 11, 10, 40, 0, 2});
  // TCP: ports 50000 -> 443, seq 1, ack 0, data offset, flags, window, checksum, urgent pointer.
  f.insert(f.end(), {0xc3, 0x50, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0});
  const uint8_t words = offset_words != 0 ? offset_words : static_cast<uint8_t>(tcp_length / 4);
  f.insert(f.end(), {static_cast<uint8_t>(words << 4), flags, static_cast<uint8_t>(window >> 8),
                     static_cast<uint8_t>(window), 0, 0, 0, 0});
  f.insert(f.end(), options.begin(), options.end());
  f.resize(f.size() - ip_short);
  Frame out;
  out.wire_length = static_cast<uint32_t>(f.size());
  f.resize(f.size() - cut);
  out.bytes = std::move(f);
  return out;
}

bool ReadFrame(const Frame& frame, tcp_os::Signature& s, tcp_os::Error& e) {
  Decoder decoder;
  PacketView view;
  RawFrame raw{frame.bytes.data(), static_cast<uint32_t>(frame.bytes.size()), frame.wire_length, 1, 1};
  if (!decoder.Decode(raw, view)) {
    ADD_FAILURE() << "frame did not decode";
    return false;
  }
  return tcp_os::Read(view, s, e);
}

constexpr uint8_t kSyn = 0x02, kSynAck = 0x12;
// Linux: MSS 1460, SACK permitted, timestamps, NOP, window scale 7.
const Bytes kLinuxOptions = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};

TEST(TcpOs, ReadsLinuxSyn) {
  tcp_os::Signature s;
  tcp_os::Error e;
  ASSERT_TRUE(ReadFrame(TcpFrame(64, kSyn, 29200, kLinuxOptions), s, e));
  EXPECT_FALSE(s.syn_ack);
  EXPECT_EQ(s.ttl, 64);
  EXPECT_EQ(s.initial_ttl, 64);
  EXPECT_EQ(s.window, 29200);
  EXPECT_EQ(s.mss, 1460);
  EXPECT_EQ(s.window_scale, 7);
  EXPECT_EQ(s.options, "mss,sok,ts,nop,ws");
  EXPECT_EQ(tcp_os::Text(s), "syn:64:29200:1460:7:mss,sok,ts,nop,ws");
}

TEST(TcpOs, RoutedTtlRoundsUpToTheInitialOne) {
  EXPECT_EQ(tcp_os::InitialTtl(1), 32);
  EXPECT_EQ(tcp_os::InitialTtl(32), 32);
  EXPECT_EQ(tcp_os::InitialTtl(33), 64);
  EXPECT_EQ(tcp_os::InitialTtl(113), 128);
  EXPECT_EQ(tcp_os::InitialTtl(129), 255);
  tcp_os::Signature s;
  tcp_os::Error e;
  // Windows 10 three routers away, answering: MSS, NOP, NOP, SACK permitted; no window scale.
  ASSERT_TRUE(ReadFrame(TcpFrame(125, kSynAck, 64240, {2, 4, 0x05, 0xb4, 1, 1, 4, 2}), s, e));
  EXPECT_TRUE(s.syn_ack);
  EXPECT_EQ(tcp_os::Text(s), "syn-ack:128:64240:1460:-:mss,nop,nop,sok");
}

TEST(TcpOs, EndOfOptionsEndsTheList) {
  tcp_os::Signature s;
  tcp_os::Error e;
  // macOS: ... timestamps, SACK permitted, EOL, EOL (padding to a 4-byte boundary).
  const Bytes apple = {2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 4, 2, 0, 0};
  ASSERT_TRUE(ReadFrame(TcpFrame(64, kSyn, 65535, apple), s, e));
  EXPECT_EQ(s.options, "mss,nop,ws,nop,nop,ts,sok,eol");
  // Bytes after the EOL are padding, whatever they hold.
  const Bytes junk_after_eol = {2, 4, 0x05, 0xb4, 0, 0xff, 0xff, 0xff};
  ASSERT_TRUE(ReadFrame(TcpFrame(64, kSyn, 8192, junk_after_eol), s, e));
  EXPECT_EQ(s.options, "mss,eol");
}

TEST(TcpOs, UnknownKindsAndOddLengthsAreNamedNotTrusted) {
  tcp_os::Signature s;
  tcp_os::Error e;
  // MPTCP (30) with 4 bytes; an MSS option of length 3 (no value read); no options at all.
  ASSERT_TRUE(ReadFrame(TcpFrame(64, kSyn, 1024, {30, 4, 0, 0, 2, 3, 5, 1}), s, e));
  EXPECT_EQ(s.options, "?30,mss,nop");
  EXPECT_EQ(s.mss, -1);
  ASSERT_TRUE(ReadFrame(TcpFrame(255, kSyn, 4128, {}), s, e));
  EXPECT_EQ(tcp_os::Text(s), "syn:255:4128:-:-:");
}

TEST(TcpOs, BadOptionLengthsAreErrors) {
  tcp_os::Signature s;
  tcp_os::Error e;
  for (const Bytes& bad : {Bytes{2, 0, 0, 0}, Bytes{2, 1, 0, 0}, Bytes{1, 1, 1, 2}, Bytes{2, 4, 5, 0xb4, 8, 10, 0, 0},
                           Bytes{1, 1, 1, 8}}) {
    EXPECT_FALSE(ReadFrame(TcpFrame(64, kSyn, 1024, bad), s, e)) << bad.size();
    EXPECT_EQ(e, tcp_os::Error::kBadOptionLength);
  }
  // Options the capture cut off are not the sender's fault.
  EXPECT_FALSE(ReadFrame(TcpFrame(64, kSyn, 29200, kLinuxOptions, 2), s, e));
  EXPECT_EQ(e, tcp_os::Error::kCutOptions);
}

// A header the packet does not hold whole gives no signature, even when the cut falls between two
// options (a partial list would look like a stack that does not exist).
TEST(TcpOs, IncompleteHeadersGiveNoSignature) {
  tcp_os::Signature s;
  tcp_os::Error e;
  // Windows' 12 option bytes, the IP length stopping after "mss,nop,ws,nop,nop" (10 bytes).
  const Bytes windows = {2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2};
  EXPECT_FALSE(ReadFrame(TcpFrame(128, kSyn, 64240, windows, 0, 2), s, e));
  EXPECT_EQ(e, tcp_os::Error::kIncompleteHeader);
  // The same cut by the capture's snap length: counted as cut, not as the sender's fault.
  EXPECT_FALSE(ReadFrame(TcpFrame(128, kSyn, 64240, windows, 2), s, e));
  EXPECT_EQ(e, tcp_os::Error::kCutOptions);
  // A data offset below 20 bytes, and a header of 14 bytes: the flags are known, the rest is not.
  EXPECT_FALSE(ReadFrame(TcpFrame(64, kSyn, 1024, {}, 0, 0, 4), s, e));
  EXPECT_EQ(e, tcp_os::Error::kIncompleteHeader);
  EXPECT_FALSE(ReadFrame(TcpFrame(64, kSyn, 1024, {}, 0, 6), s, e));
  EXPECT_EQ(e, tcp_os::Error::kIncompleteHeader);
  ASSERT_TRUE(ReadFrame(TcpFrame(128, kSyn, 64240, windows), s, e));
  EXPECT_EQ(s.options, "mss,nop,ws,nop,nop,sok");
}

TEST(TcpOs, OnlySynAndSynAck) {
  tcp_os::Signature s;
  tcp_os::Error e;
  for (uint8_t flags : {0x10, 0x18, 0x04, 0x06, 0x03, 0x11}) {
    EXPECT_FALSE(ReadFrame(TcpFrame(64, flags, 1024, kLinuxOptions), s, e)) << int(flags);
    EXPECT_EQ(e, tcp_os::Error::kNotSyn);
  }
}

// ---- The data file ----

TEST(TcpOs, DataFileGrammar) {
  auto db = tcp_os::Database::Parse(
      "# comment\n"
      "\n"
      "syn 64 mss*20 * * mss,sok,ts,nop,ws Linux  Linux 3.x  with spaces \n"
      "syn 64 * * * mss,sok,ts,nop,ws Linux Linux (other)\n"
      "syn-ack 128 * 1460 - mss,nop,nop,sok Windows Windows\n"
      "* 255 4128 * - * Cisco-IOS IOS\n",
      "test");
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_EQ((*db)->size(), 4u);
  tcp_os::Signature s{false, 60, 64, 29200, 1460, 7, "mss,sok,ts,nop,ws"};
  const tcp_os::Entry* e = (*db)->Match(s);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->line, 3);
  EXPECT_EQ(e->family, "Linux");
  EXPECT_EQ(e->label, "Linux 3.x  with spaces");
  EXPECT_FLOAT_EQ(e->Confidence(), 0.5f);
  s.window = 29201;  // not 20 segments: the general Linux line
  e = (*db)->Match(s);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->line, 4);
  EXPECT_FLOAT_EQ(e->Confidence(), 0.3f);
  s.syn_ack = true;  // a SYN line never matches a SYN-ACK
  EXPECT_EQ((*db)->Match(s), nullptr);
  tcp_os::Signature windows{true, 120, 128, 64240, 1460, -1, "mss,nop,nop,sok"};
  ASSERT_NE((*db)->Match(windows), nullptr);
  windows.window_scale = 8;  // "-": the option must be absent
  EXPECT_EQ((*db)->Match(windows), nullptr);
  windows = {true, 120, 128, 64240, 1380, -1, "mss,nop,nop,sok"};  // MSS pinned to 1460
  EXPECT_EQ((*db)->Match(windows), nullptr);
  tcp_os::Signature ios{false, 250, 255, 4128, 536, -1, "mss"};
  ASSERT_NE((*db)->Match(ios), nullptr);
  EXPECT_EQ((*db)->Match(ios)->family, "Cisco-IOS");
}

TEST(TcpOs, DataFileErrorsNameTheLine) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"syn 64 * * * mss Linux", ":1: expected"},        {"# ok\nfin 64 * * * mss Linux L", ":2: KIND"},
      {"syn 63 * * * mss Linux L", ":1: ITTL"},          {"syn 64 70000 * * mss Linux L", ":1: WINDOW"},
      {"syn 64 mss*0 * * mss Linux L", ":1: bad mss*N"}, {"syn 64 mss*x * * mss Linux L", ":1: bad mss*N"},
      {"syn 64 * 65536 * mss Linux L", ":1: MSS"},       {"syn 64 * * 256 mss Linux L", ":1: WSCALE"},
      {"syn 64 * * x mss Linux L", ":1: WSCALE"},        {"syn 64 * * * mss,,ws Linux L", ":1: OPTIONS"},
      {"syn 64 * * * mss,foo Linux L", ":1: OPTIONS"},   {"syn 64 * * * ?300 Linux L", ":1: OPTIONS"},
      {"syn 64 * * * ?2 Linux L", ":1: OPTIONS"},  // kind 2 is written "mss"
  };
  for (const auto& [text, message] : bad) {
    auto db = tcp_os::Database::Parse(text, "fp.txt");
    ASSERT_FALSE(db.ok()) << text;
    EXPECT_NE(db.status().message().find(message), std::string::npos) << db.status().message();
    EXPECT_NE(db.status().message().find("fp.txt"), std::string::npos);
  }
  EXPECT_FALSE(tcp_os::Database::Load("/nonexistent/tcp_os_fingerprints.txt").ok());
}

TEST(TcpOs, ShippedFileLoadsAndKnowsTheCommonStacks) {
  const std::string path = tcp_os::DefaultDatabasePath();
  ASSERT_FALSE(path.empty());
  auto db = tcp_os::Database::Load(path);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_GT((*db)->size(), 20u);
  const std::map<std::string, std::string> known = {
      {"syn:128:8192:1460:8:mss,nop,ws,nop,nop,sok", "Windows"},
      {"syn:128:64240:1460:8:mss,nop,ws,nop,nop,sok", "Windows"},
      {"syn:64:29200:1460:7:mss,sok,ts,nop,ws", "Linux"},
      {"syn:64:5840:1460:7:mss,sok,ts,nop,ws", "Linux"},
      {"syn:64:65535:1460:5:mss,nop,ws,nop,nop,ts,sok,eol", "Apple"},
      {"syn:255:4128:536:-:mss", "Cisco-IOS"},
  };
  for (const auto& [text, family] : known) {
    // Text() -> Signature: kind:ittl:window:mss:ws:options
    std::vector<std::string> f = absl::StrSplit(text, ':');
    tcp_os::Signature s{f[0] == "syn-ack",
                        static_cast<uint8_t>(std::stoi(f[1])),
                        static_cast<uint8_t>(std::stoi(f[1])),
                        static_cast<uint16_t>(std::stoi(f[2])),
                        f[3] == "-" ? -1 : std::stoi(f[3]),
                        static_cast<int16_t>(f[4] == "-" ? -1 : std::stoi(f[4])),
                        f[5]};
    ASSERT_EQ(tcp_os::Text(s), text);
    const tcp_os::Entry* e = (*db)->Match(s);
    ASSERT_NE(e, nullptr) << text;
    EXPECT_EQ(e->family, family) << text;
  }
}

// ---- Against tshark on the corpus ----

// tshark's reading of the same headers, as Text() would write it.
std::string TsharkSignature(const std::vector<std::string>& r) {
  // r: ttl, hop limit, ack flag, window, mss, wscale, option kinds
  const std::string& ttl_text = !r[0].empty() ? r[0] : r[1];
  std::string options;
  for (absl::string_view k : absl::StrSplit(r[6], ',', absl::SkipEmpty())) {
    static const std::map<std::string, std::string> kNames = {{"0", "eol"}, {"1", "nop"},  {"2", "mss"}, {"3", "ws"},
                                                              {"4", "sok"}, {"5", "sack"}, {"8", "ts"}};
    auto it = kNames.find(std::string(k));
    absl::StrAppend(&options, options.empty() ? "" : ",", it != kNames.end() ? it->second : absl::StrCat("?", k));
    if (k == "0") break;
  }
  return absl::StrCat(r[2] == "1" || r[2] == "True" ? "syn-ack" : "syn", ":",
                      tcp_os::InitialTtl(static_cast<uint8_t>(std::stoi(ttl_text))), ":", r[3], ":",
                      r[4].empty() ? "-" : r[4], ":", r[5].empty() ? "-" : r[5], ":", options);
}

// The last occurrence (the innermost header of a tunnelled frame).
std::string Last(const std::string& joined) {
  const size_t comma = joined.rfind(',');
  return comma == std::string::npos ? joined : joined.substr(comma + 1);
}

// Every SYN and SYN-ACK tshark reads whole, keyed to the device the sensor puts it on. Facts about
// a host behind a router are kept only for hosts the sensor tracks for other reasons (tracked
// true), so the internet servers a client connects to do not each become a device.
std::set<FactKey> TsharkSignatures(const std::string& path, const SensorRun& run, int& routed_untracked) {
  const DeviceKeys key(path);
  std::set<std::string> tracked;
  for (const auto& [device, attribute, value] : run.facts) {
    if (attribute != Attribute::kTcpFingerprint && attribute != Attribute::kOsFamily) tracked.insert(device);
  }
  std::set<FactKey> theirs;
  for (const auto& r :
       TsharkAllFields(path,
                       {"eth.src", "ip.src", "ipv6.src", "ip.ttl", "ipv6.hlim", "tcp.flags.ack",
                        "tcp.window_size_value", "tcp.options.mss_val", "tcp.options.wscale.shift", "tcp.option_kind"},
                       "tcp.flags.syn == 1 && tcp.flags.reset == 0 && tcp.flags.fin == 0 && "
                       "!icmp && !icmpv6 && !_ws.malformed && !_ws.expert.severity == error",
                       ',')) {
    const std::string ip = Last(r[1].empty() ? r[2] : r[1]);
    const std::string device = run.Device(key, Last(r[0]), ip);
    if (device == ip && !tracked.count(ip)) {
      ++routed_untracked;
      continue;
    }
    std::vector<std::string> fields = {Last(r[3]), Last(r[4]), r[5], r[6], r[7], r[8], r[9]};
    theirs.insert({device, Attribute::kTcpFingerprint, TsharkSignature(fields)});
  }
  return theirs;
}

TEST(TcpOs, SignaturesMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally tally("tcp syn/syn-ack signature");
  int routed_untracked = 0, ours = 0;
  for (const std::string& path : CapturesWith("tcp", {"http/get.pcap", "mixed/example.pcap", "tls/ecdhe.pcap"})) {
    const SensorRun run = RunSensor(path);  // malformed/ too: tshark's filter drops what it cannot read
    const std::set<FactKey> theirs = TsharkSignatures(path, run, routed_untracked);
    tally.Compare(path, theirs, run.facts);
    // And no signature that tshark does not read from some SYN of the same device.
    for (const FactKey& k : run.facts) {
      if (std::get<1>(k) != Attribute::kTcpFingerprint) continue;
      ++ours;
      EXPECT_TRUE(theirs.count(k)) << path << ": Auscult has " << std::get<0>(k) << " " << std::get<2>(k)
                                   << ", tshark does not";
    }
  }
  std::printf("tcp signatures reported by Auscult: %d, each also read by tshark\n", ours);
  std::printf("tcp signatures of untracked hosts behind routers (not kept, by design): %d\n", routed_untracked);
  EXPECT_GT(tally.expected(), 0);
}

// Hosts that name their OS in an HTTP User-Agent: the family their SYNs give must agree.
TEST(TcpOs, FamilyAgreesWithUserAgents) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  int compared = 0, agreed = 0;
  for (const std::string& path : CapturesWith("http", {"http/get.pcap", "mixed/example.pcap"})) {
    if (path.find("malformed/") != std::string::npos) continue;
    const SensorRun run = RunSensor(path);
    const DeviceKeys key(path);
    std::map<std::string, std::set<std::string>> said;  // device -> OS families its user agents name
    for (const auto& r : ::auscult::testing::TsharkFields(path, {"eth.src", "ip.src", "ipv6.src", "http.user_agent"},
                                                          "http.user_agent")) {
      const std::string& ua = r[3];
      std::string family;
      if (ua.find("Windows") != std::string::npos) {
        family = "Windows";
      } else if (ua.find("Android") != std::string::npos || ua.find("Linux") != std::string::npos ||
                 ua.find("linux") != std::string::npos) {
        family = "Linux";
      } else if (ua.find("Darwin") != std::string::npos || ua.find("darwin") != std::string::npos ||
                 ua.find("Mac OS X") != std::string::npos || ua.find("iPhone") != std::string::npos) {
        family = "Apple";
      }
      if (!family.empty()) said[run.Device(key, r[0], r[1].empty() ? r[2] : r[1])].insert(family);
    }
    for (const auto& [device, families] : said) {
      if (families.size() != 1) continue;  // a host whose user agents disagree proves nothing
      for (const auto& [d, attribute, value] : run.facts) {
        if (d != device || attribute != Attribute::kOsFamily) continue;
        ++compared;
        if (value == *families.begin()) {
          ++agreed;
        } else {
          ADD_FAILURE() << path << ": " << device << " says " << *families.begin() << ", its SYNs " << value;
        }
      }
    }
  }
  std::printf("tcp os family vs user agent: %d of %d devices agree\n", agreed, compared);
  EXPECT_GT(compared, 0);
}

}  // namespace
}  // namespace auscult::sensor
