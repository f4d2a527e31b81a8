#include "collector/ingest/batch_validator.h"

#include <gtest/gtest.h>

#include <functional>

namespace auscult::collector {
namespace {

v1::ObservationBatch ValidBatch() {
  v1::ObservationBatch b;
  b.mutable_sensor()->set_sensor_id("north-wing-1");
  b.mutable_sensor()->set_site("st-marys");
  b.set_epoch(1700000000000000000);
  b.set_sequence(1);
  auto* d = b.add_devices();
  d->set_mac("00:0c:29:b5:b6:48");
  d->mutable_first_seen()->set_seconds(1517275422);
  d->mutable_last_seen()->set_seconds(1517275423);
  d->add_vlans(10);
  auto* a = d->add_addresses();
  a->set_ip("10.0.0.155");
  a->set_source(v1::ADDRESS_SOURCE_ARP);
  *a->mutable_first_seen() = d->first_seen();
  *a->mutable_last_seen() = d->last_seen();
  auto* fact = d->add_facts();
  fact->set_attribute(v1::ATTRIBUTE_VENDOR);
  fact->set_value("VMware, Inc.");
  fact->mutable_provenance()->set_protocol("oui");
  fact->set_confidence(0.5f);
  *fact->mutable_first_seen() = d->first_seen();
  *fact->mutable_last_seen() = d->last_seen();
  auto* f = b.add_flows();
  f->set_flow_id(1);
  f->mutable_initiator()->set_ip("10.0.0.155");
  f->mutable_initiator()->set_port(49242);
  f->mutable_responder()->set_ip("10.0.0.126");
  f->mutable_responder()->set_port(6661);
  f->set_transport(6);
  f->set_state(v1::FLOW_STATE_CLOSED);
  *f->mutable_first_seen() = d->first_seen();
  *f->mutable_last_seen() = d->last_seen();
  f->set_application("hl7");
  f->set_clinical(true);
  auto* phi = f->add_phi();
  phi->set_kind(v1::PHI_KIND_DEMOGRAPHICS);
  phi->set_messages(1);
  auto* m = f->add_messages();
  m->set_name("ACK AA");
  m->set_count(1);
  m->set_response_time_sum_us(35000);
  m->set_response_time_max_us(35000);
  return b;
}

TEST(BatchValidator, AcceptsAWellFormedBatch) { EXPECT_TRUE(ValidateBatch(ValidBatch()).ok()); }

// Each corruption is refused with a message that names the offending field.
TEST(BatchValidator, RefusesEachKindOfBadField) {
  struct Case {
    const char* field;
    std::function<void(v1::ObservationBatch&)> corrupt;
  };
  const Case cases[] = {
      {"sensor.sensor_id", [](auto& b) { b.mutable_sensor()->set_sensor_id(""); }},
      {"sensor.sensor_id", [](auto& b) { b.mutable_sensor()->set_sensor_id("x'; DROP TABLE devices; --"); }},
      {"sensor.site", [](auto& b) { b.mutable_sensor()->set_site(std::string(200, 'a')); }},
      {"sensor.wing", [](auto& b) { b.mutable_sensor()->set_wing(std::string("a\0b", 3)); }},
      {"epoch", [](auto& b) { b.set_epoch(0); }},
      {"sequence", [](auto& b) { b.set_sequence(UINT64_MAX); }},
      {"devices[0].mac", [](auto& b) { b.mutable_devices(0)->set_mac("not-a-mac"); }},
      {"devices[0].mac", [](auto& b) { b.mutable_devices(0)->set_mac("ff:ff:ff:ff:ff:ff"); }},
      {"devices[0].addresses[0].ip", [](auto& b) { b.mutable_devices(0)->mutable_addresses(0)->set_ip("10.0.0.300"); }},
      {"devices[0].addresses[0].source",
       [](auto& b) { b.mutable_devices(0)->mutable_addresses(0)->set_source(static_cast<v1::AddressSource>(99)); }},
      {"devices[0].vlans", [](auto& b) { b.mutable_devices(0)->add_vlans(5000); }},
      {"devices[0].facts[0].attribute",
       [](auto& b) { b.mutable_devices(0)->mutable_facts(0)->set_attribute(static_cast<v1::Attribute>(4242)); }},
      {"devices[0].facts[0].value",
       [](auto& b) { b.mutable_devices(0)->mutable_facts(0)->set_value(std::string(5000, 'v')); }},
      {"devices[0].facts[0].confidence", [](auto& b) { b.mutable_devices(0)->mutable_facts(0)->set_confidence(1.5f); }},
      {"devices[0].facts[0].provenance.protocol",
       [](auto& b) { b.mutable_devices(0)->mutable_facts(0)->mutable_provenance()->clear_protocol(); }},
      {"devices[0]", [](auto& b) { b.mutable_devices(0)->mutable_first_seen()->set_seconds(1517275999); }},
      {"devices[0].first_seen", [](auto& b) { b.mutable_devices(0)->mutable_first_seen()->set_seconds(-5); }},
      {"devices[0].bytes_sent", [](auto& b) { b.mutable_devices(0)->set_bytes_sent(UINT64_MAX); }},
      {"flows[0].flow_id", [](auto& b) { b.mutable_flows(0)->set_flow_id(0); }},
      {"flows[0].initiator.ip", [](auto& b) { b.mutable_flows(0)->mutable_initiator()->set_ip(""); }},
      {"flows[0].responder.port", [](auto& b) { b.mutable_flows(0)->mutable_responder()->set_port(70000); }},
      {"flows[0].responder.mac", [](auto& b) { b.mutable_flows(0)->mutable_responder()->set_mac("zz"); }},
      {"flows[0]", [](auto& b) { b.mutable_flows(0)->mutable_responder()->set_ip("fe80::1"); }},
      {"flows[0].transport", [](auto& b) { b.mutable_flows(0)->set_transport(256); }},
      {"flows[0].state", [](auto& b) { b.mutable_flows(0)->set_state(v1::FLOW_STATE_UNSPECIFIED); }},
      {"flows[0].vlan", [](auto& b) { b.mutable_flows(0)->set_vlan(4096); }},
      {"flows[0].phi.kind", [](auto& b) { b.mutable_flows(0)->mutable_phi(0)->set_kind(v1::PHI_KIND_UNSPECIFIED); }},
      {"flows[0].phi.kind",
       [](auto& b) { b.mutable_flows(0)->mutable_phi(0)->set_kind(static_cast<v1::PhiKind>(77)); }},
      {"flows[0].phi", [](auto& b) { *b.mutable_flows(0)->add_phi() = b.flows(0).phi(0); }},
      {"flows[0].phi.messages", [](auto& b) { b.mutable_flows(0)->mutable_phi(0)->set_messages(UINT64_MAX); }},
      {"flows[0].messages.name", [](auto& b) { b.mutable_flows(0)->mutable_messages(0)->set_name(""); }},
      {"flows[0].messages.name",
       [](auto& b) { b.mutable_flows(0)->mutable_messages(0)->set_name(std::string(65, 'A')); }},
      {"flows[0].messages", [](auto& b) { *b.mutable_flows(0)->add_messages() = b.flows(0).messages(0); }},
      {"flows[0].messages.response_time_max_us",
       [](auto& b) { b.mutable_flows(0)->mutable_messages(0)->set_response_time_max_us(35001); }},
      {"stats.anomalies", [](auto& b) { (*b.mutable_stats()->mutable_anomalies())[""] = 1; }},
      {"devices[1].mac", [](auto& b) { *b.add_devices() = b.devices(0); }},
      {"devices[0]", [](auto& b) { b.mutable_devices(0)->set_ip("10.0.0.1"); }},  // both mac and ip
      {"devices[0].ip",
       [](auto& b) {
         b.mutable_devices(0)->clear_mac();
         b.mutable_devices(0)->set_ip("224.0.0.251");
       }},
      {"devices[1].mac",
       [](auto& b) {
         *b.add_devices() = b.devices(0);
         b.mutable_devices(1)->set_mac("00-0C-29-B5-B6-48");  // the same MAC, spelt differently
       }},
  };
  for (const Case& c : cases) {
    v1::ObservationBatch b = ValidBatch();
    c.corrupt(b);
    const absl::Status s = ValidateBatch(b);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(s.message().find(c.field), absl::string_view::npos)
        << "message '" << s.message() << "' should name " << c.field;
    EXPECT_NE(s.message().find("batch "), absl::string_view::npos) << s.message();
  }
}

TEST(BatchValidator, RefusesOversizedBatches) {
  v1::ObservationBatch b = ValidBatch();
  const v1::FlowObservation flow = b.flows(0);
  for (int i = 0; i < kMaxObservationsPerBatch; ++i) *b.add_flows() = flow;
  EXPECT_EQ(ValidateBatch(b).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace auscult::collector
