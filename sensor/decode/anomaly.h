#ifndef AUSCULT_SENSOR_DECODE_ANOMALY_H_
#define AUSCULT_SENSOR_DECODE_ANOMALY_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace auscult::sensor {

// Every way a frame can be malformed or unusable, as a named counter. A malformed frame is counted
// and decoded as far as it is sound; it never stops the sensor and is never logged one by one.
#define AUSCULT_ANOMALIES(X)                                    \
  X(kUnsupportedLinkType, "unsupported_link_type")              \
  X(kTimestampOutOfRange, "timestamp_out_of_range")             \
  X(kTruncatedEthernet, "truncated_ethernet_header")            \
  X(kTruncatedLlc, "truncated_llc_header")                      \
  X(kTruncatedVlan, "truncated_vlan_header")                    \
  X(kTooManyVlanTags, "too_many_vlan_tags")                     \
  X(kTruncatedLinuxSll, "truncated_linux_sll_header")           \
  X(kTruncatedNullHeader, "truncated_null_header")              \
  X(kGroupSourceMac, "group_source_mac")                        \
  X(kZeroSourceMac, "zero_source_mac")                          \
  X(kTruncatedArp, "truncated_arp")                             \
  X(kUnsupportedArp, "unsupported_arp_format")                  \
  X(kArpSenderMismatch, "arp_sender_not_frame_source")          \
  X(kTruncatedIpv4, "truncated_ipv4_header")                    \
  X(kBadIpv4HeaderLength, "bad_ipv4_header_length")             \
  X(kBadIpv4TotalLength, "bad_ipv4_total_length")               \
  X(kIpVersionMismatch, "ip_version_mismatch")                  \
  X(kIpv4Fragment, "ipv4_fragment")                             \
  X(kTruncatedIpv6, "truncated_ipv6_header")                    \
  X(kTruncatedIpv6Extension, "truncated_ipv6_extension_header") \
  X(kTooManyIpv6Extensions, "too_many_ipv6_extension_headers")  \
  X(kIpv6Fragment, "ipv6_fragment")                             \
  X(kTruncatedTcp, "truncated_tcp_header")                      \
  X(kBadTcpDataOffset, "bad_tcp_data_offset")                   \
  X(kTruncatedUdp, "truncated_udp_header")                      \
  X(kBadUdpLength, "bad_udp_length")                            \
  X(kTruncatedIcmp, "truncated_icmp_header")                    \
  X(kMalformedNdOption, "malformed_nd_option")                  \
  X(kTruncatedGre, "truncated_gre_header")                      \
  X(kUnsupportedGre, "unsupported_gre")                         \
  X(kGreDecapsulated, "gre_decapsulated")                       \
  X(kErspanDecapsulated, "erspan_decapsulated")                 \
  X(kFragmentWithoutFirst, "fragment_without_first")            \
  X(kSnapLengthCut, "frame_cut_by_snap_length")

enum class Anomaly : uint8_t {
#define AUSCULT_ANOMALY_ENUM(id, name) id,
  AUSCULT_ANOMALIES(AUSCULT_ANOMALY_ENUM)
#undef AUSCULT_ANOMALY_ENUM
      kCount
};

inline constexpr std::array<std::string_view, static_cast<size_t>(Anomaly::kCount)> kAnomalyNames = {
#define AUSCULT_ANOMALY_NAME(id, name) name,
    AUSCULT_ANOMALIES(AUSCULT_ANOMALY_NAME)
#undef AUSCULT_ANOMALY_NAME
};

// Truncations may be the capture's snap length rather than a malformed packet.
constexpr bool IsTruncation(Anomaly a) { return kAnomalyNames[static_cast<size_t>(a)].starts_with("truncated_"); }

class AnomalyCounters {
 public:
  void Add(Anomaly a) { ++counts_[static_cast<size_t>(a)]; }
  uint64_t Get(Anomaly a) const { return counts_[static_cast<size_t>(a)]; }
  template <typename F>
  void ForEachNonZero(F&& f) const {
    for (size_t i = 0; i < counts_.size(); ++i) {
      if (counts_[i] != 0) f(kAnomalyNames[i], counts_[i]);
    }
  }

 private:
  std::array<uint64_t, static_cast<size_t>(Anomaly::kCount)> counts_{};
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_DECODE_ANOMALY_H_
