// libFuzzer target for what the collector does with a batch before it touches the database: the
// bytes of one ObservationBatch as a sensor (or anyone holding a sensor's certificate) sends them,
// parsed by protobuf and checked by ValidateBatch (collector/ingest/batch_validator.h).
//
// A refused batch must be refused with a message that can be logged and returned. An accepted one
// must hold what the store relies on without checking again (batch_writer.cc dereferences the
// parsed MACs and addresses and stores their canonical text and the enum labels), so the harness
// checks exactly that.
//
// Input: a serialized auscult.v1.ObservationBatch. Seeds: tests/data/fuzz-seeds/batch_fuzz
// (written by sensor/fuzz/make_seeds.py batch_fuzz from the .textproto files beside them).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "auscult/v1/observation.pb.h"
#include "collector/ingest/batch_validator.h"
#include "collector/store/enum_names.h"
#include "common/ip_address.h"
#include "common/logging.h"
#include "common/mac_address.h"
#include "common/text.h"
#include "google/protobuf/stubs/logging.h"

namespace auscult::collector {
namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "accepted batch breaks what the store relies on: %s\n", what);
    std::abort();
  }
}

// The canonical text the store writes must read back as the same address.
void RequireCanonicalIp(const std::string& text) {
  const auto ip = IpAddress::Parse(text);
  Require(ip.has_value(), "an address that does not parse");
  const auto again = IpAddress::Parse(ip->ToString());
  Require(again.has_value() && *again == *ip, "an address whose canonical text is another address");
}

void RequireCanonicalMac(const std::string& text) {
  const auto mac = MacAddress::Parse(text);
  Require(mac.has_value(), "a MAC that does not parse");
  const auto again = MacAddress::Parse(mac->ToString());
  Require(again.has_value() && *again == *mac, "a MAC whose canonical text is another MAC");
}

void CheckAccepted(const v1::ObservationBatch& b) {
  for (const v1::DeviceObservation& d : b.devices()) {
    if (d.ip().empty()) {
      RequireCanonicalMac(d.mac());
    } else {
      RequireCanonicalIp(d.ip());
    }
    Require(ToMicros(d.first_seen()) <= ToMicros(d.last_seen()), "first_seen after last_seen");
    for (const v1::AddressObservation& a : d.addresses()) {
      RequireCanonicalIp(a.ip());
      Require(!AddressSourceLabel(a.source()).empty() && !LocalityLabel(a.locality()).empty(), "an unnamed enum");
    }
    for (const v1::DeviceFact& f : d.facts()) {
      Require(!AttributeLabel(f.attribute()).empty(), "an unnamed attribute");
      Require(f.value().find('\0') == std::string::npos, "a NUL in a fact value");
    }
  }
  for (const v1::FlowObservation& f : b.flows()) {
    if (!f.initiator().mac().empty()) RequireCanonicalMac(f.initiator().mac());
    if (!f.responder().mac().empty()) RequireCanonicalMac(f.responder().mac());
    RequireCanonicalIp(f.initiator().ip());
    RequireCanonicalIp(f.responder().ip());
    Require(!FlowStateLabel(f.state()).empty(), "an unnamed flow state");
    for (const v1::PhiCount& p : f.phi()) Require(!PhiKindLabel(p.kind()).empty(), "an unnamed PHI kind");
  }
}

}  // namespace
}  // namespace auscult::collector

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Protobuf logs every string field that is not UTF-8; the fuzzer makes millions of them.
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  auscult::v1::ObservationBatch batch;
  if (!batch.ParseFromArray(data, static_cast<int>(size))) return 0;
  const absl::Status status = auscult::collector::ValidateBatch(batch);
  if (status.ok()) {
    auscult::collector::CheckAccepted(batch);
    return 0;
  }
  // What the ingest service does with a refusal: a log line and the gRPC status's message.
  const std::string line = auscult::Printable(auscult::AsStd(status.message()), 512);
  if (line.empty() || status.code() != absl::StatusCode::kInvalidArgument) {
    std::fprintf(stderr, "a refusal without a message, or not INVALID_ARGUMENT\n");
    std::abort();
  }
  return 0;
}
