// End to end: capture -> auscult-sensor -> gRPC -> auscult-collector -> PostgreSQL -> query API ->
// auscult CLI, on real captures, checked against tshark and against the database itself.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "auscult/v1/query.grpc.pb.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

std::string Str(const google::protobuf::Value& v, const std::string& key) {
  return v.struct_value().fields().at(key).string_value();
}
double Num(const google::protobuf::Value& v, const std::string& key) {
  return v.struct_value().fields().at(key).number_value();
}
// An RFC 3339 time the CLI printed (its fraction has as many digits as it needs, so text order is
// not time order).
absl::Time Time(const google::protobuf::Value& v, const std::string& key) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, Str(v, key), &t, &error)) << Str(v, key) << ": " << error;
  return t;
}
const google::protobuf::ListValue& List(const google::protobuf::Value& v, const std::string& key) {
  return v.struct_value().fields().at(key).list_value();
}

class Pipeline : public CollectorTest, public ::testing::WithParamInterface<std::string> {};

// Devices are the capture's distinct source MACs; connections cover exactly tshark's IPv4 and IPv6
// conversations, and every IP frame and byte is accounted for.
TEST_P(Pipeline, InventoryAndConnectionsMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  const auto path = CapturePath(GetParam());
  if (!path) GTEST_SKIP() << GetParam() << " is neither in tests/data/captures nor in ../shared/captures";

  const CommandResult sensor = RunSensor({*path}, "e2e-sensor");
  ASSERT_EQ(sensor.exit_code, 0) << sensor.err;
  EXPECT_NE(sensor.err.find("acknowledged"), std::string::npos) << sensor.err;

  // A device is a MAC that sends frames, or one a DHCP message names as its client (it may sit
  // behind a relay); hosts behind routers that parsers learned about are devices without a MAC.
  std::set<std::string> their_macs;
  for (const auto& r : TsharkFields(*path, {"eth.src"}, "eth.src && eth.src.ig == 0 && eth.src != 00:00:00:00:00:00")) {
    their_macs.insert(r[0]);
  }
  for (const auto& r :
       TsharkFields(*path, {"dhcp.hw.mac_addr"}, "dhcp && dhcp.hw.type == 1 && !_ws.malformed && dhcp.option.dhcp")) {
    if (!r[0].empty() && r[0] != "00:00:00:00:00:00") their_macs.insert(r[0]);
  }
  const auto devices = CliJson({"devices"});
  std::set<std::string> our_macs;
  int by_mac = 0;
  for (const auto& d : devices.list_value().values()) {
    for (const auto& m : List(d, "macs").values()) our_macs.insert(m.string_value());
    by_mac += List(d, "macs").values_size() > 0;
    if (List(d, "macs").values_size() == 0) {
      EXPECT_EQ(List(d, "ips").values_size(), 1) << "identified by its address";
    }
    EXPECT_GT(Num(d, "id"), 0);
    EXPECT_FALSE(Str(d, "first_seen").empty());
    EXPECT_EQ(List(d, "sensors").values(0).string_value(), "e2e-sensor");
  }
  EXPECT_EQ(our_macs, their_macs);
  EXPECT_EQ(by_mac, static_cast<int>(their_macs.size()));

  std::set<std::pair<std::string, std::string>> their_pairs;
  for (const char* type : {"ipv4", "ipv6"}) {
    for (const auto& c : TsharkConversations(*path, type)) their_pairs.insert(std::minmax(c.a, c.b));
  }
  uint64_t their_packets = 0, their_bytes = 0;
  for (const auto& r : TsharkFields(*path, {"frame.len"}, "ip || ipv6")) {
    ++their_packets;
    their_bytes += std::stoull(r[0]);
  }
  const auto connections = CliJson({"connections"});
  std::set<std::pair<std::string, std::string>> our_pairs;
  uint64_t packets = 0, bytes = 0;
  for (const auto& c : connections.list_value().values()) {
    our_pairs.insert(std::minmax(Str(c, "src_ip"), Str(c, "dst_ip")));
    packets += static_cast<uint64_t>(Num(c, "packets"));
    bytes += static_cast<uint64_t>(Num(c, "bytes"));
    EXPECT_FALSE(Str(c, "transport").empty());
  }
  EXPECT_EQ(our_pairs, their_pairs);
  EXPECT_EQ(packets, their_packets);
  EXPECT_EQ(bytes, their_bytes);

  // The sensor's health reached the database too.
  EXPECT_EQ(db_->Scalar("SELECT packets_received FROM sensors WHERE sensor_id = 'e2e-sensor'"),
            std::to_string(TsharkFields(*path, {"frame.number"}).size()));
  std::printf(
      "%s: %zu devices by MAC (tshark %zu source MACs and DHCP clients), %d by address, "
      "%zu IP conversations (tshark %zu), %llu packets\n",
      GetParam().c_str(), our_macs.size(), their_macs.size(), devices.list_value().values_size() - by_mac,
      our_pairs.size(), their_pairs.size(), static_cast<unsigned long long>(packets));
}

INSTANTIATE_TEST_SUITE_P(Captures, Pipeline,
                         ::testing::Values("medical/hl7.pcap", "mixed/wikipedia.pcap", "ethernet-vlan/twovlan.pcap",
                                           "dhcp/dhcp.pcap", "arp/cloudshark-arp.pcap", "dns/DnsPackets.pcap",
                                           "http/get.pcap", "mixed/example.pcap", "mixed/http-packets.pcap",
                                           "mixed/1kxun.pcap", "mixed/telegram.pcap", "mixed/android.pcap",
                                           "mdns-dnssd/iphone.pcap", "tls/tls2.pcap"),
                         ::auscult::testing::CaptureTestName());

// Totals that must not change when batches are applied again.
std::string Totals(const TestDatabase& db) {
  return db.Scalar(
      "SELECT concat_ws(' ',"
      " (SELECT count(*) FROM flows), (SELECT sum(packets_to_dst + packets_to_src) FROM flows),"
      " (SELECT sum(bytes_to_dst + bytes_to_src) FROM flows),"
      " (SELECT count(*) FROM devices), (SELECT sum(packets_sent) FROM devices), (SELECT sum(bytes_sent) FROM devices),"
      " (SELECT sum(packets) FROM device_addresses), (SELECT sum(count) FROM device_evidence),"
      " (SELECT sum(packets) FROM device_sensors), (SELECT count(*) FROM device_vlans),"
      " (SELECT count(*) FROM ingested_batches))");
}

// A sensor resending batches (after a reconnect, or a restart with its spool) never doubles a
// counter: each (sensor, epoch, sequence) is applied once and acknowledged as a duplicate after.
// The ids of every device a ListDevices request lists, page after page (at most 100 pages).
std::vector<int64_t> AllPages(v1::Query::Stub& stub, v1::ListDevicesRequest req) {
  std::vector<int64_t> ids;
  for (int pages = 0; pages < 100; ++pages) {
    grpc::ClientContext ctx;
    v1::ListDevicesResponse resp;
    const grpc::Status status = stub.ListDevices(&ctx, req, &resp);
    if (!status.ok()) {
      ADD_FAILURE() << "ListDevices: " << status.error_message();
      return ids;
    }
    for (const auto& d : resp.devices()) ids.push_back(d.id());
    if (resp.next_page_token().empty()) return ids;
    req.set_page_token(resp.next_page_token());
  }
  ADD_FAILURE() << "ListDevices: more than 100 pages";
  return ids;
}

TEST_F(CollectorTest, ResentBatchesAreAppliedOnce) {
  const auto path = CapturePath("mixed/wikipedia.pcap");
  ASSERT_TRUE(path);
  const auto batches = SensorBatches(*path, {"--batch_size=5"});
  ASSERT_GE(batches.size(), 4u);

  const StreamResult first = StreamBatches(target(), batches);
  ASSERT_EQ(first.status_code, 0) << first.status_message;
  ASSERT_EQ(first.acks.size(), batches.size());
  for (size_t i = 0; i < batches.size(); ++i) {
    EXPECT_EQ(first.acks[i].sequence(), batches[i].sequence());
    EXPECT_EQ(first.acks[i].result(), v1::BatchAck::RESULT_APPLIED);
  }
  const std::string after_first = Totals(*db_);

  // Again, newest first, as a reconnecting sensor might after losing track.
  std::vector<v1::ObservationBatch> reversed(batches.rbegin(), batches.rend());
  const StreamResult second = StreamBatches(target(), reversed);
  ASSERT_EQ(second.status_code, 0) << second.status_message;
  ASSERT_EQ(second.acks.size(), batches.size());
  for (const auto& ack : second.acks) EXPECT_EQ(ack.result(), v1::BatchAck::RESULT_DUPLICATE);
  EXPECT_EQ(Totals(*db_), after_first);

  // And half of them once more, in the same stream as a batch that is new: only that one applies.
  std::vector<v1::ObservationBatch> mixed(batches.begin(), batches.begin() + batches.size() / 2);
  v1::ObservationBatch fresh = batches.back();
  fresh.set_sequence(batches.back().sequence() + 1);
  fresh.clear_devices();
  fresh.clear_flows();
  mixed.push_back(fresh);
  const StreamResult third = StreamBatches(target(), mixed);
  ASSERT_EQ(third.status_code, 0) << third.status_message;
  EXPECT_EQ(third.acks.back().result(), v1::BatchAck::RESULT_APPLIED);
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM ingested_batches"), std::to_string(batches.size() + 1));

  // The first pass carried the capture in full: every IP frame is in the flows.
  if (HaveTshark()) {
    const size_t ip_frames = TsharkFields(*path, {"frame.len"}, "ip || ipv6").size();
    EXPECT_EQ(db_->Scalar("SELECT sum(packets_to_dst + packets_to_src) FROM flows"), std::to_string(ip_frames));
  }
  std::printf("resend: %zu batches, totals after first pass [%s], after resending: unchanged\n", batches.size(),
              after_first.c_str());
}

// Strings with quotes, backslashes, braces and non-ASCII survive the array parameters unchanged.
TEST_F(CollectorTest, ArrayParametersCarryAnyText) {
  const auto path = CapturePath("medical/hl7.pcap");
  ASSERT_TRUE(path);
  auto batches = SensorBatches(*path, {});
  ASSERT_FALSE(batches.empty());
  ASSERT_FALSE(batches[0].devices().empty());
  const std::string tricky = "A \"quoted\" \\back\\slash {brace},comma 'apostrophe' caf\xc3\xa9 NULL";
  auto* fact = batches[0].mutable_devices(0)->add_facts();
  fact->set_attribute(v1::ATTRIBUTE_HOSTNAME);
  fact->set_value(tricky);
  fact->mutable_provenance()->set_protocol("test");
  fact->mutable_provenance()->set_field("tricky");
  fact->set_confidence(0.9f);
  *fact->mutable_first_seen() = batches[0].devices(0).first_seen();
  *fact->mutable_last_seen() = batches[0].devices(0).last_seen();
  const StreamResult r = StreamBatches(target(), batches);
  ASSERT_EQ(r.status_code, 0) << r.status_message;
  EXPECT_EQ(db_->Scalar("SELECT value FROM device_evidence WHERE field = 'tricky'"), tricky);
  // The CLI shows it as the device's hostname, intact through JSON.
  bool found = false;
  const auto devices = CliJson({"devices"});
  for (const auto& d : devices.list_value().values()) found |= Str(d, "hostname") == tricky;
  EXPECT_TRUE(found);
}

// The documented source rank of evidence (docs/schema.md, "Displayed values"): a device's word about
// itself in a management or clinical protocol, then what it announces, then traffic, then the OUI.
int SourceRank(const std::string& protocol) {
  static const std::map<std::string, int> kRank = {
      {"lldp", 1},  {"cdp", 1},          {"snmp", 1}, {"poct1a", 1}, {"dicom", 1}, {"hl7", 1},    {"fhir", 1},
      {"smb", 1},   {"ws_discovery", 1}, {"dhcp", 2}, {"dhcpv6", 2}, {"mdns", 2},  {"ssdp", 2},   {"nbns", 2},
      {"llmnr", 2}, {"smb_browser", 2},  {"http", 2}, {"ssh", 2},    {"tls", 2},   {"syslog", 2}, {"ntp", 2},
      {"dns", 2},   {"tcp", 3},          {"mac", 3},  {"oui", 4}};
  const auto it = kRank.find(protocol);
  return it == kRank.end() ? 3 : it->second;
}

// Every fact the sensor reports reaches `auscult device ID --json` as evidence with its provenance,
// and each identity field shows the best-supported value: the most confident evidence, then the best
// source, then the latest, then the most often seen (os falls back to the TCP handshakes' os_family).
TEST_F(CollectorTest, IdentityFactsReachTheCli) {
  const std::vector<std::string> names = {"lldp-cdp/LLDP_and_CDP.pcap", "dhcp/dhcp.pcap", "http/get.pcap",
                                          "tls/ecdhe.pcap", "syslog/tcp-syslog.pcap"};
  std::vector<std::string> paths;
  // (device MAC or address) -> "attribute|value|protocol|field" the sensor reported
  std::map<std::string, std::set<std::string>> reported;
  for (const std::string& name : names) {
    const auto path = CapturePath(name);
    ASSERT_TRUE(path) << name;
    paths.push_back(*path);
    for (const auto& batch : SensorBatches(*path, {})) {
      for (const auto& d : batch.devices()) {
        for (const auto& f : d.facts()) {
          reported[d.mac().empty() ? d.ip() : d.mac()].insert(
              absl::StrCat(absl::AsciiStrToLower(v1::Attribute_Name(f.attribute()).substr(10)), "|", f.value(), "|",
                           f.provenance().protocol(), "|", f.provenance().field()));
        }
      }
    }
  }
  ASSERT_EQ(RunSensor(paths, "identity-sensor").exit_code, 0);

  size_t facts = 0, found = 0, fields_checked = 0;
  std::set<std::string> attributes, shown;
  const auto devices = CliJson({"devices"});  // kept: a loop over a temporary's member would dangle
  for (const auto& d : devices.list_value().values()) {
    const auto detail = CliJson({"device", absl::StrCat(static_cast<int64_t>(Num(d, "id")))});
    std::set<std::string> evidence;
    // attribute -> (confidence, -source rank, last_seen, count, value) of its best evidence
    using Candidate = std::tuple<double, int, absl::Time, double, std::string>;
    std::map<std::string, Candidate> best;
    std::map<std::string, int> ties;  // how many candidates share the best's ranking
    auto consider = [&](const std::string& attribute, const Candidate& c) {
      auto key = [](const Candidate& x) {
        return std::make_tuple(std::get<0>(x), std::get<1>(x), std::get<2>(x), std::get<3>(x));
      };
      if (!best.count(attribute) || key(c) > key(best[attribute])) {
        best[attribute] = c;
        ties[attribute] = 1;
      } else if (key(c) == key(best[attribute])) {
        ++ties[attribute];
      }
    };
    for (const auto& e : List(detail, "evidence").values()) {
      const auto& f = e.struct_value().fields();
      const std::string attribute = Str(e, "attribute");
      evidence.insert(absl::StrCat(attribute, "|", Str(e, "value"), "|", Str(e, "protocol"), "|", Str(e, "field")));
      consider(attribute, Candidate{f.at("confidence").number_value(), -SourceRank(Str(e, "protocol")),
                                    Time(e, "last_seen"), f.at("count").number_value(), Str(e, "value")});
    }
    // A rule's vendor or model competes at its confidence, after evidence of equal confidence.
    for (const auto& c : List(detail, "classification").values()) {
      const std::string key = Str(c, "key");
      if (key != "vendor" && key != "model") continue;
      consider(key, Candidate{c.struct_value().fields().at("confidence").number_value(), -9, absl::InfinitePast(), 0,
                              Str(c, "value")});
    }
    std::set<std::string> keys;
    for (const auto& m : List(detail, "macs").values()) keys.insert(m.string_value());
    if (keys.empty()) {
      for (const auto& ip : List(detail, "ips").values()) keys.insert(ip.string_value());
    }
    for (const std::string& key : keys) {
      shown.insert(key);
      for (const std::string& fact : reported[key]) {
        ++facts;
        attributes.insert(fact.substr(0, fact.find('|')));
        if (evidence.count(fact)) {
          ++found;
        } else {
          ADD_FAILURE() << key << ": the sensor reported " << fact << "; the CLI shows no such evidence";
        }
      }
    }
    // Ties in all of them leave the choice open; compare only clear winners.
    auto clear_best = [&](const std::string& attribute) -> std::optional<std::string> {
      if (!best.count(attribute)) return "";
      if (ties[attribute] > 1) return std::nullopt;
      return std::get<4>(best[attribute]);
    };
    for (const auto& [field, attribute] :
         std::vector<std::pair<std::string, std::string>>{{"hostname", "hostname"},
                                                          {"vendor", "vendor"},
                                                          {"model", "model"},
                                                          {"serial", "serial_number"},
                                                          {"os_version", "os_version"},
                                                          {"software_version", "software_version"}}) {
      if (const auto want = clear_best(attribute)) {
        EXPECT_EQ(Str(detail, field), *want) << field << " of device " << Num(detail, "id");
        fields_checked += !want->empty();
      }
    }
    if (const auto os = clear_best("os"); os && !os->empty()) {
      EXPECT_EQ(Str(detail, "os"), *os);
      ++fields_checked;
    } else if (const auto family = clear_best("os_family"); os && family && !family->empty()) {
      EXPECT_EQ(Str(detail, "os"), *family);
      ++fields_checked;
    }
  }
  EXPECT_EQ(found, facts);
  // Every device the sensor reported facts about is in the inventory.
  for (const auto& [key, its_facts] : reported) {
    EXPECT_TRUE(shown.count(key)) << key << " has " << its_facts.size() << " facts but is not in `auscult devices`";
  }
  EXPECT_GT(facts, 50u);
  EXPECT_GT(fields_checked, 5u);
  // The captures carry names, vendors, models, software, OS families and TLS identities.
  for (const char* a : {"hostname", "model", "system_description", "dhcp_vendor_class", "os_family", "tcp_fingerprint",
                        "tls_certificate"}) {
    EXPECT_TRUE(attributes.count(a)) << a;
  }
  std::printf("identity: %zu of %zu sensor facts shown as evidence, %zu identity fields checked, %zu attributes\n",
              found, facts, fields_checked, attributes.size());
}

// The query API answers from the database: detail, filters and paging agree with SQL.
TEST_F(CollectorTest, QueryApiAgreesWithTheDatabase) {
  const auto wikipedia = CapturePath("mixed/wikipedia.pcap");
  const auto vlans = CapturePath("ethernet-vlan/twovlan.pcap");
  ASSERT_TRUE(wikipedia && vlans);
  ASSERT_EQ(RunSensor({*wikipedia, *vlans}, "query-sensor").exit_code, 0);

  const auto all = CliJson({"devices"});
  const int n = all.list_value().values_size();
  ASSERT_GT(n, 3);
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM devices"), std::to_string(n));

  // Paging through the gRPC API two at a time yields the same devices, in id order by default.
  auto stub = v1::Query::NewStub(grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
  std::vector<int64_t> paged;
  v1::ListDevicesRequest req;
  req.set_page_size(2);
  do {
    grpc::ClientContext ctx;
    v1::ListDevicesResponse resp;
    ASSERT_TRUE(stub->ListDevices(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.total_count(), n);
    EXPECT_LE(resp.devices_size(), 2);
    for (const auto& d : resp.devices()) paged.push_back(d.id());
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  // The CLI lists by risk, highest first (ties by id); paging in that order gives the same list.
  std::vector<int64_t> ids, sorted_ids;
  for (const auto& d : all.list_value().values()) ids.push_back(static_cast<int64_t>(Num(d, "id")));
  sorted_ids = ids;
  std::sort(sorted_ids.begin(), sorted_ids.end());
  EXPECT_EQ(paged, sorted_ids);
  req.clear_page_token();
  req.set_order(v1::ListDevicesRequest::ORDER_RISK);
  const std::vector<int64_t> paged_by_risk = AllPages(*stub, req);
  EXPECT_EQ(paged_by_risk, ids);
  // ... which is the database's order: score (0 until scored) highest first, ties by id.
  std::vector<int64_t> by_risk_in_db;
  for (const auto& r : db_->Rows("SELECT d.device_id FROM devices d LEFT JOIN device_risk r USING (device_id)"
                                 " ORDER BY COALESCE(r.score, 0) DESC, d.device_id")) {
    by_risk_in_db.push_back(std::stoll(r[0]));
  }
  EXPECT_EQ(paged_by_risk, by_risk_in_db);

  // Vendor filter: case-insensitive substring of the displayed vendor.
  std::string vendor;
  for (const auto& d : all.list_value().values()) {
    if (!Str(d, "vendor").empty()) vendor = Str(d, "vendor");
  }
  ASSERT_FALSE(vendor.empty());
  const std::string needle = absl::AsciiStrToLower(vendor.substr(0, 4));
  int expected = 0;
  for (const auto& d : all.list_value().values()) {
    expected += absl::AsciiStrToLower(Str(d, "vendor")).find(needle) != std::string::npos;
  }
  EXPECT_EQ(CliJson({"devices", "--vendor=" + needle}).list_value().values_size(), expected);

  // VLAN filter: the devices seen on VLAN N per the database.
  const std::string vlan = db_->Scalar("SELECT min(vlan) FROM device_vlans WHERE vlan > 0");
  ASSERT_FALSE(vlan.empty());
  EXPECT_EQ(std::to_string(CliJson({"devices", "--vlan=" + vlan}).list_value().values_size()),
            db_->Scalar("SELECT count(DISTINCT device_id) FROM device_vlans WHERE vlan = " + vlan));

  // IP filter and device detail.
  const auto row = db_->Rows(
      "SELECT a.device_id, host(a.ip) FROM device_addresses a JOIN devices d USING (device_id)"
      " WHERE NOT d.routes_traffic ORDER BY 1, 2 LIMIT 1");
  ASSERT_EQ(row.size(), 1u);
  const auto by_ip = CliJson({"devices", "--ip=" + row[0][1]});
  ASSERT_EQ(by_ip.list_value().values_size(), 1);
  EXPECT_EQ(std::to_string(static_cast<int64_t>(Num(by_ip.list_value().values(0), "id"))), row[0][0]);
  const auto detail = CliJson({"device", row[0][0]});
  EXPECT_EQ(std::to_string(List(detail, "addresses").values_size()),
            db_->Scalar("SELECT count(*) FROM device_addresses WHERE device_id = " + row[0][0]));
  EXPECT_EQ(std::to_string(List(detail, "evidence").values_size()),
            db_->Scalar("SELECT count(*) FROM device_evidence WHERE device_id = " + row[0][0]));

  // A router's forwarded traffic is kept as evidence, marked as behind it, and is not its own.
  const std::string router = db_->Scalar("SELECT min(device_id) FROM devices WHERE routes_traffic");
  ASSERT_FALSE(router.empty()) << "wikipedia.pcap has a gateway";
  const auto router_detail = CliJson({"device", router});
  int behind = 0;
  std::set<std::string> own;
  for (const auto& ip : List(router_detail, "ips").values()) own.insert(ip.string_value());
  for (const auto& a : List(router_detail, "addresses").values()) {
    if (Str(a, "locality") == "routed") {
      ++behind;
      EXPECT_FALSE(own.count(Str(a, "ip"))) << Str(a, "ip");
    }
  }
  EXPECT_GT(behind, 0);
  EXPECT_FALSE(own.empty()) << "its own address comes from ARP";

  // Connections of that device: each one starts or ends at it.
  const auto conns = CliJson({"connections", "--device=" + row[0][0]});
  ASSERT_GT(conns.list_value().values_size(), 0);
  for (const auto& c : conns.list_value().values()) {
    const auto& f = c.struct_value().fields();
    const bool src = f.at("src_device").has_number_value() &&
                     std::to_string(static_cast<int64_t>(f.at("src_device").number_value())) == row[0][0];
    const bool dst = f.at("dst_device").has_number_value() &&
                     std::to_string(static_cast<int64_t>(f.at("dst_device").number_value())) == row[0][0];
    EXPECT_TRUE(src || dst) << Str(c, "src_ip") << " -> " << Str(c, "dst_ip");
  }
  // Port and transport filters agree with SQL over the flows.
  EXPECT_EQ(std::to_string(CliJson({"connections", "--transport=udp", "--port=53"}).list_value().values_size()),
            db_->Scalar("SELECT count(*) FROM connections WHERE transport = 17 AND dst_port = 53"));

  // Errors are status codes with a message naming the problem.
  grpc::ClientContext ctx1;
  v1::Device d;
  v1::GetDeviceRequest missing;
  missing.set_id(987654321);
  const grpc::Status not_found = stub->GetDevice(&ctx1, missing, &d);
  EXPECT_EQ(not_found.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(not_found.error_message().find("987654321"), std::string::npos);
  grpc::ClientContext ctx2;
  v1::ListDevicesRequest bad;
  bad.set_ip("10.0.0.999");
  v1::ListDevicesResponse resp;
  const grpc::Status invalid = stub->ListDevices(&ctx2, bad, &resp);
  EXPECT_EQ(invalid.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(invalid.error_message().find("ip"), std::string::npos);

  // The table view: a header and a count line.
  const CommandResult table = Cli({"devices"});
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("MAC"), std::string::npos);
  EXPECT_NE(table.out.find(absl::StrCat(n, " of ", n, " devices")), std::string::npos) << table.out;
}

// A filter that keeps more than 2 000 devices pages by risk through the score index (the scored
// devices, then those not scored yet); one that keeps fewer sorts them in one statement
// (collector/store/queries.cc). Both give the database's order, page after page.
TEST_F(CollectorTest, RiskOrderOfManyDevicesIsTheDatabases) {
  // 2 600 devices at two sites (2 080 and 520); two in three scored, with many ties, at 0 too.
  db_->Scalar(
      "INSERT INTO devices (mac, site, first_seen, last_seen)"
      " SELECT ('02:00:00:00:' || lpad(to_hex(i / 256), 2, '0') || ':' || lpad(to_hex(i % 256), 2, '0'))::macaddr,"
      " CASE WHEN i % 5 = 0 THEN 'small-site' ELSE 'large-site' END, now(), now()"
      " FROM generate_series(1, 2600) i");
  db_->Scalar(
      "INSERT INTO device_risk (device_id, score) SELECT device_id, (device_id * 37) % 101 FROM devices"
      " WHERE device_id % 3 <> 0");
  auto stub = v1::Query::NewStub(grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
  for (const std::string site : {"", "large-site", "small-site"}) {
    v1::ListDevicesRequest req;
    req.set_site(site);
    req.set_order(v1::ListDevicesRequest::ORDER_RISK);
    req.set_page_size(700);
    const std::vector<int64_t> paged = AllPages(*stub, req);
    std::vector<int64_t> expected;
    for (const auto& r : db_->Rows("SELECT d.device_id FROM devices d LEFT JOIN device_risk r USING (device_id)"
                                   " WHERE '" + site + "' = '' OR d.site = '" + site +
                                   "' ORDER BY COALESCE(r.score, 0) DESC, d.device_id")) {
      expected.push_back(std::stoll(r[0]));
    }
    EXPECT_EQ(expected.size(), site.empty() ? 2600u : site == "large-site" ? 2080u : 520u) << site;
    EXPECT_EQ(paged, expected) << site;
  }
}

}  // namespace
}  // namespace auscult::testing
