#ifndef AUSCULT_COLLECTOR_STORE_ENUM_NAMES_H_
#define AUSCULT_COLLECTOR_STORE_ENUM_NAMES_H_

#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "auscult/v1/observation.pb.h"

namespace auscult::collector {

// The database stores enum values as readable labels ("vendor", "arp", "idle_timeout") so that
// dashboards need no lookup tables: the proto name without its prefix, in lower case.
inline std::string EnumLabel(const std::string& proto_name, std::string_view prefix) {
  std::string_view s = proto_name;
  if (s.substr(0, prefix.size()) == prefix) s.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(std::string(s));
}

inline std::string AttributeLabel(v1::Attribute a) { return EnumLabel(v1::Attribute_Name(a), "ATTRIBUTE_"); }
inline std::string AddressSourceLabel(v1::AddressSource s) {
  return EnumLabel(v1::AddressSource_Name(s), "ADDRESS_SOURCE_");
}
inline std::string LocalityLabel(v1::Locality l) { return EnumLabel(v1::Locality_Name(l), "LOCALITY_"); }
inline v1::Locality LocalityFromLabel(std::string_view label) {
  v1::Locality l = v1::LOCALITY_UNSPECIFIED;
  v1::Locality_Parse("LOCALITY_" + absl::AsciiStrToUpper(std::string(label)), &l);
  return l;
}
inline std::string PhiKindLabel(v1::PhiKind k) { return EnumLabel(v1::PhiKind_Name(k), "PHI_KIND_"); }
inline std::string FlowStateLabel(v1::FlowState s) { return EnumLabel(v1::FlowState_Name(s), "FLOW_STATE_"); }

inline v1::Attribute AttributeFromLabel(std::string_view label) {
  v1::Attribute a = v1::ATTRIBUTE_UNSPECIFIED;
  v1::Attribute_Parse("ATTRIBUTE_" + absl::AsciiStrToUpper(std::string(label)), &a);
  return a;
}
inline v1::AddressSource AddressSourceFromLabel(std::string_view label) {
  v1::AddressSource s = v1::ADDRESS_SOURCE_UNSPECIFIED;
  v1::AddressSource_Parse("ADDRESS_SOURCE_" + absl::AsciiStrToUpper(std::string(label)), &s);
  return s;
}

inline int64_t ToMicros(const google::protobuf::Timestamp& t) { return t.seconds() * 1000000 + t.nanos() / 1000; }
inline void FromMicros(int64_t us, google::protobuf::Timestamp* t) {
  int64_t s = us / 1000000;
  int64_t rem = us % 1000000;
  if (rem < 0) {
    rem += 1000000;
    --s;
  }
  t->set_seconds(s);
  t->set_nanos(static_cast<int32_t>(rem * 1000));
}

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_STORE_ENUM_NAMES_H_
