#include "sensor/flow/fragment_table.h"

namespace auscult::sensor {

void FragmentTable::Remember(const PacketView& first) {
  const Key key = KeyOf(first);
  if (auto it = index_.find(key); it != index_.end()) {
    Entry& e = ring_[it->second];
    e.src_port = first.src_port;
    e.dst_port = first.dst_port;
    e.seen = first.timestamp;
    return;
  }
  if (ring_.size() < kCapacity) {
    ring_.push_back({});
    next_ = ring_.size() - 1;
  } else {
    index_.erase(ring_[next_].key);  // the oldest goes
  }
  ring_[next_] = Entry{key, first.src_port, first.dst_port, first.timestamp};
  index_[key] = next_;
  next_ = (next_ + 1) % kCapacity;
}

bool FragmentTable::Complete(PacketView& later) {
  auto it = index_.find(KeyOf(later));
  if (it == index_.end()) return false;
  const Entry& e = ring_[it->second];
  if (later.timestamp - e.seen > kLifetime || e.seen - later.timestamp > kLifetime) return false;
  later.src_port = e.src_port;
  later.dst_port = e.dst_port;
  later.has_transport = true;
  return true;
}

}  // namespace auscult::sensor
