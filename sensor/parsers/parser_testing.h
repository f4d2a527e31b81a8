#ifndef AUSCULT_SENSOR_PARSERS_PARSER_TESTING_H_
#define AUSCULT_SENSOR_PARSERS_PARSER_TESTING_H_

// Test helpers for parsers, beside oracle.h: hand-built captures, parser anomaly counters of a
// whole run, and tshark's JSON output for fields that -T fields cannot pair up.

#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sensor/parsers/oracle.h"
#include "sensor/parsers/registry.h"
#include "sensor/testing.h"
#include "tests/support/test_support.h"

namespace auscult::sensor::testing {

// What a FlowParser reported, for driving one directly (framing, byte-at-a-time delivery).
class RecordingOutput : public ParserOutput {
 public:
  struct Recorded {
    Party party;
    Attribute attribute;
    std::string value;
    std::string field;
    float confidence;
  };
  void SetApplication(std::string_view name) override { application = std::string(name); }
  void AddFact(Party party, const Fact& f) override {
    facts.push_back({party, f.attribute, std::string(f.value), std::string(f.field), f.confidence});
  }
  void AddFactForMac(const MacAddress&, const Fact& f) override { AddFact(Party::kSender, f); }
  void AddFactForAddress(const IpAddress&, const Fact& f) override { AddFact(Party::kSender, f); }
  void BindAddress(const MacAddress&, const IpAddress&, AddressSource) override {}
  void CountAnomaly(std::string_view name) override { ++anomalies[std::string(name)]; }
  void MarkClinical() override { clinical = true; }
  void MarkEncrypted() override { encrypted = true; }
  void MarkCleartextCredentials() override { cleartext_credentials = true; }
  void CountPhi(PhiKind kind) override { ++phi[kind]; }
  void CountMessage(std::string_view name, TimeNs response_time) override {
    ++messages[std::string(name)];
    if (response_time >= 0) response_times[std::string(name)].push_back(response_time);
  }
  // The values of `attribute` about `party`, in order.
  std::vector<std::string> Values(Party party, Attribute attribute) const {
    std::vector<std::string> out;
    for (const Recorded& r : facts) {
      if (r.party == party && r.attribute == attribute) out.push_back(r.value);
    }
    return out;
  }
  std::string application;
  std::vector<Recorded> facts;
  std::map<std::string, uint64_t> anomalies;
  bool clinical = false, encrypted = false, cleartext_credentials = false;
  std::map<PhiKind, uint64_t> phi;
  std::map<std::string, uint64_t> messages;
  std::map<std::string, std::vector<TimeNs>> response_times;
};

using ::auscult::testing::FromTsharkHex;
using ::auscult::testing::JsonFirst;
using ::auscult::testing::JsonLayer;
using ::auscult::testing::TsharkJson;

struct Host {
  std::array<uint8_t, 6> mac;
  std::array<uint8_t, 4> ip;
};

class SyntheticCapture {
 public:
  void Udp(const Host& from, uint16_t sport, const Host& to, uint16_t dport, const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> udp = {Hi(sport), Lo(sport), Hi(dport), Lo(dport)};
    const uint16_t length = static_cast<uint16_t>(8 + payload.size());
    udp.insert(udp.end(), {Hi(length), Lo(length), 0, 0});  // checksum 0: none (IPv4)
    udp.insert(udp.end(), payload.begin(), payload.end());
    Ip(from, to, 17, udp);
  }
  void Udp(const Host& from, uint16_t sport, const Host& to, uint16_t dport, std::string_view payload) {
    Udp(from, sport, to, dport, std::vector<uint8_t>(payload.begin(), payload.end()));
  }

  // A link-layer frame (LLDP, CDP's SNAP frames carry their own headers in `payload`).
  void Ethernet(const std::array<uint8_t, 6>& dst, const Host& from, uint16_t ethertype,
                const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> f(dst.begin(), dst.end());
    f.insert(f.end(), from.mac.begin(), from.mac.end());
    f.insert(f.end(), {Hi(ethertype), Lo(ethertype)});
    f.insert(f.end(), payload.begin(), payload.end());
    frames_.push_back(std::move(f));
  }

  // A TCP connection: the handshake is sent when it is made, then Send() carries data either way.
  class Tcp {
   public:
    Tcp(SyntheticCapture& capture, const Host& client, uint16_t cport, const Host& server, uint16_t sport)
        : capture_(capture), hosts_{client, server}, ports_{cport, sport} {
      Segment(0, kSyn, {});
      ++seq_[0];
      Segment(1, kSyn | kAck, {});
      ++seq_[1];
      Segment(0, kAck, {});
    }
    void Send(bool from_client, std::string_view data) {
      const int side = from_client ? 0 : 1;
      Segment(side, kAck | kPsh, std::vector<uint8_t>(data.begin(), data.end()));
      seq_[side] += static_cast<uint32_t>(data.size());
    }
    void Close() {
      Segment(0, kFin | kAck, {});
      ++seq_[0];
      Segment(1, kFin | kAck, {});
      ++seq_[1];
      Segment(0, kAck, {});
    }

   private:
    static constexpr uint8_t kFin = 0x01, kSyn = 0x02, kPsh = 0x08, kAck = 0x10;
    void Segment(int side, uint8_t flags, const std::vector<uint8_t>& data) {
      const uint16_t sp = ports_[side], dp = ports_[1 - side];
      const uint32_t seq = seq_[side], ack = (flags & kAck) ? seq_[1 - side] : 0;
      std::vector<uint8_t> tcp = {Hi(sp), Lo(sp), Hi(dp), Lo(dp)};
      for (uint32_t v : {seq, ack}) {
        tcp.insert(tcp.end(), {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                               static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)});
      }
      tcp.insert(tcp.end(), {0x50, flags, 0xff, 0xff, 0, 0, 0, 0});  // offset 5 words, window, checksum, urgent
      tcp.insert(tcp.end(), data.begin(), data.end());
      capture_.Ip(hosts_[side], hosts_[1 - side], 6, tcp);
    }
    SyntheticCapture& capture_;
    Host hosts_[2];
    uint16_t ports_[2];
    uint32_t seq_[2] = {1000, 50000};
  };

  // Writes the frames to `path`; fails the test if it cannot.
  void Write(const std::string& path) const {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    ASSERT_TRUE(f) << path;
    // Global header: magic, version 2.4, zone, sigfigs, snaplen, link type 1 (Ethernet); host order
    // little-endian as the magic says.
    std::vector<uint8_t> out;
    auto le32 = [&](uint32_t v) {
      for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
    };
    le32(0xa1b2c3d4);
    out.insert(out.end(), {2, 0, 4, 0});
    le32(0);
    le32(0);
    le32(65535);
    le32(1);
    uint32_t t = 1700000000;
    for (const auto& frame : frames_) {
      le32(t++);
      le32(0);
      le32(static_cast<uint32_t>(frame.size()));
      le32(static_cast<uint32_t>(frame.size()));
      out.insert(out.end(), frame.begin(), frame.end());
    }
    f.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
    ASSERT_TRUE(f.good()) << path;
  }

 private:
  static uint8_t Hi(uint16_t v) { return static_cast<uint8_t>(v >> 8); }
  static uint8_t Lo(uint16_t v) { return static_cast<uint8_t>(v); }

  void Ip(const Host& from, const Host& to, uint8_t protocol, const std::vector<uint8_t>& l4) {
    std::vector<uint8_t> f(to.mac.begin(), to.mac.end());
    f.insert(f.end(), from.mac.begin(), from.mac.end());
    f.insert(f.end(), {0x08, 0x00});
    const uint16_t total = static_cast<uint16_t>(20 + l4.size());
    const uint16_t id = static_cast<uint16_t>(frames_.size() + 1);
    std::vector<uint8_t> ip = {0x45, 0, Hi(total), Lo(total), Hi(id), Lo(id), 0x40, 0, 64, protocol, 0, 0};
    ip.insert(ip.end(), from.ip.begin(), from.ip.end());
    ip.insert(ip.end(), to.ip.begin(), to.ip.end());
    uint32_t sum = 0;
    for (size_t i = 0; i < ip.size(); i += 2) sum += static_cast<uint32_t>(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    const uint16_t checksum = static_cast<uint16_t>(~sum);
    ip[10] = Hi(checksum);
    ip[11] = Lo(checksum);
    f.insert(f.end(), ip.begin(), ip.end());
    f.insert(f.end(), l4.begin(), l4.end());
    frames_.push_back(std::move(f));
  }

  std::vector<std::vector<uint8_t>> frames_;
};

// A path for a test's capture under the test temporary directory.
inline std::string SyntheticCapturePath(const std::string& name) {
  return ::testing::TempDir() + "auscult_" + name + ".pcap";
}

}  // namespace auscult::sensor::testing

#endif  // AUSCULT_SENSOR_PARSERS_PARSER_TESTING_H_
