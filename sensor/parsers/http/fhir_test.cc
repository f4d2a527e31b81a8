// FHIR over HTTP: resource types and roles against tshark on the clinical capture (curl against a
// FHIR-like server, SYNTHETIC patient), the interactions counted with the response times tshark's
// frame times give; request targets, roles, pipelining, patient-data kinds on hand-built exchanges.
#include "sensor/parsers/http/fhir.h"

#include <gtest/gtest.h>

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sensor/parsers/http/http_parser.h"
#include "sensor/parsers/parser_testing.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::DeviceKeys;
using ::auscult::sensor::testing::EngineRun;
using ::auscult::sensor::testing::FactKey;
using ::auscult::sensor::testing::FactsOf;
using ::auscult::sensor::testing::OracleTally;
using ::auscult::sensor::testing::RecordingOutput;
using ::auscult::sensor::testing::RunEngine;
using ::auscult::testing::CapturePath;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::TsharkFields;

constexpr const char* kCapture = "clinical/fhir_http.pcap";
// The capture's FHIR base (tests/data/captures/MANIFEST.md) and its synthetic patient.
constexpr std::string_view kBase = "/fhir/";
constexpr const char* kPatientData[] = {"SYNTH123", "SYNTH124", "DOE", "JANE", "JOHN", "1970"};

// The resource type a URI asks for, read by this test alone: the segment after the base, before
// any id or query; "metadata" is the CapabilityStatement.
std::string TypeOfUri(std::string_view uri) {
  uri = uri.substr(0, uri.find('?'));
  if (!uri.starts_with(kBase)) return "";
  uri.remove_prefix(kBase.size());
  const std::string_view type = uri.substr(0, uri.find('/'));
  return type == "metadata" ? "CapabilityStatement" : std::string(type);
}

// The type of each request tshark reads, on the server (the request's receiver); the roles of both ends.
TEST(Fhir, ResourceTypesAndRolesMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  const auto path = CapturePath(kCapture);
  ASSERT_TRUE(path);
  OracleTally tally("fhir");
  const DeviceKeys key(*path);
  std::set<FactKey> theirs;
  int requests = 0;
  for (const auto& r :
       TsharkFields(*path, {"eth.src", "ip.src", "eth.dst", "ip.dst", "http.request.uri"}, "http.request")) {
    ++requests;
    const std::string client = key(r[0], r[1]), server = key(r[2], r[3]);
    const std::string type = TypeOfUri(r[4]);
    ASSERT_FALSE(type.empty()) << r[4];
    theirs.insert({server, Attribute::kFhirResource, type});
    theirs.insert({server, Attribute::kClinicalRole, "fhir-server"});
    theirs.insert({client, Attribute::kClinicalRole, "fhir-client"});
  }
  const std::set<FactKey> ours = FactsOf(*path);
  tally.Compare(*path, theirs, ours);
  EXPECT_EQ(requests, 4);
  EXPECT_EQ(tally.expected(), 5) << "CapabilityStatement, Patient, Observation and the two roles";
  // Nothing more: every resource type the sensor reports is one tshark's URIs name.
  for (const FactKey& f : ours) {
    if (std::get<1>(f) == Attribute::kFhirResource) {
      EXPECT_TRUE(theirs.count(f)) << std::get<2>(f);
    }
  }
}

// Never a patient's id, name or birth date in a fact.
TEST(Fhir, NoPatientDataInFacts) {
  const auto path = CapturePath(kCapture);
  ASSERT_TRUE(path);
  const std::set<FactKey> facts = FactsOf(*path);
  EXPECT_FALSE(facts.empty());
  for (const FactKey& f : facts) {
    for (const char* phi : kPatientData) EXPECT_FALSE(absl::StrContains(std::get<2>(f), phi)) << std::get<2>(f);
  }
}

// Each connection's interaction is counted with its response time: from the request's frame to
// the first frame of the response (tshark's frame times), and the kinds of patient data moved.
TEST(Fhir, FlowsCountInteractionsWithResponseTimes) {
  const auto path = CapturePath(kCapture);
  ASSERT_TRUE(path);
  EngineOptions options;
  options.flows.parsers = Parsers();
  EngineRun run;
  RunEngine(*path, options, nullptr, run);
  std::map<uint16_t, const FlowRecord*> by_client_port;
  for (const FlowRecord& f : run.sink.flows) {
    if (f.application == "fhir") by_client_port[f.initiator.port] = &f;
  }
  ASSERT_EQ(by_client_port.size(), 4u);
  for (const auto& [port, flow] : by_client_port) {
    EXPECT_TRUE(flow->clinical);
    EXPECT_FALSE(flow->encrypted);
    ASSERT_EQ(flow->messages.size(), 1u);
    EXPECT_EQ(flow->messages[0].count, 1u);
    for (const char* phi : kPatientData) EXPECT_FALSE(absl::StrContains(flow->messages[0].name, phi));
  }
  auto phi = [](const FlowRecord* f, PhiKind kind) { return f->phi[static_cast<int>(kind) - 1]; };
  auto phi_total = [](const FlowRecord* f) {
    uint32_t n = 0;
    for (uint32_t k : f->phi) n += k;
    return n;
  };
  const std::map<std::string, std::pair<PhiKind, uint32_t>> expected_phi = {
      {"GET metadata", {PhiKind::kDemographics, 0}},
      {"GET Patient", {PhiKind::kDemographics, 1}},  // a read: the Patient in the response
      {"GET Observation", {PhiKind::kOrdersResults, 1}},
      {"POST Patient", {PhiKind::kDemographics, 1}},
  };
  std::set<std::string> names;
  for (const auto& [port, flow] : by_client_port) {
    const std::string& name = flow->messages[0].name;
    names.insert(name);
    ASSERT_TRUE(expected_phi.count(name)) << name;
    const auto [kind, count] = expected_phi.at(name);
    EXPECT_EQ(phi(flow, kind), count) << name;
    EXPECT_EQ(phi_total(flow), count) << name;
  }
  EXPECT_EQ(names.size(), 4u);
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  // Request and first response frame per connection, by the client's port.
  std::map<uint16_t, std::pair<double, double>> times;  // request, first response bytes
  for (const auto& r :
       TsharkFields(*path, {"tcp.srcport", "tcp.dstport", "frame.time_epoch", "http.request"}, "tcp.len > 0")) {
    uint32_t sport = 0, dport = 0;
    double t = 0;
    ASSERT_TRUE(absl::SimpleAtoi(r[0], &sport) && absl::SimpleAtoi(r[1], &dport) && absl::SimpleAtod(r[2], &t));
    if (dport == 8080 && !r[3].empty()) times[static_cast<uint16_t>(sport)].first = t;
    if (sport == 8080 && times[static_cast<uint16_t>(dport)].second == 0) {
      times[static_cast<uint16_t>(dport)].second = t;
    }
  }
  ASSERT_EQ(times.size(), 4u);
  for (const auto& [port, t] : times) {
    ASSERT_TRUE(by_client_port.count(port)) << port;
    const MessageCountRecord& m = by_client_port[port]->messages[0];
    const auto expected_us = static_cast<uint64_t>((t.second - t.first) * 1e6 + 0.5);
    EXPECT_NEAR(static_cast<double>(m.response_time_sum_us), static_cast<double>(expected_us), 1.0) << m.name;
    EXPECT_EQ(m.response_time_max_us, m.response_time_sum_us);
  }
}

TEST(Fhir, ResourceTypeList) {
  EXPECT_EQ(http::fhir::ResourceType("Patient"), "Patient");
  EXPECT_EQ(http::fhir::ResourceType("VisionPrescription"), "VisionPrescription");
  EXPECT_EQ(http::fhir::ResourceType("Account"), "Account");
  EXPECT_EQ(http::fhir::ResourceType("patient"), "");  // types are case-sensitive
  EXPECT_EQ(http::fhir::ResourceType("Patients"), "");
  EXPECT_EQ(http::fhir::ResourceType("DeviceComponent"), "");  // STU3, gone in R4
  EXPECT_EQ(http::fhir::ResourceType(""), "");
  // The result is the list's own text, never the caller's.
  const std::string segment = "Observation";
  EXPECT_NE(http::fhir::ResourceType(segment).data(), segment.data());
}

TEST(Fhir, Targets) {
  struct Case {
    std::string target;
    bool fhir;
    const char* resource;
    bool metadata;
    bool names_patient;
  };
  for (const Case& c : std::vector<Case>{
           {"/fhir/Patient/123", true, "Patient", false, false},
           {"/baseR4/Observation?patient=SYNTH123&code=8867-4", true, "Observation", false, true},
           {"/Patient/_search", true, "Patient", false, false},
           {"/metadata", true, "CapabilityStatement", true, false},
           {"/fhir/metadata?_format=json", true, "CapabilityStatement", true, false},
           {"/api/FHIR/R4/Encounter?subject:Patient=1", true, "Encounter", false, true},
           {"/fhir/Patient?name:exact=DOE", true, "Patient", false, true},
           {"/fhir/Patient?family=DOE&birthdate=1970-01-01", true, "Patient", false, true},
           {"/fhir/Observation?patient.identifier=urn:oid:1|SYNTH123", true, "Observation", false, true},
           {"/fhir/Observation?code=8867-4&_count=10", true, "Observation", false, false},
           {"/fhir/Patient/SYNTH123/_history/2", true, "Patient", false, false},
           {"/fhir/Patient/SYNTH123/_history", true, "Patient", false, false},
           {"/fhir/Patient/$match", true, "Patient", false, false},
           {"/fhir/Patient/SYNTH123/$everything", true, "Patient", false, false},
           {"/fhir/Patient/SYNTH123/Observation", true, "Observation", false, true},  // the patient's compartment
           {"/fhir/Encounter/7/Observation", true, "Observation", false, false},
           {"/fhir/Observation/_history", true, "Observation", false, false},
           {"http://fhir.example:8080/fhir/Device/pump-7", true, "Device", false, false},
           {"/fhir/Device/pump-7#frag", true, "Device", false, false},
           {"/Group/admins/fhir/Patient", true, "Patient", false, false},  // a base may hold a type's name
           {"/", false, "", false, false},
           {"*", false, "", false, false},
           {"", false, "", false, false},
           {"/index.html", false, "", false, false},
           {"/fhir/patient/123", false, "", false, false},
           {"/fhir/Foo/123", false, "", false, false},
           {"/fhir/Patient/1/2/3/4", false, "", false, false},
           {"/fhir/Patient/a_b", false, "", false, false},  // not an id
           {"/fhir/Patient/" + std::string(65, 'a'), false, "", false, false},
           {"/metadata/instance", false, "", false, false},
           {"fhir/Patient", false, "", false, false},
       }) {
    http::fhir::Interaction i;
    EXPECT_EQ(http::fhir::ParseTarget(c.target, i), c.fhir) << c.target;
    EXPECT_EQ(i.resource, c.resource) << c.target;
    EXPECT_EQ(i.metadata, c.metadata) << c.target;
    EXPECT_EQ(i.names_patient, c.names_patient) << c.target;
  }
  // More segments than are read are not FHIR.
  std::string deep;
  for (int i = 0; i < 20; ++i) deep += "/base";
  http::fhir::Interaction i;
  EXPECT_FALSE(http::fhir::ParseTarget(deep + "/Patient", i));
}

TEST(Fhir, MediaTypes) {
  for (const char* yes :
       {"application/fhir+json", "application/fhir+xml; charset=utf-8", "Application/FHIR+JSON",
        "application/json+fhir", "application/xml+fhir;q=0.9", "text/html, application/fhir+json;q=0.9, */*"}) {
    EXPECT_TRUE(http::fhir::IsFhirMediaType(yes)) << yes;
  }
  for (const char* no : {"", "application/json", "text/html", "*/*", "application/fhir", "application/fhir+jsonx"}) {
    EXPECT_FALSE(http::fhir::IsFhirMediaType(no)) << no;
  }
}

TEST(Fhir, PatientDataKinds) {
  using http::fhir::PhiOf;
  EXPECT_EQ(PhiOf("Patient"), PhiKind::kDemographics);
  EXPECT_EQ(PhiOf("RelatedPerson"), PhiKind::kDemographics);
  EXPECT_EQ(PhiOf("Encounter"), PhiKind::kVisit);
  EXPECT_EQ(PhiOf("ExplanationOfBenefit"), PhiKind::kInsurance);
  EXPECT_EQ(PhiOf("AllergyIntolerance"), PhiKind::kDiagnoses);
  EXPECT_EQ(PhiOf("ImagingStudy"), PhiKind::kOrdersResults);
  for (const char* none : {"CapabilityStatement", "Device", "Organization", "ValueSet", "Bundle", ""}) {
    EXPECT_FALSE(PhiOf(none)) << none;
  }
  // Every type with patient data is a type.
  for (const char* t : {"Patient", "Coverage", "Claim", "Specimen", "ServiceRequest", "MedicationAdministration"}) {
    EXPECT_FALSE(http::fhir::ResourceType(t).empty()) << t;
    EXPECT_TRUE(PhiOf(t)) << t;
  }
}

// ---- the HTTP parser on hand-built exchanges ----

std::span<const uint8_t> Bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

std::string Response(int status, const std::string& type, const std::string& body) {
  std::string r = absl::StrCat("HTTP/1.1 ", status, " X\r\nServer: SynthFHIR/1.0\r\n");
  if (!type.empty()) absl::StrAppend(&r, "Content-Type: ", type, "\r\n");
  absl::StrAppend(&r, "Content-Length: ", body.size(), "\r\n\r\n", body);
  return r;
}

const std::string kPatient = R"({"resourceType":"Patient","id":"SYNTH123","name":[{"family":"DOE"}]})";
const std::string kBundle = R"({"resourceType":"Bundle","type":"searchset","entry":[]})";

std::unique_ptr<FlowParser> NewParser() {
  FlowContext flow;
  flow.transport = kIpProtoTcp;
  flow.responder.port = 8080;
  return http::Factory()->Create(flow);
}

void ExpectNoPatientData(const RecordingOutput& out) {
  for (const auto& f : out.facts) {
    for (const char* phi : kPatientData) EXPECT_FALSE(absl::StrContains(f.value, phi)) << f.value;
  }
  for (const auto& [name, n] : out.messages) {
    for (const char* phi : kPatientData) EXPECT_FALSE(absl::StrContains(name, phi)) << name;
  }
}

// Two pipelined requests, answered in order (the second answer split across segments): each
// counted once, when its answer comes, with its own response time.
TEST(Fhir, PipelinedRequestsMatchTheirResponsesInOrder) {
  const std::string requests =
      "GET /fhir/Patient/SYNTH123 HTTP/1.1\r\nHost: fhir\r\nAccept: application/fhir+json\r\n\r\n"
      "GET /fhir/Observation?patient=SYNTH123 HTTP/1.1\r\nHost: fhir\r\n\r\n";
  const std::string first = Response(200, "application/fhir+json", kPatient);
  const std::string second = Response(200, "application/fhir+json", kBundle);
  for (size_t chunk : {size_t{1}, size_t{7}, second.size()}) {
    auto parser = NewParser();
    RecordingOutput out;
    parser->OnData(Direction::kToResponder, Bytes(requests), 1'000'000, out);
    EXPECT_TRUE(out.messages.empty()) << "counted when answered";
    parser->OnData(Direction::kToInitiator, Bytes(first), 3'000'000, out);
    EXPECT_EQ(out.messages, (std::map<std::string, uint64_t>{{"GET Patient", 1}}));
    for (size_t i = 0; i < second.size(); i += chunk) {
      parser->OnData(Direction::kToInitiator, Bytes(second).subspan(i, std::min(chunk, second.size() - i)),
                     static_cast<TimeNs>(5'000'000 + i), out);
    }
    EXPECT_EQ(out.messages, (std::map<std::string, uint64_t>{{"GET Patient", 1}, {"GET Observation", 1}}));
    EXPECT_EQ(out.response_times["GET Patient"], std::vector<TimeNs>{2'000'000});
    // The head is complete with its last byte.
    const size_t head_end = second.find("\r\n\r\n") + 4;
    const TimeNs head_time = 5'000'000 + static_cast<TimeNs>((head_end - 1) / chunk * chunk);
    EXPECT_EQ(out.response_times["GET Observation"], std::vector<TimeNs>{head_time - 1'000'000});
    EXPECT_EQ(out.application, "fhir");
    EXPECT_TRUE(out.clinical);
    EXPECT_EQ(out.phi, (std::map<PhiKind, uint64_t>{{PhiKind::kDemographics, 1}, {PhiKind::kOrdersResults, 1}}));
    // Answers come from the server: the sender of the response.
    EXPECT_EQ(out.Values(Party::kSender, Attribute::kFhirResource),
              (std::vector<std::string>{"Patient", "Observation"}));
    EXPECT_EQ(out.Values(Party::kSender, Attribute::kClinicalRole),
              (std::vector<std::string>{"fhir-server", "fhir-server"}));
    EXPECT_EQ(out.Values(Party::kReceiver, Attribute::kClinicalRole),
              (std::vector<std::string>{"fhir-client", "fhir-client"}));
    EXPECT_TRUE(out.anomalies.empty());
    ExpectNoPatientData(out);
  }
}

// A request never answered is counted when the flow ends, without a response time; its body
// carried patient data of its type's kind. The initiator (the client) is then the sender.
TEST(Fhir, UnansweredRequestsAreCountedAtTheEnd) {
  auto parser = NewParser();
  RecordingOutput out;
  const std::string body = R"({"resourceType":"Encounter","subject":{"reference":"Patient/SYNTH123"}})";
  parser->OnData(Direction::kToResponder,
                 Bytes(absl::StrCat("POST /baseR4/Encounter HTTP/1.1\r\nContent-Type: application/fhir+json\r\n"
                                    "Content-Length: ",
                                    body.size(), "\r\n\r\n", body)),
                 1000, out);
  EXPECT_FALSE(parser->Done());
  EXPECT_TRUE(out.messages.empty());
  parser->OnEnd(out);
  EXPECT_EQ(out.messages, (std::map<std::string, uint64_t>{{"POST Encounter", 1}}));
  EXPECT_TRUE(out.response_times.empty());
  EXPECT_EQ(out.phi, (std::map<PhiKind, uint64_t>{{PhiKind::kVisit, 1}}));
  EXPECT_EQ(out.Values(Party::kSender, Attribute::kClinicalRole), std::vector<std::string>{"fhir-client"});
  EXPECT_EQ(out.Values(Party::kReceiver, Attribute::kFhirResource), std::vector<std::string>{"Encounter"});
  ExpectNoPatientData(out);
}

// A FHIR-shaped path alone, answered by an image or not at all, is not FHIR: a web site's
// /Media/logo.png or an unanswered /Person/42.
TEST(Fhir, APathAloneIsNotEnough) {
  auto parser = NewParser();
  RecordingOutput out;
  parser->OnData(Direction::kToResponder, Bytes("GET /Media/logo.png HTTP/1.1\r\n\r\n"), 0, out);
  parser->OnData(Direction::kToInitiator, Bytes(Response(200, "image/png", "PNG")), 10, out);
  parser->OnData(Direction::kToResponder, Bytes("GET /Person/42 HTTP/1.1\r\n\r\n"), 20, out);
  parser->OnEnd(out);
  EXPECT_FALSE(out.clinical);
  EXPECT_TRUE(out.messages.empty());
  EXPECT_TRUE(out.phi.empty());
}

// When the responses' direction stops (a hole), waiting requests are counted at once.
TEST(Fhir, AHoleInTheResponsesEndsTheWait) {
  auto parser = NewParser();
  RecordingOutput out;
  parser->OnData(Direction::kToResponder,
                 Bytes("GET /fhir/Condition?patient=1 HTTP/1.1\r\nAccept: application/fhir+json\r\n\r\n"), 0, out);
  parser->OnGap(Direction::kToInitiator, 500, out);
  EXPECT_EQ(out.messages, (std::map<std::string, uint64_t>{{"GET Condition", 1}}));
  EXPECT_EQ(out.phi, (std::map<PhiKind, uint64_t>{{PhiKind::kDiagnoses, 1}}));  // a search by patient
  parser->OnGap(Direction::kToResponder, 500, out);
  EXPECT_TRUE(parser->Done());
}

// A path of FHIR's shape answered by a web page is a web site (ASP.NET's /Account/Login).
TEST(Fhir, WebPagesAreNotFhir) {
  auto parser = NewParser();
  RecordingOutput out;
  parser->OnData(Direction::kToResponder, Bytes("GET /Account/Login HTTP/1.1\r\nHost: intranet\r\n\r\n"), 0, out);
  parser->OnData(Direction::kToInitiator, Bytes(Response(200, "text/html; charset=utf-8", "<html></html>")), 10, out);
  EXPECT_EQ(out.application, "http");
  EXPECT_FALSE(out.clinical);
  EXPECT_TRUE(out.messages.empty());
  EXPECT_TRUE(out.Values(Party::kSender, Attribute::kClinicalRole).empty());
  // Nor is a page the client never saw answered, unless its path has FHIR's shape.
  auto other = NewParser();
  RecordingOutput out2;
  other->OnData(Direction::kToResponder, Bytes("GET /index.html HTTP/1.1\r\n\r\n"), 0, out2);
  other->OnEnd(out2);
  EXPECT_FALSE(out2.clinical);
  EXPECT_TRUE(out2.messages.empty());
}

// A FHIR media type alone says FHIR: a transaction Bundle POSTed to the base names no type.
TEST(Fhir, MediaTypeAloneSaysFhir) {
  auto parser = NewParser();
  RecordingOutput out;
  parser->OnData(Direction::kToResponder,
                 Bytes(absl::StrCat("POST /api/ HTTP/1.1\r\nContent-Type: application/fhir+json\r\nContent-Length: ",
                                    kBundle.size(), "\r\n\r\n", kBundle)),
                 0, out);
  parser->OnData(Direction::kToInitiator, Bytes(Response(200, "application/fhir+json", kBundle)), 10, out);
  EXPECT_EQ(out.messages, (std::map<std::string, uint64_t>{{"POST", 1}}));
  EXPECT_TRUE(out.clinical);
  EXPECT_TRUE(out.phi.empty());
  EXPECT_TRUE(out.Values(Party::kSender, Attribute::kFhirResource).empty());
  EXPECT_EQ(out.Values(Party::kSender, Attribute::kClinicalRole), std::vector<std::string>{"fhir-server"});
  // ... and in the response only (DSTU2's media type).
  auto dstu2 = NewParser();
  RecordingOutput out2;
  dstu2->OnData(Direction::kToResponder, Bytes("GET /ehr/api/x HTTP/1.1\r\n\r\n"), 0, out2);
  dstu2->OnData(Direction::kToInitiator, Bytes(Response(200, "application/json+fhir", kBundle)), 10, out2);
  EXPECT_EQ(out2.messages, (std::map<std::string, uint64_t>{{"GET", 1}}));
}

// metadata and Device move no patient data; an error answer (an OperationOutcome) moves none either.
TEST(Fhir, WhatIsNotPatientData) {
  auto parser = NewParser();
  RecordingOutput out;
  parser->OnData(Direction::kToResponder,
                 Bytes("GET /metadata HTTP/1.1\r\n\r\nGET /fhir/Device/pump-7 HTTP/1.1\r\n\r\n"
                       "GET /fhir/Patient/SYNTH999 HTTP/1.1\r\n\r\n"),
                 0, out);
  parser->OnData(Direction::kToInitiator,
                 Bytes(Response(200, "application/fhir+json", R"({"resourceType":"CapabilityStatement"})") +
                       Response(200, "application/fhir+json", R"({"resourceType":"Device"})") +
                       Response(404, "application/fhir+json", R"({"resourceType":"OperationOutcome"})")),
                 10, out);
  EXPECT_EQ(out.messages,
            (std::map<std::string, uint64_t>{{"GET metadata", 1}, {"GET Device", 1}, {"GET Patient", 1}}));
  EXPECT_TRUE(out.phi.empty());
  EXPECT_EQ(out.Values(Party::kSender, Attribute::kFhirResource),
            (std::vector<std::string>{"CapabilityStatement", "Device", "Patient"}));
}

// A HEAD's answer has no body whatever its Content-Length says; interim answers (100 Continue) are
// not the answer. Both would otherwise put later answers out of step.
TEST(Fhir, HeadAndInterimResponsesKeepTheOrder) {
  auto parser = NewParser();
  RecordingOutput out;
  parser->OnData(Direction::kToResponder,
                 Bytes(absl::StrCat("HEAD /fhir/Patient/1 HTTP/1.1\r\n\r\n"
                                    "POST /fhir/Observation HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: ",
                                    kBundle.size(), "\r\n\r\n", kBundle)),
                 0, out);
  parser->OnData(Direction::kToInitiator,
                 Bytes("HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: 500\r\n\r\n"
                       "HTTP/1.1 100 Continue\r\n\r\n"),
                 20, out);
  parser->OnData(Direction::kToInitiator, Bytes(Response(201, "application/fhir+json", "")), 50, out);
  EXPECT_EQ(out.messages, (std::map<std::string, uint64_t>{{"HEAD Patient", 1}, {"POST Observation", 1}}));
  EXPECT_EQ(out.response_times["HEAD Patient"], std::vector<TimeNs>{20});
  EXPECT_EQ(out.response_times["POST Observation"], std::vector<TimeNs>{50});
  // The HEAD answer carried no patient; the POST's body did.
  EXPECT_EQ(out.phi, (std::map<PhiKind, uint64_t>{{PhiKind::kOrdersResults, 1}}));
  EXPECT_TRUE(out.anomalies.empty());
}

// A client that pipelines more requests than are kept waiting: every request is still counted
// once, the later ones without a response time, and matching stops rather than going out of step.
TEST(Fhir, TooManyPipelinedRequestsStayBounded) {
  auto parser = NewParser();
  RecordingOutput out;
  parser->OnData(Direction::kToResponder, Bytes("GET /fhir/metadata HTTP/1.1\r\n\r\n"), 0, out);
  parser->OnData(Direction::kToInitiator, Bytes(Response(200, "application/fhir+json", "{}")), 10, out);
  std::string requests;
  for (int i = 0; i < 40; ++i) requests += "GET /fhir/Practitioner/" + std::to_string(i) + " HTTP/1.1\r\n\r\n";
  parser->OnData(Direction::kToResponder, Bytes(requests), 20, out);
  EXPECT_EQ(out.anomalies, (std::map<std::string, uint64_t>{{"http_too_many_pending_requests", 1}}));
  parser->OnData(Direction::kToInitiator, Bytes(Response(200, "application/fhir+json", kBundle)), 30, out);
  parser->OnEnd(out);
  EXPECT_EQ(out.messages, (std::map<std::string, uint64_t>{{"GET metadata", 1}, {"GET Practitioner", 40}}));
  EXPECT_EQ(out.response_times["GET metadata"], std::vector<TimeNs>{10});
  EXPECT_TRUE(out.response_times["GET Practitioner"].empty());
}

// A connection that is not FHIR stops after the first messages, as before.
TEST(Fhir, PlainHttpStopsEarly) {
  auto parser = NewParser();
  RecordingOutput out;
  std::string requests;
  for (int i = 0; i < 40; ++i) requests += "GET /page/" + std::to_string(i) + " HTTP/1.1\r\n\r\n";
  parser->OnData(Direction::kToResponder, Bytes(requests), 0, out);
  parser->OnGap(Direction::kToInitiator, 10, out);
  EXPECT_TRUE(parser->Done());
  EXPECT_TRUE(out.anomalies.empty());
  EXPECT_TRUE(out.messages.empty());
}

}  // namespace
}  // namespace auscult::sensor
