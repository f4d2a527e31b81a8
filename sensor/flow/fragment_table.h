#ifndef AUSCULT_SENSOR_FLOW_FRAGMENT_TABLE_H_
#define AUSCULT_SENSOR_FLOW_FRAGMENT_TABLE_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "sensor/decode/packet_view.h"

namespace auscult::sensor {

// Lets the later fragments of a datagram count towards the flow of its first fragment, which alone
// carries the ports: the first fragment's ports are remembered by (source, destination, protocol,
// identification) for a short while. Bounded: the oldest entry makes room for a new one.
class FragmentTable {
 public:
  static constexpr size_t kCapacity = 4096;
  static constexpr TimeNs kLifetime = 30 * kNanosPerSecond;  // datagrams are reassembled or lost by then

  // Call for every fragment with first_fragment set and a transport header.
  void Remember(const PacketView& first);
  // For a later fragment: fills in the ports of its first fragment. False if that was not seen
  // (lost, out of order, or too long ago).
  bool Complete(PacketView& later);

 private:
  struct Key {
    IpAddress src;
    IpAddress dst;
    uint32_t id = 0;
    uint8_t protocol = 0;
    friend bool operator==(const Key&, const Key&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.src, k.dst, k.id, k.protocol);
    }
  };
  struct Entry {
    Key key;
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
    TimeNs seen = 0;
  };
  static Key KeyOf(const PacketView& v) { return Key{v.src_ip, v.dst_ip, v.fragment_id, v.ip_protocol}; }

  std::vector<Entry> ring_;  // insertion order; slot `next_` is the oldest once full
  size_t next_ = 0;
  absl::flat_hash_map<Key, size_t> index_;
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_FLOW_FRAGMENT_TABLE_H_
