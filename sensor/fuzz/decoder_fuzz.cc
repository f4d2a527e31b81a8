// libFuzzer target for the link, network and transport decoder (sensor/decode) on its own: every
// frame a sensor captures goes through it before anything else looks at the bytes.
//
// Input: | selector (1) | frame ... |
//   selector % 8 picks the link type among the eight the decoder supports (kLinkTypes below);
//   (selector / 8) % 8 more bytes were on the wire than captured, so that headers cut by the snap
//   length are explored too.
//
// Besides what ASan/UBSan catch, the harness checks what the decoder promises in decoder.h: every
// span it returns lies inside the frame, and decoding does not depend on earlier frames (a decoder
// that has seen every previous input gives the same view as a fresh one).
//
//   cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DAUSCULT_FUZZ=ON
//   ninja -C build-fuzz decoder_fuzz
//   build-fuzz/bin/decoder_fuzz -max_total_time=600 corpus/ tests/data/fuzz-seeds/decoder_fuzz/
#include <pcap/dlt.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "sensor/decode/decoder.h"

namespace auscult::sensor {
namespace {

// Every link type IsSupportedLinkType() accepts; sensor/fuzz/make_seeds.py writes the selector
// byte from the same order.
constexpr int kLinkTypes[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
                              DLT_IPV4,   DLT_IPV6,      DLT_NULL,       DLT_LOOP};
constexpr size_t kLinkTypeCount = sizeof(kLinkTypes) / sizeof(kLinkTypes[0]);

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "decoder broke its contract: %s\n", what);
    std::abort();
  }
}

void RequireInside(std::span<const uint8_t> s, const uint8_t* data, size_t size, const char* what) {
  if (s.empty()) return;
  Require(s.data() >= data && s.data() + s.size() <= data + size, what);
}

// The fields later stages read; a difference between two decodings of one frame is a leak of state.
bool SameView(const PacketView& a, const PacketView& b) {
  return a.has_mac == b.has_mac && a.src_mac == b.src_mac && a.dst_mac == b.dst_mac && a.vlan_outer == b.vlan_outer &&
         a.vlan_inner == b.vlan_inner && a.vlan_tags == b.vlan_tags && a.ethertype == b.ethertype &&
         a.is_arp == b.is_arp && a.has_nd_binding == b.has_nd_binding && a.nd_prefix_count == b.nd_prefix_count &&
         a.has_ip == b.has_ip && a.src_ip == b.src_ip && a.dst_ip == b.dst_ip && a.ip_protocol == b.ip_protocol &&
         a.is_fragment == b.is_fragment && a.has_transport == b.has_transport && a.src_port == b.src_port &&
         a.dst_port == b.dst_port && a.tcp_header_length == b.tcp_header_length &&
         a.payload.data() == b.payload.data() && a.payload.size() == b.payload.size() &&
         a.link_payload.data() == b.link_payload.data() && a.link_payload.size() == b.link_payload.size() &&
         a.encapsulation == b.encapsulation && a.malformed == b.malformed;
}

}  // namespace
}  // namespace auscult::sensor

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace auscult::sensor;
  static const bool checked = [] {
    for (int t : kLinkTypes) Require(IsSupportedLinkType(t), "kLinkTypes lists a link type the decoder refuses");
    return true;
  }();
  (void)checked;
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  ++data;
  --size;
  RawFrame frame;
  frame.data = data;
  frame.captured_length = static_cast<uint32_t>(size);
  frame.wire_length = static_cast<uint32_t>(size) + (selector / kLinkTypeCount) % 8;
  frame.timestamp = 1700000000 * auscult::kNanosPerSecond;
  frame.link_type = kLinkTypes[selector % kLinkTypeCount];

  // One decoder for the whole run, as the engine keeps one per capture.
  static Decoder* shared = new Decoder;
  PacketView view;
  const bool decoded = shared->Decode(frame, view);

  RequireInside(view.link_payload, data, size, "link_payload outside the frame");
  RequireInside(view.tcp_options, data, size, "tcp_options outside the frame");
  RequireInside(view.payload, data, size, "payload outside the frame");
  Require(view.nd_prefix_count <= PacketView::kMaxPrefixes, "more router-advertisement prefixes than the view holds");
  Require(view.tcp_header_length == 0 || (view.tcp_header_length >= 20 && view.tcp_header_length <= 60),
          "TCP header length outside 20-60");
  Require(view.tcp_options.size() <= 40, "more than 40 bytes of TCP options");
  Require(view.vlan_outer <= 4095 && view.vlan_inner <= 4095, "VLAN id over 12 bits");
  Require(!view.has_transport || view.has_ip, "a transport header without an IP header");

  Decoder fresh;
  PacketView again;
  Require(fresh.Decode(frame, again) == decoded && SameView(view, again), "decoding depends on earlier frames");
  return 0;
}
