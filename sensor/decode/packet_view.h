#ifndef AUSCULT_SENSOR_DECODE_PACKET_VIEW_H_
#define AUSCULT_SENSOR_DECODE_PACKET_VIEW_H_

#include <cstdint>
#include <span>

#include "common/ip_address.h"
#include "common/mac_address.h"
#include "common/time.h"

namespace auscult::sensor {

// IANA IP protocol numbers the sensor treats specially.
inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoGre = 47;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;

// TCP flag bits as in the header's flags byte.
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpAck = 0x10;

// The decoded headers of one frame: plain fields plus a span of the transport payload. Zero-copy:
// spans point into the RawFrame's bytes and are valid only as long as those are.
struct PacketView {
  TimeNs timestamp = 0;
  uint32_t wire_length = 0;

  // Link layer. has_mac is false for link types without MAC addresses (raw IP, loopback).
  bool has_mac = false;
  bool has_dst_mac = false;
  MacAddress src_mac;
  MacAddress dst_mac;
  uint16_t vlan_outer = 0;  // 802.1Q/802.1ad VLAN id of the outer tag, 0 if untagged
  uint16_t vlan_inner = 0;  // inner tag of QinQ
  uint8_t vlan_tags = 0;
  uint16_t ethertype = 0;  // after VLAN tags and LLC/SNAP; 0 for non-SNAP 802.3 frames
  // Link-layer protocols other than IP and ARP: a SNAP header's organisation code and protocol
  // (CDP is 00:00:0c / 0x2000), and the bytes after the EtherType or LLC/SNAP header.
  uint32_t snap_oui = 0;
  uint16_t snap_protocol = 0;
  std::span<const uint8_t> link_payload;

  // ARP (Ethernet/IPv4 only).
  bool is_arp = false;
  uint16_t arp_operation = 0;  // 1 request, 2 reply
  MacAddress arp_sender_mac;
  IpAddress arp_sender_ip;
  IpAddress arp_target_ip;

  // IPv6 neighbor discovery (ICMPv6 133-136): an IPv6 address and the MAC it is announced at.
  bool has_nd_binding = false;
  IpAddress nd_ip;
  MacAddress nd_mac;
  // On-link prefixes announced in a router advertisement (prefix information, L flag set).
  static constexpr int kMaxPrefixes = 4;
  uint8_t nd_prefix_count = 0;
  IpAddress nd_prefixes[kMaxPrefixes];
  uint8_t nd_prefix_lengths[kMaxPrefixes] = {};

  // Network layer.
  bool has_ip = false;
  IpAddress src_ip;
  IpAddress dst_ip;
  uint8_t ip_protocol = 0;  // after IPv6 extension headers
  uint8_t ttl = 0;          // TTL or hop limit
  bool is_fragment = false;
  bool first_fragment = false;  // the fragment that carries the transport header (offset 0)
  uint32_t fragment_id = 0;     // IPv4 identification or IPv6 fragment header identification
  bool has_transport = false;   // false for non-first fragments and truncated transport headers

  // Transport layer.
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t tcp_flags = 0;
  uint32_t tcp_seq = 0;
  uint16_t tcp_window = 0;  // as sent (unscaled)
  // The TCP header's length from its data offset (20-60); 0 when the IP packet does not hold it
  // whole or the offset is invalid. Its option bytes as captured: fewer than tcp_header_length - 20
  // when the snap length cut them.
  uint8_t tcp_header_length = 0;
  std::span<const uint8_t> tcp_options;
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;
  std::span<const uint8_t> payload;  // transport payload as captured (may be cut by snap length)

  bool cut_by_snap_length = false;  // captured length < wire length
  // How the frame reached us: 0 directly; 1 inside GRE; 2 inside ERSPAN (a remote SPAN session).
  // Decoded fields are those of the innermost (mirrored) frame.
  uint8_t encapsulation = 0;
  // Set when any malformation was counted while decoding this frame.
  bool malformed = false;
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_DECODE_PACKET_VIEW_H_
