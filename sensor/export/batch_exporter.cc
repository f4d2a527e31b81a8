#include "sensor/export/batch_exporter.h"

#include "common/observation_limits.h"
#include "common/text.h"
#include "common/time.h"

namespace auscult::sensor {
namespace {

static_assert(static_cast<int>(Attribute::kVendor) == v1::ATTRIBUTE_VENDOR);
static_assert(static_cast<int>(Attribute::kMacRandomized) == v1::ATTRIBUTE_MAC_RANDOMIZED);
static_assert(static_cast<int>(Attribute::kOsFamily) == v1::ATTRIBUTE_OS_FAMILY);
static_assert(static_cast<int>(Attribute::kTlsServerFingerprint) == v1::ATTRIBUTE_TLS_SERVER_FINGERPRINT);
static_assert(static_cast<int>(Attribute::kTcpFingerprint) == v1::ATTRIBUTE_TCP_FINGERPRINT);
static_assert(static_cast<int>(Attribute::kPortVlan) == v1::ATTRIBUTE_PORT_VLAN);
static_assert(static_cast<int>(Attribute::kClinicalRole) == v1::ATTRIBUTE_CLINICAL_ROLE);
static_assert(static_cast<int>(Attribute::kFhirResource) == v1::ATTRIBUTE_FHIR_RESOURCE);
static_assert(static_cast<int>(PhiKind::kDemographics) == v1::PHI_KIND_DEMOGRAPHICS);
static_assert(kPhiKinds == v1::PHI_KIND_WORKLIST);
static_assert(static_cast<int>(AddressSource::kTraffic) == v1::ADDRESS_SOURCE_TRAFFIC);
static_assert(static_cast<int>(AddressSource::kDhcp) == v1::ADDRESS_SOURCE_DHCP);
static_assert(static_cast<int>(FlowState::kActive) == v1::FLOW_STATE_ACTIVE);
static_assert(static_cast<int>(Locality::kRouted) == v1::LOCALITY_ROUTED);
static_assert(static_cast<int>(FlowState::kCaptureEnd) == v1::FLOW_STATE_CAPTURE_END);

void SetTime(TimeNs t, google::protobuf::Timestamp* ts) {
  // Floor division keeps nanos in [0, 1e9) for times before 1970 too.
  int64_t seconds = t / kNanosPerSecond;
  int64_t nanos = t % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    --seconds;
  }
  ts->set_seconds(seconds);
  ts->set_nanos(static_cast<int32_t>(nanos));
}

void SetEndpoint(const FlowEndpoint& e, bool has_mac, v1::Endpoint* out) {
  // All-zero means unknown (a cooked capture names only the sender; loopback has no MACs).
  if (has_mac && !e.mac.IsZero()) out->set_mac(e.mac.ToString());
  out->set_ip(e.ip.ToString());
  out->set_port(e.port);
}

}  // namespace

BatchExporter::BatchExporter(BatchExporterOptions options, BatchTransport* transport, StatsProvider stats)
    : options_(std::move(options)), transport_(transport), stats_(std::move(stats)) {}

v1::ObservationBatch& BatchExporter::Current() {
  if (!current_) current_ = std::make_unique<v1::ObservationBatch>();
  return *current_;
}

void BatchExporter::OnFlow(const FlowRecord& f) {
  v1::FlowObservation* o = Current().add_flows();
  o->set_flow_id(f.flow_id);
  SetEndpoint(f.initiator, f.has_macs, o->mutable_initiator());
  SetEndpoint(f.responder, f.has_macs, o->mutable_responder());
  o->set_transport(f.transport);
  o->set_application(std::string(f.application));
  o->set_vlan(f.vlan);
  o->set_inner_vlan(f.inner_vlan);
  o->mutable_to_responder()->set_packets(f.to_responder.packets);
  o->mutable_to_responder()->set_bytes(f.to_responder.bytes);
  o->mutable_to_initiator()->set_packets(f.to_initiator.packets);
  o->mutable_to_initiator()->set_bytes(f.to_initiator.bytes);
  SetTime(f.first_seen, o->mutable_first_seen());
  SetTime(f.last_seen, o->mutable_last_seen());
  o->set_state(static_cast<v1::FlowState>(f.state));
  o->set_tcp_flags_initiator(f.tcp_flags_initiator);
  o->set_tcp_flags_responder(f.tcp_flags_responder);
  o->set_clinical(f.clinical);
  o->set_encrypted(f.encrypted);
  o->set_cleartext_credentials(f.cleartext_credentials);
  for (int k = 0; k < kPhiKinds; ++k) {
    if (f.phi[k] == 0) continue;
    v1::PhiCount* p = o->add_phi();
    p->set_kind(static_cast<v1::PhiKind>(k + 1));
    p->set_messages(f.phi[k]);
  }
  for (const MessageCountRecord& m : f.messages) {
    v1::MessageCount* c = o->add_messages();
    c->set_name(m.name);
    c->set_count(m.count);
    c->set_response_time_sum_us(m.response_time_sum_us);
    c->set_response_time_max_us(m.response_time_max_us);
  }
  ++flows_exported_;
  if (++current_size_ >= options_.max_observations) Seal();
}

void BatchExporter::OnDevice(const DeviceRecord& d) {
  v1::DeviceObservation* o = Current().add_devices();
  if (d.mac.IsZero() && d.ip.IsSet()) {
    o->set_ip(d.ip.ToString());  // a host behind a router: its address identifies it
  } else {
    o->set_mac(d.mac.ToString());
  }
  for (const AddressRecord& a : d.addresses) {
    v1::AddressObservation* ao = o->add_addresses();
    ao->set_ip(a.ip.ToString());
    ao->set_source(static_cast<v1::AddressSource>(a.source));
    SetTime(a.first_seen, ao->mutable_first_seen());
    SetTime(a.last_seen, ao->mutable_last_seen());
    ao->set_packets(a.packets);
    ao->set_locality(static_cast<v1::Locality>(a.locality));
  }
  for (uint16_t vlan : d.vlans) o->add_vlans(vlan);
  SetTime(d.first_seen, o->mutable_first_seen());
  SetTime(d.last_seen, o->mutable_last_seen());
  o->set_packets_sent(d.packets_sent);
  o->set_bytes_sent(d.bytes_sent);
  o->set_routes_traffic(d.routes_traffic);
  for (const FactRecord& f : d.facts) {
    // Facts come off the wire: any bytes at all. The collector refuses a batch with a value it
    // cannot store, so each is made storable here, and a device never carries more than it takes.
    std::string value = FactValue(f.value, kMaxFactValueBytes);
    if (value.empty() || o->facts_size() >= kMaxFactsPerDevice) continue;
    v1::DeviceFact* fo = o->add_facts();
    fo->set_attribute(static_cast<v1::Attribute>(f.attribute));
    fo->set_value(std::move(value));
    fo->mutable_provenance()->set_protocol(std::string(f.protocol));
    fo->mutable_provenance()->set_field(std::string(f.field));
    fo->set_confidence(f.confidence);
    SetTime(f.first_seen, fo->mutable_first_seen());
    SetTime(f.last_seen, fo->mutable_last_seen());
    fo->set_count(f.count);
  }
  ++devices_exported_;
  if (++current_size_ >= options_.max_observations) Seal();
}

void BatchExporter::OnWindowEnd() {
  if (current_size_ > 0 || options_.send_empty_batches) Seal();
}

void BatchExporter::EnsureOneBatch() {
  if (sequence_ == 0) Seal();
}

void BatchExporter::Seal() {
  v1::ObservationBatch& b = Current();
  *b.mutable_sensor() = options_.sensor;
  b.set_epoch(options_.epoch);
  b.set_sequence(++sequence_);
  SetTime(WallClockNs(), b.mutable_created());
  if (stats_) stats_(*b.mutable_stats());
  current_size_ = 0;
  if (!status_.ok()) {  // The transport already failed: nothing more can be delivered.
    current_.reset();
    return;
  }
  status_ = transport_->Send(std::move(current_));
  current_.reset();
}

}  // namespace auscult::sensor
