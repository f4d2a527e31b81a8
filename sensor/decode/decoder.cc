#include "sensor/decode/decoder.h"

#include <pcap/dlt.h>

#include <algorithm>

namespace auscult::sensor {
namespace {

constexpr uint16_t kEthertypeIpv4 = 0x0800;
constexpr uint16_t kEthertypeArp = 0x0806;
constexpr uint16_t kEthertypeVlan = 0x8100;     // 802.1Q
constexpr uint16_t kEthertypeQinQ = 0x88a8;     // 802.1ad service tag
constexpr uint16_t kEthertypeQinQOld = 0x9100;  // pre-standard QinQ
constexpr uint16_t kEthertypeIpv6 = 0x86dd;
constexpr int kMaxVlanTags = 4;
constexpr int kMaxIpv6ExtensionHeaders = 10;

// Linux "cooked" captures: ARPHRD_ETHER means the address field holds a MAC.
constexpr uint16_t kArphrdEther = 1;

inline uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// Hop-by-hop (0), routing (43), fragment (44), AH (51), destination options (60), mobility (135),
// HIP (139), shim6 (140). ESP (50) is not walked: what follows it is encrypted.
bool IsIpv6ExtensionHeader(uint8_t next) {
  switch (next) {
    case 0:
    case 43:
    case 44:
    case 51:
    case 60:
    case 135:
    case 139:
    case 140:
      return true;
    default:
      return false;
  }
}

bool IsVlanEthertype(uint16_t t) { return t == kEthertypeVlan || t == kEthertypeQinQ || t == kEthertypeQinQOld; }

}  // namespace

bool IsSupportedLinkType(int link_type) {
  switch (link_type) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case DLT_LOOP:
      return true;
    default:
      return false;
  }
}

const char* LinkTypeName(int link_type) {
  switch (link_type) {
    case DLT_EN10MB:
      return "Ethernet";
    case DLT_LINUX_SLL:
      return "Linux cooked (SLL)";
    case DLT_LINUX_SLL2:
      return "Linux cooked v2 (SLL2)";
    case DLT_RAW:
      return "raw IP";
    case DLT_IPV4:
      return "raw IPv4";
    case DLT_IPV6:
      return "raw IPv6";
    case DLT_NULL:
      return "BSD loopback (NULL)";
    case DLT_LOOP:
      return "OpenBSD loopback (LOOP)";
    default:
      return "unknown";
  }
}

bool Decoder::Decode(const RawFrame& frame, PacketView& view) {
  view = PacketView{};
  frame_ = &frame;
  if (!IsPlausibleTimestamp(frame.timestamp)) {
    Count(view, Anomaly::kTimestampOutOfRange);
    return false;
  }
  view.timestamp = frame.timestamp;
  view.wire_length = frame.wire_length;
  if (frame.captured_length < frame.wire_length) {
    view.cut_by_snap_length = true;
    Count(view, Anomaly::kSnapLengthCut, /*malformed=*/false);
  }
  const uint8_t* p = frame.data;
  const uint32_t n = frame.captured_length;
  switch (frame.link_type) {
    case DLT_EN10MB:
      return DecodeEthernet(p, n, view);
    case DLT_LINUX_SLL:
      return DecodeLinuxSll(p, n, view);
    case DLT_LINUX_SLL2:
      return DecodeLinuxSll2(p, n, view);
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
      // Raw IP: the version nibble says which.
      if (n < 1) {
        Count(view, Anomaly::kTruncatedIpv4);
        return false;
      }
      DecodeEthertype((p[0] >> 4) == 6 ? kEthertypeIpv6 : kEthertypeIpv4, p, n, view);
      return true;
    case DLT_NULL:
      return DecodeNull(p, n, /*network_order=*/false, view);
    case DLT_LOOP:
      return DecodeNull(p, n, /*network_order=*/true, view);
    default:
      Count(view, Anomaly::kUnsupportedLinkType, /*malformed=*/false);
      return false;
  }
}

// Ethernet II / IEEE 802.3:
//   0                   6                  12      14
//   +-------------------+-------------------+-------+----------
//   | destination MAC   | source MAC        | type  | payload
//   +-------------------+-------------------+-------+----------
// type >= 0x0600 is an EtherType; <= 1500 is an 802.3 length followed by an LLC header:
//   | DSAP | SSAP | control | (SNAP, when DSAP=SSAP=0xAA, control=3:) OUI (3) | type (2) |
bool Decoder::DecodeEthernet(const uint8_t* p, uint32_t n, PacketView& view) {
  if (n < 14) {
    Count(view, Anomaly::kTruncatedEthernet);
    return false;
  }
  view.dst_mac = MacAddress::FromBytes(p);
  view.src_mac = MacAddress::FromBytes(p + 6);
  view.has_mac = true;
  view.has_dst_mac = true;
  if (view.src_mac.IsGroup()) Count(view, Anomaly::kGroupSourceMac);
  // Loopback captures carry all-zero MACs; elsewhere it is odd, but not malformed.
  if (view.src_mac.IsZero()) Count(view, Anomaly::kZeroSourceMac, /*malformed=*/false);
  const uint16_t type = Be16(p + 12);
  DecodeEthertype(type, p + 14, n - 14, view);
  return true;
}

// IEEE 802.2 LLC, and SNAP inside it:
//   | DSAP | SSAP | control | (SNAP, when DSAP=SSAP=0xAA, control=3:) OUI (3) | protocol (2) |
void Decoder::DecodeLlc(const uint8_t* llc, uint32_t left, PacketView& view) {
  if (left < 3) {
    Count(view, Anomaly::kTruncatedLlc);
    return;
  }
  if (llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03) {
    view.link_payload = {llc, left};  // plain LLC (spanning tree, ...)
    return;
  }
  if (left < 8) {
    Count(view, Anomaly::kTruncatedLlc);
    return;
  }
  // SNAP with OUI 0 carries an EtherType; other OUIs (CDP is 00:00:0c/0x2000) are vendor protocols
  // that frame parsers read from the link layer.
  if (llc[3] == 0 && llc[4] == 0 && llc[5] == 0) {
    DecodeEthertype(Be16(llc + 6), llc + 8, left - 8, view);
  } else {
    view.snap_oui = static_cast<uint32_t>(llc[3]) << 16 | llc[4] << 8 | llc[5];
    view.snap_protocol = Be16(llc + 6);
    view.link_payload = {llc + 8, left - 8};
  }
}

// Linux cooked capture v1 (16 bytes):
//   | packet type (2) | ARPHRD type (2) | address length (2) | address (8) | protocol (2) |
// The address is the sender's link-layer address.
bool Decoder::DecodeLinuxSll(const uint8_t* p, uint32_t n, PacketView& view) {
  if (n < 16) {
    Count(view, Anomaly::kTruncatedLinuxSll);
    return false;
  }
  if (Be16(p + 2) == kArphrdEther && Be16(p + 4) == 6) {
    view.src_mac = MacAddress::FromBytes(p + 6);
    view.has_mac = true;
  }
  DecodeEthertype(Be16(p + 14), p + 16, n - 16, view);
  return true;
}

// Linux cooked capture v2 (20 bytes):
//   | protocol (2) | reserved (2) | interface index (4) | ARPHRD type (2) | packet type (1) |
//   | address length (1) | address (8) |
bool Decoder::DecodeLinuxSll2(const uint8_t* p, uint32_t n, PacketView& view) {
  if (n < 20) {
    Count(view, Anomaly::kTruncatedLinuxSll);
    return false;
  }
  if (Be16(p + 8) == kArphrdEther && p[11] == 6) {
    view.src_mac = MacAddress::FromBytes(p + 12);
    view.has_mac = true;
  }
  DecodeEthertype(Be16(p), p + 20, n - 20, view);
  return true;
}

// BSD loopback: a 4-byte address family, in host byte order of the capturing machine (NULL) or in
// network order (LOOP). AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24, 28 or 30 (BSDs).
bool Decoder::DecodeNull(const uint8_t* p, uint32_t n, bool network_order, PacketView& view) {
  if (n < 4) {
    Count(view, Anomaly::kTruncatedNullHeader);
    return false;
  }
  uint32_t family;
  if (network_order) {
    family = static_cast<uint32_t>(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3];
  } else {
    // The writer's byte order is unknown; the family is small, so whichever end holds it wins.
    family =
        (p[0] | p[1] << 8) != 0 ? static_cast<uint32_t>(p[0] | p[1] << 8) : static_cast<uint32_t>(p[2] << 8 | p[3]);
  }
  if (family == 2) {
    DecodeEthertype(kEthertypeIpv4, p + 4, n - 4, view);
  } else if (family == 10 || family == 24 || family == 28 || family == 30) {
    DecodeEthertype(kEthertypeIpv6, p + 4, n - 4, view);
  }
  return true;
}

// 802.1Q / 802.1ad tag (4 bytes after the MAC addresses, before the inner EtherType):
//   | TPID 0x8100/0x88a8 (2, already read as the type) | PCP (3 bits) DEI (1) VID (12) | type (2) |
void Decoder::DecodeEthertype(uint16_t ethertype, const uint8_t* p, uint32_t n, PacketView& view) {
  while (IsVlanEthertype(ethertype)) {
    if (n < 4) {
      Count(view, Anomaly::kTruncatedVlan);
      return;
    }
    const uint16_t vid = Be16(p) & 0x0fff;
    if (view.vlan_tags == 0) {
      view.vlan_outer = vid;
    } else if (view.vlan_tags == 1) {
      view.vlan_inner = vid;
    }
    if (++view.vlan_tags > kMaxVlanTags) {
      Count(view, Anomaly::kTooManyVlanTags);
      return;
    }
    ethertype = Be16(p + 2);
    p += 4;
    n -= 4;
  }
  if (ethertype <= 1500) {  // an 802.3 length (also inside a VLAN tag): an LLC header follows
    DecodeLlc(p, n, view);
    return;
  }
  view.ethertype = ethertype;
  switch (ethertype) {
    case kEthertypeIpv4:
      DecodeIpv4(p, n, view);
      break;
    case kEthertypeIpv6:
      DecodeIpv6(p, n, view);
      break;
    case kEthertypeArp:
      DecodeArp(p, n, view);
      break;
    default:
      view.link_payload = {p, n};  // LLDP, EAPOL, ...: for the frame parsers
      break;
  }
}

// ARP for Ethernet/IPv4 (RFC 826):
//   | htype=1 (2) | ptype=0x0800 (2) | hlen=6 | plen=4 | operation (2) |
//   | sender MAC (6) | sender IP (4) | target MAC (6) | target IP (4) |
void Decoder::DecodeArp(const uint8_t* p, uint32_t n, PacketView& view) {
  if (n < 8) {
    Count(view, Anomaly::kTruncatedArp);
    return;
  }
  if (Be16(p) != 1 || Be16(p + 2) != kEthertypeIpv4 || p[4] != 6 || p[5] != 4) {
    Count(view, Anomaly::kUnsupportedArp);
    return;
  }
  if (n < 28) {
    Count(view, Anomaly::kTruncatedArp);
    return;
  }
  view.is_arp = true;
  view.arp_operation = Be16(p + 6);
  view.arp_sender_mac = MacAddress::FromBytes(p + 8);
  view.arp_sender_ip = IpAddress::V4(p + 14);
  view.arp_target_ip = IpAddress::V4(p + 24);
  if (view.has_mac && view.arp_sender_mac != view.src_mac) Count(view, Anomaly::kArpSenderMismatch, false);
}

// IPv4 (RFC 791):
//   |Version|  IHL  |Type of Service|          Total Length         |
//   |         Identification        |Flags|      Fragment Offset    |
//   |  Time to Live |    Protocol   |         Header Checksum       |
//   |                       Source Address                          |
//   |                    Destination Address                        |
//   |                    Options (IHL > 5)          |    Padding    |
void Decoder::DecodeIpv4(const uint8_t* p, uint32_t n, PacketView& view) {
  if (n < 20) {
    Count(view, Anomaly::kTruncatedIpv4);
    return;
  }
  if ((p[0] >> 4) != 4) {
    Count(view, Anomaly::kIpVersionMismatch);
    return;
  }
  const uint32_t header_length = (p[0] & 0x0f) * 4u;
  if (header_length < 20 || header_length > n) {
    Count(view, header_length < 20 ? Anomaly::kBadIpv4HeaderLength : Anomaly::kTruncatedIpv4);
    return;
  }
  uint32_t total_length = Be16(p + 2);
  // Captures taken on a host with segmentation offload may show 0; use what was captured then.
  if (total_length == 0) {
    total_length = n;
  } else if (total_length < header_length) {
    Count(view, Anomaly::kBadIpv4TotalLength);
    return;
  }
  view.has_ip = true;
  view.src_ip = IpAddress::V4(p + 12);
  view.dst_ip = IpAddress::V4(p + 16);
  view.ip_protocol = p[9];
  view.ttl = p[8];
  const uint16_t fragment = Be16(p + 6);
  const bool more_fragments = (fragment & 0x2000) != 0;
  const uint16_t offset = fragment & 0x1fff;
  if (more_fragments || offset != 0) {
    view.is_fragment = true;
    view.first_fragment = offset == 0;
    view.fragment_id = Be16(p + 4);
    Count(view, Anomaly::kIpv4Fragment, /*malformed=*/false);
    if (offset != 0) return;  // No transport header in later fragments: the flow table finds it.
  }
  // Ethernet pads short frames: the datagram ends at total_length, not at the end of the frame.
  const uint32_t end = std::min(total_length, n);
  DecodeTransport(p + header_length, end - header_length, view);
}

// IPv6 (RFC 8200): 40-byte fixed header, then a chain of extension headers.
//   |Version| Traffic Class |           Flow Label                  |
//   |         Payload Length        |  Next Header  |   Hop Limit   |
//   |                Source Address (16)  |  Destination Address (16)   |
void Decoder::DecodeIpv6(const uint8_t* p, uint32_t n, PacketView& view) {
  if (n < 40) {
    Count(view, Anomaly::kTruncatedIpv6);
    return;
  }
  if ((p[0] >> 4) != 6) {
    Count(view, Anomaly::kIpVersionMismatch);
    return;
  }
  view.has_ip = true;
  view.src_ip = IpAddress::V6(p + 8);
  view.dst_ip = IpAddress::V6(p + 24);
  view.ttl = p[7];
  const uint32_t payload_length = Be16(p + 4);
  // Jumbograms (payload length 0 with a hop-by-hop option) and offload captures: use the frame.
  uint32_t end = payload_length == 0 ? n : std::min<uint32_t>(40 + payload_length, n);
  uint8_t next = p[6];
  uint32_t off = 40;
  for (int i = 0;; ++i) {
    view.ip_protocol = next;
    if (!IsIpv6ExtensionHeader(next)) {
      DecodeTransport(p + off, end - off, view);
      return;
    }
    if (i == kMaxIpv6ExtensionHeaders) {
      Count(view, Anomaly::kTooManyIpv6Extensions);
      return;
    }
    // Every extension header starts | next header | length |; the fragment header has 8 fixed bytes:
    //   | next | reserved | offset (13 bits) res M | identification (4) |
    const bool fragment = next == 44;
    if (end - off < (fragment ? 8u : 2u)) {
      Count(view, Anomaly::kTruncatedIpv6Extension);
      return;
    }
    uint32_t length;
    if (fragment) {
      view.is_fragment = true;
      view.fragment_id = static_cast<uint32_t>(p[off + 4]) << 24 | p[off + 5] << 16 | p[off + 6] << 8 | p[off + 7];
      view.first_fragment = (Be16(p + off + 2) >> 3) == 0;
      Count(view, Anomaly::kIpv6Fragment, /*malformed=*/false);
      if (!view.first_fragment) {  // a later fragment: no transport header in it
        view.ip_protocol = p[off];
        return;
      }
      length = 8;
    } else if (next == 51) {  // authentication header: length in 4-byte units, minus 2
      length = (p[off + 1] + 2u) * 4;
    } else {  // length in 8-byte units, not counting the first 8
      length = (p[off + 1] + 1u) * 8;
    }
    if (length > end - off) {
      Count(view, Anomaly::kTruncatedIpv6Extension);
      return;
    }
    next = p[off];
    off += length;
  }
}

// TCP (RFC 9293): | src port | dst port | seq (4) | ack (4) | offset/flags (2) | window | ... |
// UDP (RFC 768):  | src port | dst port | length | checksum |
// ICMP/ICMPv6:    | type | code | checksum | ...
void Decoder::DecodeTransport(const uint8_t* p, uint32_t n, PacketView& view) {
  switch (view.ip_protocol) {
    case kIpProtoTcp: {
      if (n < 4) {
        Count(view, Anomaly::kTruncatedTcp);
        return;
      }
      view.src_port = Be16(p);
      view.dst_port = Be16(p + 2);
      view.has_transport = true;
      if (n < 20) {
        // Ports are known, so the flow is; flags only when their byte is present.
        if (n >= 14) view.tcp_flags = p[13];
        Count(view, Anomaly::kTruncatedTcp);
        return;
      }
      view.tcp_flags = p[13];
      view.tcp_seq = static_cast<uint32_t>(p[4]) << 24 | p[5] << 16 | p[6] << 8 | p[7];
      const uint32_t data_offset = (p[12] >> 4) * 4u;
      if (data_offset < 20) {
        Count(view, Anomaly::kBadTcpDataOffset);
        return;
      }
      view.tcp_window = Be16(p + 14);
      view.tcp_options = {p + 20, std::min(data_offset, n) - 20};
      // The header is all there, or the capture (not the sender) cut its end.
      if (data_offset <= n || view.cut_by_snap_length) view.tcp_header_length = static_cast<uint8_t>(data_offset);
      if (data_offset <= n) view.payload = {p + data_offset, n - data_offset};
      return;
    }
    case kIpProtoUdp: {
      if (n < 8) {
        if (n >= 4) {
          view.src_port = Be16(p);
          view.dst_port = Be16(p + 2);
          view.has_transport = true;
        }
        Count(view, Anomaly::kTruncatedUdp);
        return;
      }
      view.src_port = Be16(p);
      view.dst_port = Be16(p + 2);
      view.has_transport = true;
      const uint32_t length = Be16(p + 4);
      if (length < 8) {
        // 0 is legal for jumbograms; anything else below the header size is not.
        if (length != 0) Count(view, Anomaly::kBadUdpLength);
        view.payload = {p + 8, n - 8};
        return;
      }
      view.payload = {p + 8, std::min(length, n) - 8};
      return;
    }
    case kIpProtoGre:
      DecodeGre(p, n, view);
      return;
    case kIpProtoIcmp:
    case kIpProtoIcmpv6:
      if (n < 2) {
        Count(view, Anomaly::kTruncatedIcmp);
        return;
      }
      view.icmp_type = p[0];
      view.icmp_code = p[1];
      view.has_transport = true;
      if (n > 4) view.payload = {p + 4, n - 4};
      if (view.ip_protocol == kIpProtoIcmpv6 && view.icmp_type >= 133 && view.icmp_type <= 136) {
        DecodeNeighborDiscovery(p, n, view);
      }
      return;
    default:
      view.payload = {p, n};
      return;
  }
}

// GRE (RFC 2784, 2890), and ERSPAN (a switch's remote SPAN session) inside it:
//   | C . K S . . . . . . . . . version (3) | protocol type (2) | [checksum, reserved (4) if C]
//   | [key (4) if K] | [sequence (4) if S] | payload
// Protocol 0x6558 carries an Ethernet frame, 0x0800/0x86dd an IP packet. ERSPAN type I (0x88be
// without S) carries Ethernet directly; type II (0x88be) adds an 8-byte header; type III (0x22eb)
// a 12-byte header, and 8 more bytes of platform data when its last bit (O) is set.
// What a sensor fed by ERSPAN wants is the mirrored frame, so decoding starts over on it.
void Decoder::DecodeGre(const uint8_t* p, uint32_t n, PacketView& view) {
  if (n < 4) {
    Count(view, Anomaly::kTruncatedGre);
    return;
  }
  const uint16_t flags = Be16(p);
  const uint16_t protocol = Be16(p + 2);
  if ((flags & 0x7) != 0 || depth_ >= 2) {  // version 1 is PPTP's enhanced GRE; nesting is bounded
    Count(view, Anomaly::kUnsupportedGre, /*malformed=*/false);
    return;
  }
  uint32_t off = 4 + ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) + ((flags & 0x1000) ? 4 : 0);
  bool ethernet = false;
  uint16_t ethertype = 0;
  uint8_t kind = 1;
  switch (protocol) {
    case 0x6558:
      ethernet = true;
      break;
    case 0x0800:
    case 0x86dd:
      ethertype = protocol;
      break;
    case 0x88be:
      ethernet = true;
      kind = 2;
      if (flags & 0x1000) off += 8;  // type II header; type I has none
      break;
    case 0x22eb:
      ethernet = true;
      kind = 2;
      if (n >= off + 12 && (p[off + 11] & 0x01)) off += 8;
      off += 12;
      break;
    default:
      Count(view, Anomaly::kUnsupportedGre, /*malformed=*/false);
      return;
  }
  if (n < off) {
    Count(view, Anomaly::kTruncatedGre);
    return;
  }
  // Start over on the inner frame; keep only what describes the capture itself.
  const uint8_t* inner = p + off;
  const uint32_t inner_length = n - off;
  const uint32_t outer_bytes = static_cast<uint32_t>(inner - frame_->data);
  PacketView fresh;
  fresh.timestamp = view.timestamp;
  fresh.wire_length = frame_->wire_length > outer_bytes ? frame_->wire_length - outer_bytes : inner_length;
  fresh.cut_by_snap_length = view.cut_by_snap_length;
  fresh.malformed = view.malformed;
  fresh.encapsulation = kind;
  view = fresh;
  Count(view, kind == 2 ? Anomaly::kErspanDecapsulated : Anomaly::kGreDecapsulated, /*malformed=*/false);
  ++depth_;
  if (ethernet) {
    DecodeEthernet(inner, inner_length, view);
  } else {
    DecodeEthertype(ethertype, inner, inner_length, view);
  }
  --depth_;
}

// IPv6 neighbor discovery (RFC 4861): which MAC an IPv6 address lives at, and which prefixes are
// on-link. Fixed parts before the options:
//   133 router solicitation:    | type | code | checksum | reserved (4) |
//   134 router advertisement:   | type | code | checksum | hop limit | flags | lifetime (2) |
//                               | reachable time (4) | retransmit timer (4) |
//   135 neighbor solicitation:  | type | code | checksum | reserved (4) | target address (16) |
//   136 neighbor advertisement: | type | code | checksum | flags (4) | target address (16) |
// Options: | type | length in 8-byte units (0 is invalid) | value |; 1 = source link-layer address,
// 2 = target link-layer address, 3 = prefix information:
//   | 3 | 4 | prefix length | flags (L=0x80) | valid (4) | preferred (4) | reserved (4) | prefix (16) |
void Decoder::DecodeNeighborDiscovery(const uint8_t* p, uint32_t n, PacketView& view) {
  const uint8_t type = p[0];
  const uint32_t fixed = type == 133 ? 8 : type == 134 ? 16 : 24;
  if (n < fixed) {
    Count(view, Anomaly::kTruncatedIcmp);
    return;
  }
  bool has_source = false;
  bool has_target = false;
  MacAddress source, target;
  for (uint32_t off = fixed; off + 2 <= n;) {
    const uint32_t length = p[off + 1] * 8u;
    if (length == 0 || length > n - off) {
      Count(view, Anomaly::kMalformedNdOption);
      break;
    }
    const uint8_t option = p[off];
    if ((option == 1 || option == 2) && length == 8) {  // an Ethernet address: 6 bytes, padded
      (option == 1 ? source : target) = MacAddress::FromBytes(p + off + 2);
      (option == 1 ? has_source : has_target) = true;
    } else if (option == 3 && length == 32 && (p[off + 3] & 0x80) != 0 &&
               view.nd_prefix_count < PacketView::kMaxPrefixes) {
      view.nd_prefix_lengths[view.nd_prefix_count] = std::min<uint8_t>(p[off + 2], 128);
      view.nd_prefixes[view.nd_prefix_count++] = IpAddress::V6(p + off + 16);
    }
    off += length;
  }
  if (type == 136) {
    // The target announces itself: at its target link-layer address, else at the frame's source.
    if (has_target || view.has_mac) {
      view.has_nd_binding = true;
      view.nd_ip = IpAddress::V6(p + 8);
      view.nd_mac = has_target ? target : view.src_mac;
    }
  } else if (has_source && !view.src_ip.IsUnspecified()) {
    // Solicitations and advertisements name their sender (:: is duplicate address detection).
    view.has_nd_binding = true;
    view.nd_ip = view.src_ip;
    view.nd_mac = source;
  }
}

}  // namespace auscult::sensor
