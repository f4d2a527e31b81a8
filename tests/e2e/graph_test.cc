// `auscult graph`: the communication graph from the flows, checked against the flows themselves
// (every flow in exactly one edge, bytes conserved, the fixture's DICOM edge where it must be) and,
// on a hand-made chain of devices with known answers, neighbourhoods, cuts and departments.
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

using Fields = google::protobuf::Map<std::string, google::protobuf::Value>;

std::set<std::string> NodeIds(const google::protobuf::Value& graph) {
  std::set<std::string> out;
  for (const auto& n : graph.struct_value().fields().at("nodes").list_value().values()) {
    out.insert(n.struct_value().fields().at("id").string_value());
  }
  return out;
}

TEST_F(CollectorTest, GraphOfTheCapturesAgreesWithTheFlows) {
  const auto found = CapturePaths(kGraphCaptures);
  ASSERT_TRUE(found) << "a capture of kGraphCaptures is missing";
  const std::vector<std::string>& captures = *found;
  ASSERT_EQ(RunSensor(captures, "ward").exit_code, 0);
  const google::protobuf::Value graph = CliJson({"graph", "--max_nodes=5000"});
  const Fields& g = graph.struct_value().fields();
  EXPECT_FALSE(g.at("truncated").bool_value());
  const std::set<std::string> nodes = NodeIds(graph);
  double flows = 0, bytes = 0;
  std::set<std::tuple<std::string, std::string, double, std::string, double>> keys;
  const Fields* dicom = nullptr;
  for (const auto& e : g.at("edges").list_value().values()) {
    const Fields& f = e.struct_value().fields();
    EXPECT_TRUE(nodes.count(f.at("source").string_value()) && nodes.count(f.at("target").string_value()));
    flows += f.at("flows").number_value();
    bytes += f.at("bytes_to_dst").number_value() + f.at("bytes_to_src").number_value();
    // One edge per (source, target, transport, port, protocol).
    EXPECT_TRUE(keys.insert({f.at("source").string_value(), f.at("target").string_value(), f.at("port").number_value(),
                             f.at("protocol").string_value(), f.at("transport").string_value() == "tcp" ? 6 : 0})
                    .second);
    if (f.at("protocol").string_value() == "dicom" && f.at("port").number_value() == 104) dicom = &f;
  }
  // Every flow is in exactly one edge, and no byte is lost or counted twice.
  EXPECT_EQ(absl::StrCat(static_cast<int64_t>(flows)), db_->Scalar("SELECT count(*) FROM flows"));
  EXPECT_EQ(absl::StrCat(static_cast<int64_t>(bytes)),
            db_->Scalar("SELECT sum(bytes_to_dst + bytes_to_src) FROM flows"));
  // Device nodes are the devices holding the flows' addresses.
  for (const std::string& n : nodes) {
    if (n.rfind("d:", 0) == 0) {
      EXPECT_EQ(db_->Scalar("SELECT count(*) FROM devices WHERE device_id = " + n.substr(2)), "1");
    }
  }
  // The modality stores images on the archive: one clinical edge with patient data, device to device.
  ASSERT_NE(dicom, nullptr);
  EXPECT_EQ(dicom->at("source").string_value(),
            "d:" + db_->Scalar("SELECT device_id FROM device_own_addresses WHERE ip = '10.99.0.1'"));
  EXPECT_EQ(dicom->at("target").string_value(),
            "d:" + db_->Scalar("SELECT device_id FROM device_own_addresses WHERE ip = '10.99.0.2'"));
  EXPECT_TRUE(dicom->at("clinical").bool_value());
  EXPECT_TRUE(dicom->at("phi").bool_value());
  EXPECT_FALSE(dicom->at("external").bool_value());
  // Wikipedia's servers are one node of outside hosts, reached over external edges.
  EXPECT_TRUE(nodes.count("n:208.80.152.0/24")) << "outside hosts are grouped by /24";
  // The other formats carry the same graph.
  const CommandResult dot = Cli({"graph", "--max_nodes=5000", "--format=dot"});
  ASSERT_EQ(dot.exit_code, 0) << dot.err;
  EXPECT_EQ(static_cast<size_t>(std::count(dot.out.begin(), dot.out.end(), '\n')),
            4 + nodes.size() + g.at("edges").list_value().values_size());
  const CommandResult graphml = Cli({"graph", "--max_nodes=5000", "--format=graphml"});
  ASSERT_EQ(graphml.exit_code, 0) << graphml.err;
  size_t xml_nodes = 0;
  for (size_t at = 0; (at = graphml.out.find("<node id=", at)) != std::string::npos; ++at) ++xml_nodes;
  EXPECT_EQ(xml_nodes, nodes.size());
  EXPECT_EQ(Cli({"graph", "--format=svg"}).exit_code, 2);
  EXPECT_EQ(Cli({"graph", "--device=1", "--hops=9"}).exit_code, 2);
}

// A neighbourhood's nodes are described on a second connection while the first reads their edges
// (NodesAside, when the pool has one free), in the same snapshot: the answer is the one a collector
// with a single connection gives, which describes them itself.
TEST_F(CollectorTest, NeighbourhoodIsTheSameWithItsNodesDescribedAside) {
  const auto found = CapturePaths(kGraphCaptures);
  ASSERT_TRUE(found) << "a capture of kGraphCaptures is missing";
  StartCollector({"--log_level=debug"});
  ASSERT_EQ(RunSensor(*found, "ward").exit_code, 0);
  // The device with the most peers.
  const std::string busiest = db_->Scalar(
      "SELECT substr(n, 3) FROM (SELECT src_node AS n, dst_node AS p FROM graph_edges UNION "
      "SELECT dst_node, src_node FROM graph_edges) x WHERE n LIKE 'd:%' GROUP BY n ORDER BY count(*) DESC, n LIMIT 1");
  const std::vector<std::string> ask = {"graph", "--device=" + busiest, "--hops=2", "--json"};
  const CommandResult aside = Cli(ask);
  ASSERT_EQ(aside.exit_code, 0) << aside.err;
  EXPECT_NE(collector_->Stderr().find("nodes described on a second connection"), std::string::npos);
  StartCollector({"--log_level=debug", "--db_connections=1"});
  const CommandResult alone = Cli(ask);
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  EXPECT_EQ(collector_->Stderr().find("nodes described on a second connection"), std::string::npos);
  EXPECT_EQ(aside.out, alone.out);
  EXPECT_GE(NodeIds(CliJson({"graph", "--device=" + busiest, "--hops=2"})).size(), 3u) << alone.out;
}

// ---- a chain of four devices with known answers ----
google::protobuf::Timestamp At(int64_t seconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  return t;
}

TEST_F(CollectorTest, GraphNeighbourhoodsOnAKnownChain) {
  // A -> B -> C -> D, each a device on its own segment (10.1.0.1-4), one TCP flow per hop.
  v1::ObservationBatch b;
  b.mutable_sensor()->set_sensor_id("chain");
  b.mutable_sensor()->set_site("test-site");
  b.mutable_sensor()->set_wing("test-wing");
  b.set_epoch(1);
  b.set_sequence(1);
  constexpr int64_t kT0 = 1700000000;
  auto mac = [](int i) { return absl::StrCat("02:00:00:00:00:0", i); };
  auto ip = [](int i) { return absl::StrCat("10.1.0.", i); };
  for (int i = 1; i <= 4; ++i) {
    v1::DeviceObservation* d = b.add_devices();
    d->set_mac(mac(i));
    *d->mutable_first_seen() = At(kT0);
    *d->mutable_last_seen() = At(kT0 + 60);
    v1::AddressObservation* a = d->add_addresses();
    a->set_ip(ip(i));
    a->set_source(v1::ADDRESS_SOURCE_ARP);
    *a->mutable_first_seen() = At(kT0);
    *a->mutable_last_seen() = At(kT0 + 60);
    a->set_locality(v1::LOCALITY_LOCAL);
  }
  for (int i = 1; i <= 3; ++i) {
    v1::FlowObservation* f = b.add_flows();
    f->set_flow_id(static_cast<uint64_t>(i));
    f->mutable_initiator()->set_mac(mac(i));
    f->mutable_initiator()->set_ip(ip(i));
    f->mutable_initiator()->set_port(40000);
    f->mutable_responder()->set_mac(mac(i + 1));
    f->mutable_responder()->set_ip(ip(i + 1));
    f->mutable_responder()->set_port(443);
    f->set_transport(6);
    f->set_application("tls");
    f->mutable_to_responder()->set_packets(10);
    f->mutable_to_responder()->set_bytes(1000);
    *f->mutable_first_seen() = At(kT0);
    *f->mutable_last_seen() = At(kT0 + 1);
    f->set_state(v1::FLOW_STATE_CLOSED);
  }
  const StreamResult r = StreamBatches(target(), {b});
  ASSERT_EQ(r.status_code, 0) << r.status_message;
  ASSERT_EQ(r.acks.size(), 1u);
  std::map<int, std::string> node;
  for (int i = 1; i <= 4; ++i) {
    node[i] = "d:" + db_->Scalar(absl::StrCat("SELECT device_id FROM devices WHERE mac = '", mac(i), "'"));
  }
  const std::string a = node[1].substr(2);
  EXPECT_EQ(NodeIds(CliJson({"graph", "--device=" + a, "--hops=1"})), (std::set<std::string>{node[1], node[2]}));
  EXPECT_EQ(NodeIds(CliJson({"graph", "--device=" + a, "--hops=2"})),
            (std::set<std::string>{node[1], node[2], node[3]}));
  EXPECT_EQ(NodeIds(CliJson({"graph", "--device=" + a, "--hops=3"})),
            (std::set<std::string>{node[1], node[2], node[3], node[4]}));
  // From the middle, one hop reaches both sides.
  EXPECT_EQ(NodeIds(CliJson({"graph", "--device=" + node[2].substr(2)})),
            (std::set<std::string>{node[1], node[2], node[3]}));
  // Cut at two nodes: the nearest stay, and the graph says it was cut.
  const google::protobuf::Value cut = CliJson({"graph", "--device=" + a, "--hops=3", "--max_nodes=2"});
  EXPECT_EQ(NodeIds(cut), (std::set<std::string>{node[1], node[2]}));
  EXPECT_TRUE(cut.struct_value().fields().at("truncated").bool_value());
  EXPECT_EQ(cut.struct_value().fields().at("edges").list_value().values_size(), 1);
  // A department (C alone): its devices, their peers, and the edges that touch it.
  const std::string csv = std::filesystem::temp_directory_path() / absl::StrCat("auscult-graph-", getpid(), ".csv");
  std::ofstream(csv) << "site,cidr,department\ntest-site,10.1.0.3/32,Lab\n";
  ASSERT_EQ(Cli({"segments", "import", csv}).exit_code, 0);
  std::filesystem::remove(csv);
  const google::protobuf::Value lab = CliJson({"graph", "--department=LAB"});
  EXPECT_EQ(NodeIds(lab), (std::set<std::string>{node[2], node[3], node[4]}));
  EXPECT_EQ(lab.struct_value().fields().at("edges").list_value().values_size(), 2);
  // An unknown device is NOT_FOUND.
  const CommandResult missing = Cli({"graph", "--device=999999"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no device with id 999999"), std::string::npos) << missing.err;
}

// An edge is what one site's sensors saw (migration 023): the same two devices talking, seen by a
// sensor at each of two sites, are an edge at each site with that site's counts; a site's graph
// shows its own, and the graph of all sites adds them up.
TEST_F(CollectorTest, EachSiteHasItsOwnEdgeAndCounts) {
  constexpr int64_t kT0 = 1700000000;
  auto batch = [&](const std::string& site, uint64_t bytes) {
    v1::ObservationBatch b;
    b.mutable_sensor()->set_sensor_id("sensor-" + site);
    b.mutable_sensor()->set_site(site);
    b.set_epoch(1);
    b.set_sequence(1);
    v1::FlowObservation* f = b.add_flows();
    f->set_flow_id(1);
    f->mutable_initiator()->set_mac("02:00:00:00:00:01");
    f->mutable_initiator()->set_ip("10.1.0.1");
    f->mutable_initiator()->set_port(40000);
    f->mutable_responder()->set_mac("02:00:00:00:00:02");
    f->mutable_responder()->set_ip("10.1.0.2");
    f->mutable_responder()->set_port(443);
    f->set_transport(6);
    f->set_application("tls");
    f->mutable_to_responder()->set_packets(10);
    f->mutable_to_responder()->set_bytes(bytes);
    *f->mutable_first_seen() = At(kT0);
    *f->mutable_last_seen() = At(kT0 + 1);
    f->set_state(v1::FLOW_STATE_CLOSED);
    return b;
  };
  for (const auto& [site, bytes] : {std::pair{"north", 1000}, {"south", 3000}}) {
    const StreamResult r = StreamBatches(target(), {batch(site, bytes)});
    ASSERT_EQ(r.status_code, 0) << r.status_message;
    ASSERT_EQ(r.acks.size(), 1u);
  }
  EXPECT_EQ(db_->Scalar("SELECT string_agg(site || ':' || bytes_to_dst || ':' || array_to_string(sensors, ','), ' '"
                        " ORDER BY site) FROM graph_edges"),
            "north:1000:sensor-north south:3000:sensor-south");
  auto bytes_shown = [&](const std::vector<std::string>& args) {
    const google::protobuf::Value g = CliJson(args);
    const auto& edges = g.struct_value().fields().at("edges").list_value().values();
    if (edges.size() != 1) return -static_cast<double>(edges.size());
    return edges[0].struct_value().fields().at("bytes_to_dst").number_value();
  };
  EXPECT_EQ(bytes_shown({"graph", "--site=north"}), 1000);
  EXPECT_EQ(bytes_shown({"graph", "--site=south"}), 3000);
  EXPECT_EQ(bytes_shown({"graph"}), 4000);
  EXPECT_EQ(bytes_shown({"graph", "--site=elsewhere"}), -0.0);
}

// Clinical flows between departments: the modality's department sends DICOM, HL7 and FHIR to the
// archive's, as many flows and bytes as the flows between their addresses, counted in SQL.
TEST_F(CollectorTest, ClinicalFlowsBetweenDepartments) {
  const auto found = CapturePaths(kGraphCaptures);
  ASSERT_TRUE(found) << "a capture of kGraphCaptures is missing";
  const std::vector<std::string>& captures = *found;
  const std::string csv = std::filesystem::temp_directory_path() / absl::StrCat("auscult-dept-", getpid(), ".csv");
  std::ofstream(csv) << "site,cidr,department\ntest-site,10.99.0.1/32,Radiology\ntest-site,10.99.0.2/32,Imaging IT\n";
  ASSERT_EQ(Cli({"segments", "import", csv}).exit_code, 0);
  std::filesystem::remove(csv);
  ASSERT_EQ(RunSensor(captures, "ward").exit_code, 0);
  const google::protobuf::Value rows = CliJson({"department-flows"});
  std::map<std::string, std::pair<double, double>> by_protocol;  // flows, bytes from Radiology to Imaging IT
  for (const auto& r : rows.list_value().values()) {
    const Fields& f = r.struct_value().fields();
    if (f.at("src_department").string_value() != "Radiology" || f.at("dst_department").string_value() != "Imaging IT") {
      continue;
    }
    by_protocol[f.at("protocol").string_value()] = {f.at("flows").number_value(), f.at("bytes").number_value()};
    EXPECT_EQ(f.at("src_devices").number_value(), 1);
    EXPECT_EQ(f.at("dst_devices").number_value(), 1);
  }
  ASSERT_TRUE(by_protocol.count("dicom") && by_protocol.count("hl7")) << rows.list_value().values_size() << " rows";
  // The DICOM between them carried patient data, in clear.
  for (const auto& r : rows.list_value().values()) {
    const Fields& f = r.struct_value().fields();
    if (f.at("src_department").string_value() == "Radiology" && f.at("protocol").string_value() == "dicom") {
      EXPECT_TRUE(f.at("phi").bool_value());
      EXPECT_TRUE(f.at("cleartext").bool_value());
    }
  }
  for (const auto& [protocol, counts] : by_protocol) {
    const std::string where =
        "clinical AND src_ip = '10.99.0.1' AND dst_ip = '10.99.0.2' AND application = '" + protocol + "'";
    EXPECT_EQ(absl::StrCat(static_cast<int64_t>(counts.first)),
              db_->Scalar("SELECT count(*) FROM flows WHERE " + where))
        << protocol;
    EXPECT_EQ(absl::StrCat(static_cast<int64_t>(counts.second)),
              db_->Scalar("SELECT sum(bytes_to_dst + bytes_to_src) FROM flows WHERE " + where))
        << protocol;
  }
  // Only clinical flows by default: no DNS or web traffic; --all adds them.
  for (const auto& r : rows.list_value().values()) {
    EXPECT_NE(r.struct_value().fields().at("protocol").string_value(), "dns");
  }
  bool dns = false;
  const google::protobuf::Value all = CliJson({"department-flows", "--all"});  // kept: a temporary would dangle
  for (const auto& r : all.list_value().values()) {
    dns |= r.struct_value().fields().at("protocol").string_value() == "dns";
  }
  EXPECT_TRUE(dns);
  const CommandResult table = Cli({"department-flows"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("Radiology"), std::string::npos) << table.out;
}

}  // namespace
}  // namespace auscult::testing
