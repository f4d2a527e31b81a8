// Device identity end to end: sensors on different segments see the same hosts, one on their own
// segment (their MACs), one behind a router (their addresses, in frames from the router's MAC); the
// collector keeps one device per host, whichever sensor reports first, and never gives a host's
// address or facts to the router.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "sensor/parsers/parser_testing.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

using ::auscult::sensor::testing::Host;
using ::auscult::sensor::testing::SyntheticCapture;
using ::auscult::sensor::testing::SyntheticCapturePath;

constexpr int kHosts = 5;  // more than the sensor's router_address_threshold (4) sources from one MAC
const std::array<uint8_t, 6> kRouterMac = {0x00, 0x00, 0x0c, 0x07, 0xac, 0x01};
const std::string kRouterMacText = "00:00:0c:07:ac:01";
const Host kLocalClient = {{0x00, 0x1b, 0x3c, 0x00, 0x00, 0x01}, {10, 20, 0, 2}};
const Host kRoutedClient = {{0x00, 0x1b, 0x3c, 0x00, 0x00, 0x02}, {10, 30, 0, 5}};

Host OnItsSegment(int i) {
  return {{0x00, 0x09, 0xfb, 0x00, 0x00, static_cast<uint8_t>(i)}, {10, 20, 0, static_cast<uint8_t>(10 + i)}};
}
Host BehindTheRouter(int i) { return {kRouterMac, OnItsSegment(i).ip}; }
std::string HostIp(int i) { return absl::StrCat("10.20.0.", 10 + i); }
std::string HostMac(int i) { return absl::StrCat("00:09:fb:00:00:0", i); }

// A client on the segment opens SSH to every host; each host names its software. Seen from another
// segment, the hosts' frames carry the router's MAC.
std::string Capture(bool routed) {
  SyntheticCapture c;
  const Host& client = routed ? kRoutedClient : kLocalClient;
  auto host = [&](int i) { return routed ? BehindTheRouter(i) : OnItsSegment(i); };
  for (int i = 1; i <= kHosts; ++i) c.Udp(host(i), static_cast<uint16_t>(40000 + i), client, 514, "<14>up");
  for (int i = 1; i <= kHosts; ++i) {
    SyntheticCapture::Tcp t(c, client, static_cast<uint16_t>(50000 + i), host(i), 22);
    t.Send(false, absl::StrCat("SSH-2.0-OpenSSH_9.2p1 infusion-", i, "\r\n"));
    t.Close();
  }
  const std::string path = SyntheticCapturePath(routed ? "merge_routed" : "merge_local");
  c.Write(path);
  return path;
}

class TwoSegmentsTest : public CollectorTest, public ::testing::WithParamInterface<bool> {};

TEST_P(TwoSegmentsTest, OneDevicePerHostWithBothSensorsAndNoRouterMacOnAHost) {
  const bool routed_first = GetParam();
  const std::string local = Capture(/*routed=*/false);
  const std::string routed = Capture(/*routed=*/true);
  auto run_local = [&] { return RunSensor({local}, "ward-3-local", {"--local_networks=10.20.0.0/24"}); };
  auto run_routed = [&] { return RunSensor({routed}, "core-routed", {"--local_networks=10.30.0.0/24"}); };
  const CommandResult first = routed_first ? run_routed() : run_local();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  if (routed_first) {
    // The hosts exist, known by their addresses only.
    EXPECT_EQ(db_->Scalar("SELECT count(*) FROM devices WHERE mac IS NULL AND identity_ip << '10.20.0.0/24'"),
              absl::StrCat(kHosts));
  }
  const CommandResult second = routed_first ? run_local() : run_routed();
  ASSERT_EQ(second.exit_code, 0) << second.err;

  std::map<std::string, std::vector<google::protobuf::Value>> devices_of_ip;
  const google::protobuf::Value devices = CliJson({"devices"});
  bool router_seen = false;
  for (const auto& d : devices.list_value().values()) {
    const auto& f = d.struct_value().fields();
    for (const auto& ip : f.at("ips").list_value().values()) devices_of_ip[ip.string_value()].push_back(d);
    for (const auto& mac : f.at("macs").list_value().values()) {
      if (mac.string_value() != kRouterMacText) continue;
      router_seen = true;
      EXPECT_TRUE(f.at("routes_traffic").bool_value());
      for (const auto& ip : f.at("ips").list_value().values()) {
        EXPECT_NE(ip.string_value().rfind("10.20.0.", 0), 0u) << "a host's address on the router";
      }
    }
  }
  EXPECT_TRUE(router_seen);
  for (int i = 1; i <= kHosts; ++i) {
    const auto& holders = devices_of_ip[HostIp(i)];
    ASSERT_EQ(holders.size(), 1u) << HostIp(i);
    const auto& f = holders[0].struct_value().fields();
    ASSERT_EQ(f.at("macs").list_value().values_size(), 1) << HostIp(i);
    EXPECT_EQ(f.at("macs").list_value().values(0).string_value(), HostMac(i));
    std::set<std::string> sensors;
    for (const auto& s : f.at("sensors").list_value().values()) sensors.insert(s.string_value());
    EXPECT_EQ(sensors, (std::set<std::string>{"core-routed", "ward-3-local"})) << HostIp(i);
    // Its software as both sensors saw it, on the host and not on the router.
    const std::string id = absl::StrCat(static_cast<int64_t>(f.at("id").number_value()));
    EXPECT_EQ(db_->Scalar("SELECT string_agg(DISTINCT sensor_id, ',' ORDER BY sensor_id) FROM device_evidence"
                          " WHERE attribute = 'server_software' AND device_id = " +
                          id),
              "core-routed,ward-3-local");
  }
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM device_evidence e JOIN devices d USING (device_id)"
                        " WHERE d.mac = '" +
                        kRouterMacText + "' AND e.attribute = 'server_software'"),
            "0");
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM devices WHERE mac IS NULL"), "0") << "no host left known by address";
  // The graph followed the merges: its edges name only devices that exist, every flow is in one
  // edge, and each host's edges carry both sensors.
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM graph_edges g, unnest(ARRAY[g.src_node, g.dst_node]) n "
                        "WHERE n LIKE 'd:%' AND NOT EXISTS "
                        "(SELECT 1 FROM devices d WHERE d.device_id = substr(n, 3)::bigint)"),
            "0");
  EXPECT_EQ(db_->Scalar("SELECT sum(flows) FROM graph_edges"), db_->Scalar("SELECT count(*) FROM flows"));
  EXPECT_EQ(db_->Scalar("SELECT count(DISTINCT s) FROM graph_edges g, unnest(g.sensors) s"), "2");

  // The order decides only which ids survive: when the routed sensor came first, its devices (the
  // older ids) took the MACs, and the MAC devices' ids lead to them.
  // (The sensors themselves may report a client by address in one window and by MAC in the next:
  // those merge too, and are not counted here.)
  std::string host_ips;
  for (int i = 1; i <= kHosts; ++i) absl::StrAppend(&host_ips, i > 1 ? "," : "", "'", HostIp(i), "'");
  const std::string merges =
      db_->Scalar("SELECT count(*) FROM device_merges WHERE reason = 'ip' AND identifier IN (" + host_ips + ")");
  EXPECT_EQ(merges, routed_first ? absl::StrCat(kHosts) : "0");
  // Every device that took another in was classified and scored again after the merge.
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM device_merges m WHERE NOT EXISTS (SELECT 1 FROM device_risk r"
                        " WHERE r.device_id = m.survivor_id AND r.computed_at >= m.merged_at)"),
            "0")
      << "a merged device was not scored again";
  if (routed_first) {
    const auto rows = db_->Rows("SELECT from_id, survivor_id FROM device_merges WHERE identifier IN (" + host_ips +
                                ") ORDER BY from_id");
    ASSERT_FALSE(rows.empty());
    for (const auto& row : rows) EXPECT_LT(std::stoll(row[1]), std::stoll(row[0])) << "the older id survives";
    const google::protobuf::Value old = CliJson({"device", rows[0][0]});
    const auto& f = old.struct_value().fields();
    EXPECT_EQ(absl::StrCat(static_cast<int64_t>(f.at("id").number_value())), rows[0][1]);
    ASSERT_EQ(f.at("merged_ids").list_value().values_size(), 1);
    EXPECT_EQ(absl::StrCat(static_cast<int64_t>(f.at("merged_ids").list_value().values(0).number_value())), rows[0][0]);
    const CommandResult view = Cli({"device", rows[0][0]});
    EXPECT_NE(view.out.find("turned out to be this one"), std::string::npos) << view.out;
  }

  // Seeing it all again changes nothing.
  const std::string count = db_->Scalar("SELECT count(*) FROM devices");
  ASSERT_EQ(run_routed().exit_code, 0);
  ASSERT_EQ(run_local().exit_code, 0);
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM devices"), count);
}

INSTANTIATE_TEST_SUITE_P(Order, TwoSegmentsTest, ::testing::Bool(), [](const ::testing::TestParamInfo<bool>& order) {
  return order.param ? "RoutedSensorFirst" : "LocalSensorFirst";
});

// ---- hand-made batches over gRPC, for times a capture cannot span ----
constexpr int64_t kT0 = 1700000000;
constexpr int64_t kDay = 86400;

google::protobuf::Timestamp At(int64_t seconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  return t;
}

v1::ObservationBatch Batch(const std::string& sensor_id, uint64_t sequence) {
  v1::ObservationBatch b;
  b.mutable_sensor()->set_sensor_id(sensor_id);
  b.mutable_sensor()->set_site("test-site");
  b.mutable_sensor()->set_wing("test-wing");
  b.mutable_sensor()->set_version("test");
  b.set_epoch(1);
  b.set_sequence(sequence);
  return b;
}

void AddFact(v1::DeviceObservation* d, v1::Attribute attribute, const std::string& value, const std::string& protocol,
             int64_t at) {
  v1::DeviceFact* f = d->add_facts();
  f->set_attribute(attribute);
  f->set_value(value);
  f->mutable_provenance()->set_protocol(protocol);
  f->mutable_provenance()->set_field("test");
  f->set_confidence(0.9f);
  *f->mutable_first_seen() = At(at);
  *f->mutable_last_seen() = At(at);
  f->set_count(1);
}

v1::DeviceObservation* OnSegment(v1::ObservationBatch& b, const std::string& mac, const std::string& ip, int64_t at) {
  v1::DeviceObservation* d = b.add_devices();
  d->set_mac(mac);
  *d->mutable_first_seen() = At(at);
  *d->mutable_last_seen() = At(at + 3600);
  d->set_packets_sent(10);
  if (!ip.empty()) {
    v1::AddressObservation* a = d->add_addresses();
    a->set_ip(ip);
    a->set_source(v1::ADDRESS_SOURCE_DHCP);
    *a->mutable_first_seen() = At(at);
    *a->mutable_last_seen() = At(at + 3600);
    a->set_packets(2);
    a->set_locality(v1::LOCALITY_LOCAL);
  }
  return d;
}

v1::DeviceObservation* Behind(v1::ObservationBatch& b, const std::string& ip, int64_t at) {
  v1::DeviceObservation* d = b.add_devices();
  d->set_ip(ip);
  *d->mutable_first_seen() = At(at);
  *d->mutable_last_seen() = At(at + 600);
  return d;
}

void ExpectApplied(const StreamResult& r, size_t batches) {
  ASSERT_EQ(r.status_code, 0) << r.status_message;
  ASSERT_EQ(r.acks.size(), batches);
  for (const auto& ack : r.acks) EXPECT_EQ(ack.result(), v1::BatchAck::RESULT_APPLIED);
}

class DhcpReassignmentTest : public CollectorTest, public ::testing::WithParamInterface<bool> {};

// 10.20.0.50 belongs to an infusion pump, then (three days later) to a PC. The routed sensor's
// sightings of the address go to whoever held it then, in either order of arrival; both devices
// keep their own interval of the address.
TEST_P(DhcpReassignmentTest, AddressMeansWhoeverHeldItThen) {
  const bool routed_first = GetParam();
  v1::ObservationBatch local1 = Batch("ward-3-local", 1), local2 = Batch("ward-3-local", 2);
  OnSegment(local1, "00:09:fb:00:00:50", "10.20.0.50", kT0);
  OnSegment(local2, "3c:52:82:00:00:50", "10.20.0.50", kT0 + 3 * kDay);
  v1::ObservationBatch routed1 = Batch("core-routed", 1), routed2 = Batch("core-routed", 2);
  AddFact(Behind(routed1, "10.20.0.50", kT0 + 600), v1::ATTRIBUTE_HOSTNAME, "pump-7", "dhcp", kT0 + 600);
  AddFact(Behind(routed2, "10.20.0.50", kT0 + 3 * kDay + 600), v1::ATTRIBUTE_HOSTNAME, "radiology-pc", "dhcp",
          kT0 + 3 * kDay + 600);
  if (routed_first) {
    ExpectApplied(StreamBatches(target(), {routed1, routed2}), 2);
    ExpectApplied(StreamBatches(target(), {local1, local2}), 2);
  } else {
    ExpectApplied(StreamBatches(target(), {local1, local2}), 2);
    ExpectApplied(StreamBatches(target(), {routed1, routed2}), 2);
  }
  EXPECT_EQ(db_->Scalar("SELECT string_agg(d.mac::text || '=' || e.value, ',' ORDER BY d.mac)"
                        " FROM devices d JOIN device_evidence e USING (device_id) WHERE e.attribute = 'hostname'"),
            "00:09:fb:00:00:50=pump-7,3c:52:82:00:00:50=radiology-pc");
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM devices"), "2");
  // The address history: each device holds it for its own time.
  for (const auto& [mac, from] : {std::pair<std::string, int64_t>{"00:09:fb:00:00:50", kT0},
                                  std::pair<std::string, int64_t>{"3c:52:82:00:00:50", kT0 + 3 * kDay}}) {
    const google::protobuf::Value listed = CliJson({"devices", "--mac=" + mac});
    ASSERT_EQ(listed.list_value().values_size(), 1) << mac;
    const std::string id = absl::StrCat(
        static_cast<int64_t>(listed.list_value().values(0).struct_value().fields().at("id").number_value()));
    const google::protobuf::Value detail = CliJson({"device", id});
    absl::Time first = absl::InfiniteFuture(), last = absl::InfinitePast();
    for (const auto& a : detail.struct_value().fields().at("addresses").list_value().values()) {
      const auto& f = a.struct_value().fields();
      if (f.at("ip").string_value() != "10.20.0.50") continue;
      absl::Time t;
      std::string err;
      ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, f.at("first_seen").string_value(), &t, &err)) << err;
      first = std::min(first, t);
      ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, f.at("last_seen").string_value(), &t, &err)) << err;
      last = std::max(last, t);
    }
    EXPECT_EQ(first, absl::FromUnixSeconds(from)) << mac;
    EXPECT_EQ(last, absl::FromUnixSeconds(from + 3600)) << mac;
  }
}

INSTANTIATE_TEST_SUITE_P(Order, DhcpReassignmentTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& order) {
                           return order.param ? "RoutedSensorFirst" : "LocalSensorFirst";
                         });

// Two ports of one monitor announce one serial number over LLDP-MED: one device, the newer id
// leads to the older, and the second MAC's later sightings go straight to it.
TEST_F(CollectorTest, SameSerialOnTwoMacsIsOneDevice) {
  v1::ObservationBatch b1 = Batch("ward-3-local", 1), b2 = Batch("ward-3-local", 2), b3 = Batch("ward-3-local", 3);
  for (auto* d :
       {OnSegment(b1, "00:09:fb:00:00:61", "10.20.0.61", kT0), OnSegment(b2, "00:09:fb:00:00:62", "10.20.0.62", kT0)}) {
    AddFact(d, v1::ATTRIBUTE_SERIAL_NUMBER, "CN61234567", "lldp", kT0);
    AddFact(d, v1::ATTRIBUTE_VENDOR, "Philips", "lldp", kT0);
  }
  OnSegment(b3, "00:09:fb:00:00:62", "10.20.0.62", kT0 + kDay);
  ExpectApplied(StreamBatches(target(), {b1, b2}), 2);
  const auto rows = db_->Rows("SELECT from_id, survivor_id, reason, identifier, from_mac::text FROM device_merges");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][2], "serial");
  EXPECT_EQ(rows[0][3], "philips|CN61234567");
  EXPECT_EQ(rows[0][4], "00:09:fb:00:00:62");
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM devices"), "1");
  ExpectApplied(StreamBatches(target(), {b3}), 1);
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM devices"), "1") << "the merged MAC is not a new device";

  const google::protobuf::Value d = CliJson({"device", rows[0][0]});
  const auto& f = d.struct_value().fields();
  EXPECT_EQ(absl::StrCat(static_cast<int64_t>(f.at("id").number_value())), rows[0][1]);
  std::set<std::string> macs, ips;
  for (const auto& m : f.at("macs").list_value().values()) macs.insert(m.string_value());
  for (const auto& ip : f.at("ips").list_value().values()) ips.insert(ip.string_value());
  EXPECT_EQ(macs, (std::set<std::string>{"00:09:fb:00:00:61", "00:09:fb:00:00:62"}));
  EXPECT_EQ(ips, (std::set<std::string>{"10.20.0.61", "10.20.0.62"}));
  EXPECT_EQ(f.at("last_seen").string_value(), "2023-11-15T23:13:20Z") << "the later sighting counted";
  ASSERT_EQ(f.at("identifiers").list_value().values_size(), 1);
  const google::protobuf::Value by_mac = CliJson({"devices", "--mac=00:09:fb:00:00:62"});
  ASSERT_EQ(by_mac.list_value().values_size(), 1);
  EXPECT_EQ(
      absl::StrCat(static_cast<int64_t>(by_mac.list_value().values(0).struct_value().fields().at("id").number_value())),
      rows[0][1]);
}

// Two MACs a day apart with one DHCP client id (which alone would make them one device, a MAC that
// changed) but different serial numbers: kept apart, and the refusal recorded for the analyst.
TEST_F(CollectorTest, ConflictingIdentifiersAreRecordedNotMerged) {
  v1::ObservationBatch b1 = Batch("lab-local", 1), b2 = Batch("lab-local", 2);
  int n = 0;
  for (auto* d : {OnSegment(b1, "00:0c:29:00:00:31", "10.20.0.31", kT0),
                  OnSegment(b2, "00:0c:29:00:00:32", "10.20.0.32", kT0 + kDay)}) {
    const int64_t at = kT0 + n * kDay;
    AddFact(d, v1::ATTRIBUTE_DHCP_CLIENT_ID, "ff00a1b2c3000100012c7a9f1d009988", "dhcp", at);
    AddFact(d, v1::ATTRIBUTE_SERIAL_NUMBER, absl::StrCat("PX-1000-0", ++n), "poct1a", at);
    AddFact(d, v1::ATTRIBUTE_VENDOR, "Abbott", "poct1a", at);
  }
  ExpectApplied(StreamBatches(target(), {b1, b2}), 2);
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM devices"), "2");
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM device_merges"), "0");
  const auto rows = db_->Rows("SELECT reason, detail FROM device_merge_conflicts");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "dhcp_client_id");
  EXPECT_EQ(rows[0][1], "serial: abbott|PX-1000-01 / abbott|PX-1000-02");
}

// Two sensors apply batches at once that merge the same devices, listed in opposite orders: every
// batch is applied (a deadlock is retried, never lost), and once each has seen the other's (a
// batch applied while the other's was uncommitted cannot know it) every pair is one device.
TEST_F(CollectorTest, ConcurrentMergesFromTwoSensors) {
  constexpr int kPairs = 12, kRounds = 6;
  auto batch = [&](const std::string& sensor, int port, int round) {
    v1::ObservationBatch b = Batch(sensor, static_cast<uint64_t>(round + 1));
    for (int k = 0; k < kPairs; ++k) {
      const int p = port == 0 ? k : kPairs - 1 - k;
      v1::DeviceObservation* d = OnSegment(b, absl::StrFormat("00:09:fb:01:%02x:%02x", p, port), "", kT0 + round * 60);
      AddFact(d, v1::ATTRIBUTE_SERIAL_NUMBER, absl::StrCat("SN-PAIR-", 1000 + p), "poct1a", kT0 + round * 60);
    }
    return b;
  };
  auto batches = [&](const std::string& sensor, int port) {
    std::vector<v1::ObservationBatch> out;
    for (int round = 0; round < kRounds; ++round) out.push_back(batch(sensor, port, round));
    return out;
  };
  StreamResult a, b;
  std::thread ta([&] { a = StreamBatches(target(), batches("sensor-a", 0)); });
  std::thread tb([&] { b = StreamBatches(target(), batches("sensor-b", 1)); });
  ta.join();
  tb.join();
  ExpectApplied(a, kRounds);
  ExpectApplied(b, kRounds);
  ExpectApplied(StreamBatches(target(), {batch("sensor-a", 0, kRounds)}), 1);
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM devices"), absl::StrCat(kPairs));
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM device_merges WHERE reason = 'serial'"), absl::StrCat(kPairs));
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM device_sensors"), absl::StrCat(2 * kPairs)) << "both sensors on each";
}

}  // namespace
}  // namespace auscult::testing
