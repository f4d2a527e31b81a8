// The graph's questions beyond the drawing: paths between devices and new edges on hand-made graphs
// with known answers; the incremental edge table against the flows it adds up (a flow reported
// twice, an address that turns out to be a device's); who uses a service, exposure and top talkers
// on real captures against SQL over the flows computed here; and the Watch stream (a new device
// within the batch window, resuming, sensors going silent).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "auscult/v1/query.grpc.pb.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

constexpr int64_t kT0 = 1700000000;  // packet time of the hand-made graphs
constexpr int64_t kDay = 86400;

google::protobuf::Timestamp At(int64_t seconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  return t;
}

std::string Mac(int i) { return absl::StrFormat("02:00:00:00:01:%02x", i); }
std::string Ip(int i) { return absl::StrCat("10.7.0.", i); }

// Builds batches of devices (one MAC and address each, first seen when given) and TCP flows.
class Graph {
 public:
  explicit Graph(std::string sensor = "graph") { NewBatch(std::move(sensor)); }
  void NewBatch(std::string sensor = "graph") {
    v1::ObservationBatch& b = batches_.emplace_back();
    b.mutable_sensor()->set_sensor_id(sensor);
    b.mutable_sensor()->set_site("test-site");
    b.set_epoch(1);
    b.set_sequence(static_cast<uint64_t>(batches_.size()));
  }
  void Device(int i, int64_t first_seen = kT0) {
    v1::DeviceObservation* d = batches_.back().add_devices();
    d->set_mac(Mac(i));
    *d->mutable_first_seen() = At(first_seen);
    *d->mutable_last_seen() = At(first_seen + 60);
    v1::AddressObservation* a = d->add_addresses();
    a->set_ip(Ip(i));
    a->set_source(v1::ADDRESS_SOURCE_ARP);
    *a->mutable_first_seen() = At(first_seen);
    *a->mutable_last_seen() = At(first_seen + 60);
    a->set_locality(v1::LOCALITY_LOCAL);
  }
  // A flow from i to j (with MACs only when both are devices of this graph: `macs`).
  void Flow(int i, int j, int64_t at = kT0, uint32_t port = 443, uint64_t bytes = 1000, uint64_t id = 0,
            const std::string& app = "tls", bool macs = true) {
    v1::FlowObservation* f = batches_.back().add_flows();
    f->set_flow_id(id > 0 ? id : ++next_flow_);
    if (macs) f->mutable_initiator()->set_mac(Mac(i));
    f->mutable_initiator()->set_ip(Ip(i));
    f->mutable_initiator()->set_port(40000);
    if (macs) f->mutable_responder()->set_mac(Mac(j));
    f->mutable_responder()->set_ip(Ip(j));
    f->mutable_responder()->set_port(port);
    f->set_transport(6);
    f->set_application(app);
    f->mutable_to_responder()->set_packets(10);
    f->mutable_to_responder()->set_bytes(bytes);
    *f->mutable_first_seen() = At(at);
    *f->mutable_last_seen() = At(at + 1);
    f->set_state(v1::FLOW_STATE_CLOSED);
  }
  const std::vector<v1::ObservationBatch>& batches() const { return batches_; }
  std::vector<v1::ObservationBatch> TakeLast() { return {batches_.back()}; }
  v1::ObservationBatch& last() { return batches_.back(); }

 private:
  std::vector<v1::ObservationBatch> batches_;
  uint64_t next_flow_ = 0;
};

class GraphQueryTest : public CollectorTest {
 protected:
  void Send(const std::vector<v1::ObservationBatch>& batches) {
    const StreamResult r = StreamBatches(target(), batches);
    ASSERT_EQ(r.status_code, 0) << r.status_message;
    ASSERT_EQ(r.acks.size(), batches.size());
  }
  std::string Node(int i) {
    return "d:" + db_->Scalar(absl::StrCat("SELECT device_id FROM devices WHERE mac = '", Mac(i), "'"));
  }
  std::string Id(int i) { return Node(i).substr(2); }
  // The node lists of `auscult paths` --json, each joined with '>'.
  std::vector<std::string> PathList(const std::vector<std::string>& args) {
    std::vector<std::string> out;
    const google::protobuf::Value v = CliJson(args);
    for (const auto& p : v.struct_value().fields().at("paths").list_value().values()) {
      std::vector<std::string> nodes;
      for (const auto& n : p.struct_value().fields().at("nodes").list_value().values()) {
        nodes.push_back(n.string_value());
      }
      out.push_back(absl::StrJoin(nodes, ">"));
    }
    return out;
  }
  // The graph's invariant: no edge names a device that is gone.
  void ExpectNoDanglingDevices() {
    EXPECT_EQ(db_->Scalar("SELECT count(*) FROM graph_edges g, unnest(ARRAY[g.src_node, g.dst_node]) n "
                          "WHERE n LIKE 'd:%' AND NOT EXISTS "
                          "(SELECT 1 FROM devices d WHERE d.device_id = substr(n, 3)::bigint)"),
              "0");
  }
};

TEST_F(GraphQueryTest, PathsOnAKnownGraph) {
  // 1->2->3->6, 1->4->3, 4->5->6, and 6->1 back. Directed, 1 reaches 6 in three hops three ways;
  // ignoring direction, 6->1 is one hop.
  Graph g;
  for (int i = 1; i <= 6; ++i) g.Device(i);
  for (auto [a, b] : std::vector<std::pair<int, int>>{{1, 2}, {2, 3}, {3, 6}, {1, 4}, {4, 3}, {4, 5}, {5, 6}, {6, 1}}) {
    g.Flow(a, b);
  }
  g.Flow(1, 2, kT0, 104, 500, 0, "dicom");  // a second service on the first hop
  Send(g.batches());
  auto path = [&](std::vector<int> nodes) {
    std::vector<std::string> ids;
    for (int n : nodes) ids.push_back(Node(n));
    return absl::StrJoin(ids, ">");
  };
  const std::vector<std::string> directed = PathList({"paths", Id(1), Id(6)});
  EXPECT_EQ(std::set<std::string>(directed.begin(), directed.end()),
            (std::set<std::string>{path({1, 2, 3, 6}), path({1, 4, 3, 6}), path({1, 4, 5, 6})}));
  EXPECT_TRUE(PathList({"paths", Id(1), Id(6), "--max_hops=2"}).empty());
  // Fewest hops first, and at most --limit of them.
  EXPECT_EQ(PathList({"paths", Id(1), Id(6), "--undirected", "--limit=1"}), std::vector<std::string>{path({1, 6})});
  const std::vector<std::string> undirected = PathList({"paths", Id(1), Id(6), "--undirected", "--max_hops=3"});
  ASSERT_FALSE(undirected.empty());
  EXPECT_EQ(undirected.front(), path({1, 6}));
  EXPECT_EQ(std::set<std::string>(undirected.begin(), undirected.end()).size(), undirected.size()) << "no repeats";
  // Backwards there is the one hop 6->1 and 6->1->2, 6->1->4 ... to 3: 6>1>2>3 and 6>1>4>3.
  const std::vector<std::string> back = PathList({"paths", Id(6), Id(3)});
  EXPECT_EQ(std::set<std::string>(back.begin(), back.end()),
            (std::set<std::string>{path({6, 1, 2, 3}), path({6, 1, 4, 3})}));
  // Each hop lists every service it may use: the first hop of 1>2>3>6 has tls and dicom.
  const google::protobuf::Value v = CliJson({"paths", Id(1), Id(2)});
  const auto& hops = v.struct_value().fields().at("paths").list_value().values(0).struct_value().fields().at("hops");
  std::set<std::string> services;
  for (const auto& h : hops.list_value().values())
    services.insert(h.struct_value().fields().at("protocol").string_value());
  EXPECT_EQ(services, (std::set<std::string>{"tls", "dicom"}));
  // The table form says how many.
  const CommandResult table = Cli({"paths", Id(1), Id(6)});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("3 paths from device"), std::string::npos) << table.out;
  // Bad usage and unknown devices.
  EXPECT_EQ(Cli({"paths", Id(1), "x"}).exit_code, 2);
  EXPECT_EQ(Cli({"paths", Id(1), Id(6), "--max_hops=7"}).exit_code, 2);
  const CommandResult missing = Cli({"paths", Id(1), "999999"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no device with id 999999"), std::string::npos) << missing.err;
}

TEST_F(GraphQueryTest, EdgesAddUpTheFlowsReportsAndFollowTheirDevices) {
  // Batch 1: device 1 opens a flow to 10.7.0.9, which no device holds yet, and one to device 2
  // that is still going (a live report: 1000 bytes).
  Graph g;
  g.Device(1);
  g.Device(2);
  g.Flow(1, 9, kT0, 80, 300, 100, "http", /*macs=*/false);
  g.Flow(1, 2, kT0, 443, 1000, 200);
  Send(g.TakeLast());
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM graph_edges WHERE dst_node = 'a:10.7.0.9'"), "1");
  // Batch 2: the same flow's end (500 more bytes), and 10.7.0.9 answers ARP: it is device 9.
  g.NewBatch();
  g.Device(9);
  g.Flow(1, 2, kT0, 443, 500, 200);  // a flow's reports carry its first packet's time
  Send(g.TakeLast());
  EXPECT_EQ(db_->Scalar(absl::StrCat("SELECT flows || ' ' || bytes_to_dst FROM graph_edges WHERE src_node = '", Node(1),
                                     "' AND dst_node = '", Node(2), "'")),
            "1 1500")
      << "a flow counts once; its reports add up";
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM graph_edges WHERE src_node LIKE 'a:%' OR dst_node LIKE 'a:%'"), "0")
      << "the address joined the device that holds it";
  EXPECT_EQ(db_->Scalar(
                absl::StrCat("SELECT flows || ' ' || bytes_to_dst FROM graph_edges WHERE dst_node = '", Node(9), "'")),
            "1 300");
  // Every flow is in one edge and the bytes are conserved.
  EXPECT_EQ(db_->Scalar("SELECT sum(flows) FROM graph_edges"), db_->Scalar("SELECT count(*) FROM flows"));
  EXPECT_EQ(db_->Scalar("SELECT sum(bytes_to_dst) FROM graph_edges"),
            db_->Scalar("SELECT sum(bytes_to_dst) FROM flows"));
  ExpectNoDanglingDevices();
}

TEST_F(GraphQueryTest, NewEdgesAfterTheBaselineAreListedAndStreamed) {
  // Devices 1-3 first seen at T0. Within the week of learning: 1->2. Eight days later: 1->3 (new)
  // and 2->4 with device 4 itself new that day (its own baseline: not new).
  Graph g;
  for (int i = 1; i <= 3; ++i) g.Device(i);
  g.Flow(1, 2, kT0 + 3600);
  Send(g.TakeLast());
  auto stub = v1::Query::NewStub(grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::WatchRequest req;
  req.add_kinds("edge_new");
  auto reader = stub->Watch(&ctx, req);
  reader->WaitForInitialMetadata();  // subscribed: the server sends headers at once
  g.NewBatch();
  g.Device(4, kT0 + 8 * kDay);
  g.Flow(1, 3, kT0 + 8 * kDay);
  g.Flow(2, 4, kT0 + 8 * kDay);
  Send(g.TakeLast());
  v1::Event e;
  ASSERT_TRUE(reader->Read(&e));
  EXPECT_EQ(e.kind(), "edge_new");
  EXPECT_EQ(e.detail().at("src"), Node(1));
  EXPECT_EQ(e.detail().at("dst"), Node(3));
  ctx.TryCancel();
  reader->Finish();

  const google::protobuf::Value v = CliJson({"new-edges"});
  const auto& edges = v.struct_value().fields().at("edges").list_value().values();
  ASSERT_EQ(edges.size(), 1);
  EXPECT_EQ(edges[0].struct_value().fields().at("source").string_value(), Node(1));
  EXPECT_EQ(edges[0].struct_value().fields().at("target").string_value(), Node(3));
  // --since after the new edge: none.
  EXPECT_EQ(CliJson({"new-edges", "--since=2030-01-01T00:00:00Z"})
                .struct_value()
                .fields()
                .at("edges")
                .list_value()
                .values_size(),
            0);
  EXPECT_EQ(Cli({"new-edges", "--since=yesterday"}).exit_code, 2);
  // A longer baseline (restart with --learning_period=240h): nothing is new any more.
  StartCollector({"--learning_period=240h"});
  EXPECT_EQ(CliJson({"new-edges"}).struct_value().fields().at("edges").list_value().values_size(), 0);
}

TEST_F(GraphQueryTest, WatchStreamsNewDevicesResumesAndReportsSilentSensors) {
  StartCollector({"--sensor_silent_after=2s"});
  auto stub = v1::Query::NewStub(grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto reader = stub->Watch(&ctx, v1::WatchRequest());
  reader->WaitForInitialMetadata();
  Graph g("ward-7");
  g.Device(1);
  g.Device(2);
  g.Flow(1, 2);
  const absl::Time sent = absl::Now();
  Send(g.TakeLast());
  // Both devices arrive as device_new within the batch window (a sensor's default report is 10 s),
  // each with the device as it reads now; then ward-7 goes silent and is reported down.
  std::set<int64_t> new_devices;
  bool down = false;
  int64_t last_id = 0;
  v1::Event e;
  while ((new_devices.size() < 2 || !down) && reader->Read(&e)) {
    last_id = e.event_id();
    if (e.kind() == "device_new") {
      EXPECT_LT(absl::Now() - sent, absl::Seconds(10));
      EXPECT_TRUE(e.has_device());
      EXPECT_EQ(e.device().id(), absl::StrCat("d:", e.device_id()));
      EXPECT_EQ(e.detail().at("site"), "test-site");
      new_devices.insert(e.device_id());
    }
    if (e.kind() == "sensor_down") {
      EXPECT_EQ(e.sensor_id(), "ward-7");
      down = true;
    }
  }
  ctx.TryCancel();
  reader->Finish();
  EXPECT_EQ(new_devices, (std::set<int64_t>{std::stoll(Id(1)), std::stoll(Id(2))}));
  EXPECT_TRUE(down);
  // The sensor comes back: sensor_up, seen by a subscriber that resumes after the last event.
  g.NewBatch("ward-7");
  g.Flow(2, 1);
  Send(g.TakeLast());
  const CommandResult up =
      Cli({"watch", absl::StrCat("--after=", last_id), "--kinds=sensor_up", "--count=1", "--json"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_NE(up.out.find("\"kind\":\"sensor_up\""), std::string::npos) << up.out;
  EXPECT_NE(up.out.find("\"sensor_id\":\"ward-7\""), std::string::npos) << up.out;
  // From the oldest kept: the two device_new events come first, in order.
  const CommandResult all = Cli({"watch", "--after=-1", "--kinds=device_new", "--count=2", "--json"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const std::vector<std::string> lines = absl::StrSplit(all.out, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 2u);
  // Bad kinds are INVALID_ARGUMENT (exit 2).
  EXPECT_EQ(Cli({"watch", "--kinds=device_gone", "--count=1"}).exit_code, 2);
}

TEST_F(GraphQueryTest, ServicesExposureAndTopTalkersAgreeWithTheFlows) {
  const auto found = CapturePaths(kGraphCaptures);
  ASSERT_TRUE(found) << "a capture of kGraphCaptures is missing";
  const std::vector<std::string>& captures = *found;
  ASSERT_EQ(RunSensor(captures, "ward").exit_code, 0);
  ExpectNoDanglingDevices();

  // Who uses DICOM: every DICOM flow is in a listed pair, and the servers are those the flows name.
  const google::protobuf::Value dicom = CliJson({"services", "--protocol=dicom"});
  std::map<std::string, std::set<std::string>> ips_of;
  for (const auto& n : dicom.struct_value().fields().at("nodes").list_value().values()) {
    for (const auto& ip : n.struct_value().fields().at("ips").list_value().values()) {
      ips_of[n.struct_value().fields().at("id").string_value()].insert(ip.string_value());
    }
  }
  int64_t flows = 0;
  std::set<std::string> servers;
  for (const auto& e : dicom.struct_value().fields().at("edges").list_value().values()) {
    const auto& f = e.struct_value().fields();
    EXPECT_EQ(f.at("protocol").string_value(), "dicom");
    flows += static_cast<int64_t>(f.at("flows").number_value());
    for (const std::string& ip : ips_of[f.at("target").string_value()]) servers.insert(ip);
  }
  EXPECT_EQ(absl::StrCat(flows), db_->Scalar("SELECT count(*) FROM flows WHERE application = 'dicom'"));
  std::set<std::string> expected_servers;
  for (const auto& row : db_->Rows("SELECT DISTINCT host(dst_ip) FROM flows WHERE application = 'dicom'")) {
    expected_servers.insert(row[0]);
  }
  EXPECT_EQ(servers, expected_servers);
  EXPECT_EQ(Cli({"services"}).exit_code, 2) << "a service must be named";

  // Exposure: exactly the devices holding an address that has flows with an address outside the
  // hospital's networks: by default all but the private, shared, link-local, loopback, multicast
  // and broadcast ranges (docs/risk.md), written out here.
  const google::protobuf::Value exposed = CliJson({"exposure"});
  std::set<std::string> got;
  for (const auto& d : exposed.list_value().values()) {
    got.insert(absl::StrCat(static_cast<int64_t>(d.struct_value().fields().at("device_id").number_value())));
  }
  auto inside = [](const std::string& column) {
    return absl::StrCat(column, " <<= ANY ('{10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,169.254.0.0/16,",
                        "127.0.0.0/8,0.0.0.0/8,fc00::/7,fe80::/10,::1/128,::/128,224.0.0.0/4,ff00::/8,",
                        "255.255.255.255/32}'::inet[])");
  };
  std::set<std::string> want;
  for (const auto& row : db_->Rows(absl::StrCat(
           "SELECT DISTINCT a.device_id FROM flows f JOIN device_addresses a ON a.ip IN (f.src_ip, f.dst_ip) "
           "JOIN devices d ON d.device_id = a.device_id "
           "WHERE (a.source <> 'traffic' OR NOT d.routes_traffic) AND d.mac IS NOT NULL AND NOT (",
           inside("f.src_ip"), " AND ", inside("f.dst_ip"), ")"))) {
    want.insert(row[0]);
  }
  EXPECT_FALSE(want.empty()) << "wikipedia.pcap talks to the internet";
  EXPECT_EQ(got, want);

  // Top talkers by bytes: the first one moved what the flows of its addresses add up to.
  const google::protobuf::Value top = CliJson({"top", "--limit=3"});
  const auto& talkers = top.struct_value().fields().at("talkers").list_value().values();
  ASSERT_EQ(talkers.size(), 3);
  double previous = 1e300;
  for (const auto& t : talkers) {
    const auto& f = t.struct_value().fields();
    const double bytes = f.at("bytes_sent").number_value() + f.at("bytes_received").number_value();
    EXPECT_LE(bytes, previous) << "largest first";
    previous = bytes;
  }
  const auto& first = talkers[0].struct_value().fields();
  const std::string node = first.at("node").string_value();
  ASSERT_EQ(node.rfind("d:", 0), 0u) << node;
  EXPECT_EQ(absl::StrCat(static_cast<int64_t>(first.at("bytes_sent").number_value() +
                                              first.at("bytes_received").number_value())),
            db_->Scalar(absl::StrCat("SELECT sum(f.bytes_to_dst + f.bytes_to_src) FROM flows f WHERE EXISTS "
                                     "(SELECT 1 FROM device_own_addresses o WHERE o.device_id = ",
                                     node.substr(2), " AND o.ip IN (f.src_ip, f.dst_ip))")));
  // Over a window of the raw flows (here one that holds them all), the same answer.
  const google::protobuf::Value windowed = CliJson({"top", "--limit=3", "--since=2000-01-01T00:00:00Z"});
  const auto& w = windowed.struct_value().fields().at("talkers").list_value().values();
  ASSERT_EQ(w.size(), 3);
  for (int i = 0; i < 3; ++i) {
    for (const char* key : {"node", "bytes_sent", "bytes_received", "flows", "peers"}) {
      EXPECT_EQ(w[i].struct_value().fields().at(key).DebugString(),
                talkers[i].struct_value().fields().at(key).DebugString())
          << key;
    }
  }
  EXPECT_EQ(Cli({"top", "--by=colour"}).exit_code, 2);
}

TEST_F(GraphQueryTest, EventIdsFollowCommitOrder) {
  // Two writers: the first inserts its event first but commits last. A subscriber that read the
  // second one's id must not find a smaller id appearing afterwards.
  pqxx::connection first(db_->uri()), second(db_->uri());
  pqxx::work a(first), b(second);
  a.exec("INSERT INTO events (kind, detail) VALUES ('device_new', '{\"who\": \"first\"}')");
  b.exec("INSERT INTO events (kind, detail) VALUES ('device_new', '{\"who\": \"second\"}')");
  b.commit();
  const std::string second_id = db_->Scalar("SELECT event_id FROM events WHERE detail ->> 'who' = 'second'");
  ASSERT_FALSE(second_id.empty());
  a.commit();
  const std::string first_id = db_->Scalar("SELECT event_id FROM events WHERE detail ->> 'who' = 'first'");
  EXPECT_GT(std::stoll(first_id), std::stoll(second_id)) << "ids in commit order, not insertion order";
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM events WHERE event_id IS NULL"), "0");
}

TEST_F(GraphQueryTest, FlowHistoryIsKeptInDailyPartitionsAndExpires) {
  // The collector made the partitions of today and the next three days (UTC) when it started.
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                        "WHERE i.inhparent = 'flows'::regclass AND c.relname IN (SELECT 'flows_p' || "
                        "to_char((now() AT TIME ZONE 'UTC')::date + n, 'YYYYMMDD') FROM generate_series(0, 3) n)"),
            "4");
  // A day forty days ago gets a partition of its own, as a collector running then would have made.
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  const int64_t old_day = (now / kDay - 40) * kDay;
  ASSERT_EQ(db_->Scalar(absl::StrCat("SELECT auscult_us(auscult_ts(", old_day, "::bigint * 1000000)) > 0")), "t");
  db_->Scalar(absl::StrCat("CREATE TABLE flows_old_day PARTITION OF flows FOR VALUES FROM (auscult_ts(", old_day,
                           "::bigint * 1000000)) TO (auscult_ts(", old_day + kDay, "::bigint * 1000000)); SELECT 1"));
  db_->Scalar("ALTER TABLE flows_old_day RENAME TO " +
              db_->Scalar(absl::StrCat("SELECT 'flows_p' || to_char(auscult_ts(", old_day,
                                       "::bigint * 1000000) AT TIME ZONE 'UTC', 'YYYYMMDD')")) +
              "; SELECT 1");
  // Three flows: live (today), on that day, and from a capture of 2023 (the default partition),
  // each with patient data.
  Graph g;
  g.Device(1, kT0);
  g.Device(2, kT0);
  g.Flow(1, 2, now - 60, 2575, 100, 1, "hl7");
  g.Flow(1, 2, old_day + 3600, 2575, 200, 2, "hl7");
  g.Flow(1, 2, kT0, 2575, 400, 3, "hl7");
  for (v1::FlowObservation& f : *g.last().mutable_flows()) {
    v1::PhiCount* p = f.add_phi();
    p->set_kind(v1::PHI_KIND_DEMOGRAPHICS);
    p->set_messages(1);
  }
  Send(g.TakeLast());
  const auto where = db_->Rows("SELECT flow_id, tableoid::regclass::text FROM flows ORDER BY flow_id");
  ASSERT_EQ(where.size(), 3u);
  EXPECT_EQ(where[0][1], "flows_p" + absl::FormatTime("%Y%m%d", absl::FromUnixSeconds(now - 60), absl::UTCTimeZone()));
  EXPECT_EQ(where[1][1], "flows_p" + absl::FormatTime("%Y%m%d", absl::FromUnixSeconds(old_day), absl::UTCTimeZone()));
  EXPECT_EQ(where[2][1], "flows_default");
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM flow_phi"), "3");
  // The 2023 capture was stored forty days ago; a collector keeping 30 days removes both old flows
  // (the old day's whole partition) with their patient-data rows, and the graph keeps the totals.
  db_->Scalar("UPDATE flows SET stored_at = now() - interval '40 days' WHERE flow_id = 3; SELECT 1");
  StartCollector({"--flow_retention=720h"});
  for (int i = 0; i < 100 && db_->Scalar("SELECT count(*) FROM flows") != "1"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(db_->Scalar("SELECT string_agg(flow_id::text, ',') FROM flows"), "1");
  EXPECT_EQ(db_->Scalar("SELECT string_agg(flow_id::text, ',') FROM flow_phi"), "1");
  EXPECT_EQ(db_->Scalar(absl::StrCat("SELECT to_regclass('", where[1][1], "') IS NULL")), "t") << "dropped whole";
  EXPECT_EQ(db_->Scalar("SELECT sum(flows) || ' ' || sum(bytes_to_dst) FROM graph_edges"), "3 700");
  EXPECT_EQ(Cli({"connections"}).exit_code, 0);
}

}  // namespace
}  // namespace auscult::testing
