#include "collector/ingest/batch_validator.h"

#include <cmath>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/identifiers.h"
#include "common/ip_address.h"
#include "common/logging.h"
#include "common/mac_address.h"

namespace auscult::collector {
namespace {

constexpr uint64_t kMaxInt64 = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
// Timestamps from 1970 up to 2100: anything else is a broken clock or a hostile sensor.
constexpr int64_t kMaxSeconds = 4102444800;

absl::Status Invalid(const std::string& where, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", AsAbsl(why)));
}

absl::Status CheckString(const std::string& where, const std::string& s, size_t max, bool required = false) {
  if (required && s.empty()) return Invalid(where, "is empty");
  if (s.size() > max) return Invalid(where, absl::StrCat("longer than ", max, " bytes"));
  if (s.find('\0') != std::string::npos) return Invalid(where, "contains a NUL byte");
  return absl::OkStatus();
}

}  // namespace

bool IsPlausibleTime(const google::protobuf::Timestamp& t) {
  return t.seconds() >= 0 && t.seconds() <= kMaxSeconds && t.nanos() >= 0 && t.nanos() <= 999999999;
}

namespace {

absl::Status CheckTime(const std::string& where, const google::protobuf::Timestamp& t) {
  if (!IsPlausibleTime(t)) {
    return Invalid(where, absl::StrCat("timestamp ", t.seconds(), ".", t.nanos(), " is outside 1970-2100"));
  }
  return absl::OkStatus();
}

absl::Status CheckSpan(const std::string& where, const google::protobuf::Timestamp& first,
                       const google::protobuf::Timestamp& last) {
  if (auto s = CheckTime(where + ".first_seen", first); !s.ok()) return s;
  if (auto s = CheckTime(where + ".last_seen", last); !s.ok()) return s;
  if (std::make_pair(first.seconds(), first.nanos()) > std::make_pair(last.seconds(), last.nanos())) {
    return Invalid(where, "first_seen is after last_seen");
  }
  return absl::OkStatus();
}

absl::Status CheckCounter(const std::string& where, uint64_t v) {
  if (v > kMaxCounter) return Invalid(where, absl::StrCat(v, " is implausibly large"));
  return absl::OkStatus();
}

absl::Status CheckIp(const std::string& where, const std::string& ip) {
  if (!IpAddress::Parse(ip)) return Invalid(where, absl::StrCat("'", ip.substr(0, 64), "' is not an IP address"));
  return absl::OkStatus();
}

absl::Status CheckMac(const std::string& where, const std::string& mac, bool allow_empty) {
  if (mac.empty() && allow_empty) return absl::OkStatus();
  if (!MacAddress::Parse(mac)) return Invalid(where, absl::StrCat("'", mac.substr(0, 64), "' is not a MAC address"));
  return absl::OkStatus();
}

#define AUSCULT_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    if (absl::Status _s = (expr); !_s.ok()) return _s; \
  } while (0)

absl::Status ValidateDevice(const std::string& where, const v1::DeviceObservation& d) {
  // A device is its MAC, or (seen only behind a router) its address: one of the two.
  if (d.mac().empty() == d.ip().empty()) return Invalid(where, "needs exactly one of mac and ip");
  if (!d.ip().empty()) {
    AUSCULT_RETURN_IF_ERROR(CheckIp(where + ".ip", d.ip()));
    const IpAddress ip = *IpAddress::Parse(d.ip());
    if (ip.IsUnspecified() || ip.IsMulticast() || ip.IsLimitedBroadcast()) {
      return Invalid(where + ".ip", "not a unicast address");
    }
  } else {
    AUSCULT_RETURN_IF_ERROR(CheckMac(where + ".mac", d.mac(), /*allow_empty=*/false));
    const MacAddress mac = *MacAddress::Parse(d.mac());
    if (mac.IsGroup() || mac.IsZero()) return Invalid(where + ".mac", "a group or all-zero MAC is not a device");
  }
  AUSCULT_RETURN_IF_ERROR(CheckSpan(where, d.first_seen(), d.last_seen()));
  AUSCULT_RETURN_IF_ERROR(CheckCounter(where + ".packets_sent", d.packets_sent()));
  AUSCULT_RETURN_IF_ERROR(CheckCounter(where + ".bytes_sent", d.bytes_sent()));
  if (d.addresses_size() > kMaxAddressesPerDevice) return Invalid(where + ".addresses", "too many");
  for (int i = 0; i < d.addresses_size(); ++i) {
    const auto& a = d.addresses(i);
    const std::string w = absl::StrCat(where, ".addresses[", i, "]");
    AUSCULT_RETURN_IF_ERROR(CheckIp(w + ".ip", a.ip()));
    if (a.source() == v1::ADDRESS_SOURCE_UNSPECIFIED || !v1::AddressSource_IsValid(a.source())) {
      return Invalid(w + ".source", absl::StrCat("unknown address source ", a.source()));
    }
    if (!v1::Locality_IsValid(a.locality())) {
      return Invalid(w + ".locality", absl::StrCat("unknown locality ", a.locality()));
    }
    AUSCULT_RETURN_IF_ERROR(CheckSpan(w, a.first_seen(), a.last_seen()));
    AUSCULT_RETURN_IF_ERROR(CheckCounter(w + ".packets", a.packets()));
  }
  if (d.vlans_size() > kMaxVlansPerDevice) return Invalid(where + ".vlans", "too many");
  for (uint32_t v : d.vlans()) {
    if (v > 4095) return Invalid(where + ".vlans", absl::StrCat(v, " is not a VLAN id (0-4095)"));
  }
  if (d.facts_size() > kMaxFactsPerDevice) return Invalid(where + ".facts", "too many");
  for (int i = 0; i < d.facts_size(); ++i) {
    const auto& f = d.facts(i);
    const std::string w = absl::StrCat(where, ".facts[", i, "]");
    if (f.attribute() == v1::ATTRIBUTE_UNSPECIFIED || !v1::Attribute_IsValid(f.attribute())) {
      return Invalid(w + ".attribute", absl::StrCat("unknown attribute ", f.attribute()));
    }
    AUSCULT_RETURN_IF_ERROR(CheckString(w + ".value", f.value(), kMaxFactValueBytes));
    AUSCULT_RETURN_IF_ERROR(CheckString(w + ".provenance.protocol", f.provenance().protocol(), 64, true));
    AUSCULT_RETURN_IF_ERROR(CheckString(w + ".provenance.field", f.provenance().field(), 64));
    if (!std::isfinite(f.confidence()) || f.confidence() < 0 || f.confidence() > 1) {
      return Invalid(w + ".confidence", "must be from 0 to 1");
    }
    AUSCULT_RETURN_IF_ERROR(CheckSpan(w, f.first_seen(), f.last_seen()));
    AUSCULT_RETURN_IF_ERROR(CheckCounter(w + ".count", f.count()));
  }
  return absl::OkStatus();
}

absl::Status ValidateFlow(const std::string& where, const v1::FlowObservation& f) {
  if (f.flow_id() == 0 || f.flow_id() > kMaxInt64) return Invalid(where + ".flow_id", "must be from 1 to 2^63-1");
  for (const auto& [name, e] : {std::pair{"initiator", &f.initiator()}, {"responder", &f.responder()}}) {
    const std::string w = absl::StrCat(where, ".", name);
    AUSCULT_RETURN_IF_ERROR(CheckMac(w + ".mac", e->mac(), /*allow_empty=*/true));
    AUSCULT_RETURN_IF_ERROR(CheckIp(w + ".ip", e->ip()));
    if (e->port() > 65535) return Invalid(w + ".port", absl::StrCat(e->port(), " is not a port"));
  }
  if (IpAddress::Parse(f.initiator().ip())->version != IpAddress::Parse(f.responder().ip())->version) {
    return Invalid(where, "initiator and responder addresses are of different IP versions");
  }
  if (f.transport() > 255)
    return Invalid(where + ".transport", absl::StrCat(f.transport(), " is not an IP protocol number"));
  AUSCULT_RETURN_IF_ERROR(CheckString(where + ".application", f.application(), 64));
  if (f.vlan() > 4095 || f.inner_vlan() > 4095) return Invalid(where + ".vlan", "not a VLAN id (0-4095)");
  AUSCULT_RETURN_IF_ERROR(CheckCounter(where + ".to_responder.packets", f.to_responder().packets()));
  AUSCULT_RETURN_IF_ERROR(CheckCounter(where + ".to_responder.bytes", f.to_responder().bytes()));
  AUSCULT_RETURN_IF_ERROR(CheckCounter(where + ".to_initiator.packets", f.to_initiator().packets()));
  AUSCULT_RETURN_IF_ERROR(CheckCounter(where + ".to_initiator.bytes", f.to_initiator().bytes()));
  AUSCULT_RETURN_IF_ERROR(CheckSpan(where, f.first_seen(), f.last_seen()));
  if (f.state() == v1::FLOW_STATE_UNSPECIFIED || !v1::FlowState_IsValid(f.state())) {
    return Invalid(where + ".state", absl::StrCat("unknown flow state ", f.state()));
  }
  if (f.tcp_flags_initiator() > 255 || f.tcp_flags_responder() > 255) return Invalid(where, "TCP flags exceed 8 bits");
  if (f.phi_size() > v1::PhiKind_ARRAYSIZE) return Invalid(where + ".phi", "more entries than there are kinds");
  absl::flat_hash_set<int> kinds;
  for (const v1::PhiCount& p : f.phi()) {
    if (p.kind() == v1::PHI_KIND_UNSPECIFIED || !v1::PhiKind_IsValid(p.kind())) {
      return Invalid(where + ".phi.kind", absl::StrCat("unknown kind ", p.kind()));
    }
    if (!kinds.insert(p.kind()).second) return Invalid(where + ".phi", "a kind is listed twice");
    AUSCULT_RETURN_IF_ERROR(CheckCounter(where + ".phi.messages", p.messages()));
  }
  // The sensor keeps 32 names per flow and report; a little slack for a newer sensor.
  if (f.messages_size() > 64) return Invalid(where + ".messages", "more than 64 message names");
  absl::flat_hash_set<std::string_view> names;
  for (const v1::MessageCount& m : f.messages()) {
    AUSCULT_RETURN_IF_ERROR(CheckString(where + ".messages.name", m.name(), 64, true));
    if (!names.insert(m.name()).second) return Invalid(where + ".messages", "a name is listed twice");
    AUSCULT_RETURN_IF_ERROR(CheckCounter(where + ".messages.count", m.count()));
    AUSCULT_RETURN_IF_ERROR(CheckCounter(where + ".messages.response_time_sum_us", m.response_time_sum_us()));
    if (m.response_time_max_us() > m.response_time_sum_us()) {
      return Invalid(where + ".messages.response_time_max_us", "exceeds the sum");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateBatch(const v1::ObservationBatch& batch) {
  const std::string where = absl::StrCat("batch ", batch.sequence());
  const v1::SensorInfo& s = batch.sensor();
  if (!IsValidSensorId(s.sensor_id())) {
    return Invalid(where + ": sensor.sensor_id",
                   absl::StrCat("'", s.sensor_id().substr(0, 80), "' is not 1-64 letters, digits, '.', '_' or '-'"));
  }
  AUSCULT_RETURN_IF_ERROR(CheckString(where + ": sensor.site", s.site(), kMaxSiteLength));
  AUSCULT_RETURN_IF_ERROR(CheckString(where + ": sensor.wing", s.wing(), kMaxSiteLength));
  AUSCULT_RETURN_IF_ERROR(CheckString(where + ": sensor.version", s.version(), 64));
  AUSCULT_RETURN_IF_ERROR(CheckString(where + ": sensor.hostname", s.hostname(), 255));
  if (s.sources_size() > kMaxSensorSources) {
    return Invalid(where + ": sensor.sources", absl::StrCat("more than ", kMaxSensorSources));
  }
  for (const std::string& src : s.sources()) {
    AUSCULT_RETURN_IF_ERROR(CheckString(where + ": sensor.sources", src, kMaxSourceLength));
  }
  if (batch.epoch() == 0 || batch.epoch() > kMaxInt64) return Invalid(where + ": epoch", "must be from 1 to 2^63-1");
  if (batch.sequence() == 0 || batch.sequence() > kMaxInt64)
    return Invalid(where + ": sequence", "must be from 1 to 2^63-1");
  if (batch.devices_size() + batch.flows_size() > kMaxObservationsPerBatch) {
    return Invalid(where, absl::StrCat("more than ", kMaxObservationsPerBatch, " observations"));
  }
  // A sensor reports each device once per batch; repeats could only serve to inflate counters.
  absl::flat_hash_set<MacAddress> macs;
  absl::flat_hash_set<IpAddress> ips;
  for (int i = 0; i < batch.devices_size(); ++i) {
    const std::string w = absl::StrCat(where, ": devices[", i, "]");
    const v1::DeviceObservation& d = batch.devices(i);
    AUSCULT_RETURN_IF_ERROR(ValidateDevice(w, d));
    if (d.ip().empty() ? !macs.insert(*MacAddress::Parse(d.mac())).second
                       : !ips.insert(*IpAddress::Parse(d.ip())).second) {
      return Invalid(w + (d.ip().empty() ? ".mac" : ".ip"), "this device appears more than once in the batch");
    }
  }
  for (int i = 0; i < batch.flows_size(); ++i) {
    AUSCULT_RETURN_IF_ERROR(ValidateFlow(absl::StrCat(where, ": flows[", i, "]"), batch.flows(i)));
  }
  const v1::SensorStats& st = batch.stats();
  for (uint64_t v :
       {st.packets_received(), st.bytes_received(), st.packets_dropped_kernel(), st.packets_dropped_interface(),
        st.packets_dropped_sensor(), st.packets_malformed(), st.flows_active(), st.flows_evicted()}) {
    if (v > kMaxInt64) return Invalid(where + ": stats", "counter exceeds 2^63-1");
  }
  if (st.anomalies_size() > 256) return Invalid(where + ": stats.anomalies", "more than 256 names");
  for (const auto& [name, count] : st.anomalies()) {
    AUSCULT_RETURN_IF_ERROR(CheckString(where + ": stats.anomalies", name, 64, true));
    if (count > kMaxInt64) return Invalid(where + ": stats.anomalies", "counter exceeds 2^63-1");
  }
  return absl::OkStatus();
}

}  // namespace auscult::collector
