#ifndef AUSCULT_SENSOR_DECODE_DECODER_H_
#define AUSCULT_SENSOR_DECODE_DECODER_H_

#include "sensor/capture/raw_frame.h"
#include "sensor/decode/anomaly.h"
#include "sensor/decode/packet_view.h"

namespace auscult::sensor {

// Capture times outside 1970-2100 come from a broken clock or a corrupt file; the collector would
// refuse the batch that carries them, so such frames are counted and go no further.
constexpr bool IsPlausibleTimestamp(TimeNs t) { return t >= 0 && t < 4102444800LL * kNanosPerSecond; }

// Link types (DLT_* values) the decoder understands.
bool IsSupportedLinkType(int link_type);
const char* LinkTypeName(int link_type);

// Decodes link, network and transport headers of untrusted frames. Stateless apart from its
// anomaly counters; never throws, never allocates, never reads outside the frame.
class Decoder {
 public:
  // Fills `view` from `frame`. Returns false when not even the link layer could be decoded (the
  // frame is then only counted). Malformed upper layers are counted and decoding stops there.
  bool Decode(const RawFrame& frame, PacketView& view);

  const AnomalyCounters& anomalies() const { return anomalies_; }
  // For stages after decoding that find something amiss (e.g. a fragment without its first).
  void CountAnomaly(Anomaly a) { anomalies_.Add(a); }

 private:
  void Count(PacketView& view, Anomaly a, bool malformed = true) {
    anomalies_.Add(a);
    // A header cut short by the capture's snap length is the capture's doing, not the sender's.
    if (view.cut_by_snap_length && IsTruncation(a)) malformed = false;
    view.malformed |= malformed;
  }
  bool DecodeEthernet(const uint8_t* p, uint32_t n, PacketView& view);
  bool DecodeLinuxSll(const uint8_t* p, uint32_t n, PacketView& view);
  bool DecodeLinuxSll2(const uint8_t* p, uint32_t n, PacketView& view);
  bool DecodeNull(const uint8_t* p, uint32_t n, bool network_order, PacketView& view);
  void DecodeEthertype(uint16_t ethertype, const uint8_t* p, uint32_t n, PacketView& view);
  void DecodeLlc(const uint8_t* p, uint32_t n, PacketView& view);
  void DecodeArp(const uint8_t* p, uint32_t n, PacketView& view);
  void DecodeIpv4(const uint8_t* p, uint32_t n, PacketView& view);
  void DecodeIpv6(const uint8_t* p, uint32_t n, PacketView& view);
  void DecodeTransport(const uint8_t* p, uint32_t n, PacketView& view);
  void DecodeNeighborDiscovery(const uint8_t* p, uint32_t n, PacketView& view);
  void DecodeGre(const uint8_t* p, uint32_t n, PacketView& view);

  AnomalyCounters anomalies_;
  const RawFrame* frame_ = nullptr;  // the frame being decoded
  int depth_ = 0;                    // GRE nesting
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_DECODE_DECODER_H_
