// Clinical traffic end to end: the captures real HL7, DICOM and FHIR software made (with synthetic
// patients) through the real sensor, a gRPC collector and PostgreSQL. The flows arrive tagged
// (clinical, patient-data kinds, cleartext credentials), and no byte of any synthetic patient
// identifier or credential appears in the observation stream, the database, the CLI's output or
// any log, at the most verbose log level.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

const std::vector<std::string> kClinicalCaptures = {
    "clinical/hl7_mllp.pcap",
    "clinical/hl7_mllp_port.pcap",
    "clinical/dicom_store_worklist.pcap",
    "clinical/dicom_user_identity.pcap",
    "clinical/dicom_reject_abort.pcap",
    "clinical/fhir_http.pcap",
    "medical/hl7.pcap",
};

// The synthetic patient (tests/fixtures/), the user identity's credentials, and the test patient of
// the public HL7 capture.
const std::vector<std::string> kSecrets = {"SYNTH123",  "DOE^JANE",  "DOE^JOHN", "JANE",   "19700101", "1970-01-01",
                                           "SYNTHUSER", "SYNTHPASS", "MOUSE",    "MICKEY", "135769"};

std::vector<std::string> Paths() {
  std::vector<std::string> out;
  for (const std::string& c : kClinicalCaptures) {
    const auto p = CapturePath(c);
    EXPECT_TRUE(p) << c;
    if (p) out.push_back(*p);
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Every secret that occurs in `text`, for the failure message.
std::vector<std::string> SecretsIn(const std::string& text) {
  std::vector<std::string> found;
  for (const std::string& s : kSecrets) {
    if (text.find(s) != std::string::npos) found.push_back(s);
  }
  return found;
}

TEST_F(CollectorTest, ClinicalFlowsArriveTaggedAndNoPatientDataLeaves) {
  const std::vector<std::string> captures = Paths();
  ASSERT_EQ(captures.size(), kClinicalCaptures.size());
  // The test means something only if the captures do carry the secrets.
  std::set<std::string> in_captures;
  for (const std::string& p : captures) {
    for (const std::string& s : SecretsIn(ReadFile(p))) in_captures.insert(s);
  }
  EXPECT_EQ(in_captures.size(), kSecrets.size()) << "present: " << absl::StrJoin(in_captures, ", ");

  StartCollector({"--log_level=debug"});
  const CommandResult sensor = RunSensor(captures, "clinical-wing", {"--log_level=debug"});
  ASSERT_EQ(sensor.exit_code, 0) << sensor.err;
  // The observation stream itself, as the sensor writes it.
  const CommandResult stream = RunCommand({BinaryPath("auscult-sensor"), "--pcap=" + absl::StrJoin(captures, ","),
                                           "--output=jsonl", "--sensor_id=clinical-wing", "--log_level=debug"});
  ASSERT_EQ(stream.exit_code, 0) << stream.err;
  ASSERT_NE(stream.out.find("\"clinical\":true"), std::string::npos) << "no clinical flow in the stream";

  // Tagged in the database.
  // hl7_mllp: three connections; hl7_mllp_port and medical/hl7: one each.
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM flows WHERE clinical AND application = 'hl7'"), "5");
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM flows WHERE cleartext_credentials"), "2");
  EXPECT_EQ(db_->Scalar("SELECT string_agg(DISTINCT kind, ',' ORDER BY kind) FROM flow_phi"),
            "demographics,diagnoses,images,next_of_kin,orders_results,visit,worklist");
  EXPECT_EQ(db_->Scalar("SELECT sum(count) FROM flow_messages WHERE name = 'C-STORE-RQ'"), "5");
  // fhir_http: four connections, one interaction each, answered (a response time each).
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM flows WHERE clinical AND application = 'fhir'"), "4");
  EXPECT_EQ(db_->Scalar("SELECT string_agg(name || '=' || count, ',' ORDER BY name) FROM flow_messages "
                        "WHERE name IN ('GET metadata', 'GET Patient', 'GET Observation', 'POST Patient') "
                        "AND response_time_max_us > 0"),
            "GET Observation=1,GET Patient=1,GET metadata=1,POST Patient=1");
  // One DICOM client, which sent a username with a passcode and a username alone.
  EXPECT_EQ(db_->Scalar("SELECT count(DISTINCT device_id) || ' ' || string_agg(field, ',' ORDER BY field) "
                        "FROM device_evidence WHERE attribute = 'risk' AND value = 'dicom_cleartext_credentials'"),
            "1 user-identity.username,user-identity.username-passcode");

  // The CLI shows the tags.
  const google::protobuf::Value connections = CliJson({"connections", "--clinical"});
  ASSERT_GT(connections.list_value().values_size(), 0);
  int with_phi = 0;
  for (const auto& c : connections.list_value().values()) {
    const auto& f = c.struct_value().fields();
    EXPECT_TRUE(f.at("clinical").bool_value());
    with_phi += f.at("phi").bool_value() && f.at("phi_kinds").list_value().values_size() > 0;
  }
  EXPECT_GT(with_phi, 0);
  const CommandResult table = Cli({"connections", "--phi"});
  EXPECT_EQ(table.exit_code, 0) << table.err;

  // Devices carry their clinical roles: the archive, the worklist server and the HL7 receiver
  // share the address 10.99.0.2 in the fixtures (one namespace), the modality is 10.99.0.1.
  std::set<std::string> roles, titles, applications;
  const google::protobuf::Value all = CliJson({"devices"});
  for (const auto& d : all.list_value().values()) {
    const auto& f = d.struct_value().fields();
    for (const auto& v : f.at("clinical_roles").list_value().values()) roles.insert(v.string_value());
    for (const auto& v : f.at("dicom_ae_titles").list_value().values()) titles.insert(v.string_value());
    for (const auto& v : f.at("hl7_applications").list_value().values()) applications.insert(v.string_value());
  }
  for (const char* role : {"dicom-scu", "dicom-scp", "hl7-sender", "hl7-receiver", "fhir-server", "fhir-client"})
    EXPECT_TRUE(roles.count(role)) << role;
  for (const char* title : {"SYNTHCT01", "SYNTHMR01", "ARCHIVE", "SYNTHWL"}) EXPECT_TRUE(titles.count(title)) << title;
  for (const char* app : {"SYNTHADT", "RECVAPP", "SENDING_APPLICATION"}) EXPECT_TRUE(applications.count(app)) << app;
  // The namespace hosts took part in clinical flows that carried patient data, of these kinds.
  std::map<std::string, std::string> phi_of;
  for (const auto& d : all.list_value().values()) {
    const auto& f = d.struct_value().fields();
    std::string kinds = f.at("clinical").bool_value() ? "clinical:" : "";
    for (const auto& k : f.at("phi_kinds").list_value().values()) kinds += k.string_value() + ",";
    EXPECT_EQ(f.at("handles_phi").bool_value(), f.at("phi_kinds").list_value().values_size() > 0);
    for (const auto& ip : f.at("ips").list_value().values()) phi_of[ip.string_value()] = kinds;
  }
  // The fixtures' HL7 has PID, NK1, PV1, ORC/OBR/OBX and no DG1/AL1; DICOM adds images and worklist.
  EXPECT_EQ(phi_of["10.99.0.2"], "clinical:demographics,images,next_of_kin,orders_results,visit,worklist,");
  // medical/hl7.pcap's ADT: PID, NK1, PV1 and two AL1 (allergies: diagnoses).
  EXPECT_EQ(phi_of["10.0.0.155"], "clinical:demographics,diagnoses,next_of_kin,visit,");

  // Nowhere: the whole database (every table, as text), the stream, the CLI, the logs.
  std::string database;
  for (const auto& row : db_->Rows("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")) {
    database += db_->Scalar(absl::StrCat("SELECT string_agg(t::text, E'\\n') FROM \"", row[0], "\" t")) + "\n";
  }
  ASSERT_NE(database.find("SYNTHCT01"), std::string::npos) << "the database holds no DICOM facts at all";
  std::string devices;
  const google::protobuf::Value listed = CliJson({"devices"});  // kept: values() points into it
  for (const auto& d : listed.list_value().values()) {
    const int64_t id = static_cast<int64_t>(d.struct_value().fields().at("id").number_value());
    devices += Cli({"device", std::to_string(id), "--json"}).out;
  }
  const std::vector<std::pair<std::string, std::string>> places = {
      {"database", database},
      {"observation stream", stream.out},
      {"sensor log", sensor.out + sensor.err + stream.err},
      {"collector log", collector_->Stdout() + collector_->Stderr()},
      {"CLI", Cli({"connections", "--json"}).out + table.out + devices},
  };
  for (const auto& [where, text] : places) {
    EXPECT_FALSE(text.empty()) << where;
    EXPECT_TRUE(SecretsIn(text).empty()) << where << " holds " << absl::StrJoin(SecretsIn(text), ", ");
  }
  std::printf(
      "privacy: %zu secrets in the captures; 0 in the database (%zu bytes), stream (%zu bytes), logs and "
      "CLI output\n",
      in_captures.size(), database.size(), stream.out.size());
}

// What peers on the monitored network choose (HL7 message types, AE titles) cannot grow the
// answers without bound: a connection lists its 64 most frequent message names, a device its first
// 16 AE titles, however many the sensors reported.
TEST_F(CollectorTest, ClinicalListsStayBounded) {
  const auto path = CapturePath("clinical/hl7_mllp_port.pcap");
  ASSERT_TRUE(path);
  std::vector<v1::ObservationBatch> batches = SensorBatches(*path, {});
  ASSERT_FALSE(batches.empty());
  v1::ObservationBatch& b = batches.front();
  ASSERT_GT(b.flows_size(), 0);
  ASSERT_GT(b.devices_size(), 0);
  const v1::FlowObservation model = b.flows(0);
  for (int i = 0; i < 4; ++i) {  // four flows of one connection, 40 names each: 160 names in all
    v1::FlowObservation* f = b.add_flows();
    *f = model;
    f->set_flow_id(1000 + i);
    f->clear_messages();
    for (int n = 0; n < 40; ++n) {
      v1::MessageCount* m = f->add_messages();
      m->set_name("Z" + std::to_string(i) + "^" + std::to_string(n));
      m->set_count(static_cast<uint64_t>(1 + n));
    }
  }
  v1::DeviceObservation& d = *b.mutable_devices(0);
  for (int n = 0; n < 20; ++n) {
    v1::DeviceFact* fact = d.add_facts();
    fact->set_attribute(v1::ATTRIBUTE_DICOM_AE_TITLE);
    fact->set_value("AE" + std::to_string(100 + n));
    fact->mutable_provenance()->set_protocol("dicom");
    fact->mutable_provenance()->set_field("calling-ae");
    fact->set_confidence(0.9f);
    *fact->mutable_first_seen() = d.first_seen();
    *fact->mutable_last_seen() = d.last_seen();
    fact->set_count(1);
  }
  const StreamResult r = StreamBatches(target(), batches);
  ASSERT_EQ(r.status_code, 0) << r.status_message;
  ASSERT_EQ(db_->Scalar("SELECT count(DISTINCT name) >= 160 FROM flow_messages"), "t");
  const google::protobuf::Value connections = CliJson({"connections", "--clinical"});
  ASSERT_EQ(connections.list_value().values_size(), 1);
  const auto& messages = connections.list_value().values(0).struct_value().fields().at("messages").list_value();
  EXPECT_EQ(messages.values_size(), 64);
  // The most frequent first: the names counted 40 times (one per flow) lead.
  EXPECT_EQ(messages.values(0).struct_value().fields().at("count").number_value(), 40);
  const google::protobuf::Value devices = CliJson({"devices"});
  size_t most_titles = 0;
  for (const auto& dev : devices.list_value().values()) {
    most_titles =
        std::max<size_t>(most_titles, dev.struct_value().fields().at("dicom_ae_titles").list_value().values_size());
  }
  EXPECT_EQ(most_titles, 16u);
}

}  // namespace
}  // namespace auscult::testing
