#include "sensor/inventory/device_table.h"

#include <algorithm>

namespace auscult::sensor {
namespace {

// Addresses that never identify the host that sends them.
bool IsBindableUnicast(const IpAddress& ip) {
  return ip.IsSet() && !ip.IsUnspecified() && !ip.IsMulticast() && !ip.IsLimitedBroadcast();
}

// The TTLs (hop limits) operating systems start packets with: Linux, macOS and phones 64, Windows
// 128, network equipment 255, older stacks 32 or 60; 1 for link-local protocols.
bool IsInitialTtl(uint8_t ttl) { return ttl == 64 || ttl == 128 || ttl == 255 || ttl == 32 || ttl == 60 || ttl == 1; }

}  // namespace

DeviceTable::DeviceTable(const DeviceTableOptions& options, const OuiDatabase* oui) : options_(options), oui_(oui) {}

void DeviceTable::Update(const PacketView& v) {
  // Only a frame's source MAC says that a device exists; group and all-zero MACs never do.
  if (!v.has_mac || v.src_mac.IsGroup() || v.src_mac.IsZero()) return;
  Device* found = Find(v.src_mac, /*create=*/true);
  if (found == nullptr) return;
  Device& d = *found;
  if (!d.in_window) {
    d.in_window = true;
    d.first_seen = v.timestamp;
    d.last_seen = v.timestamp;
  }
  d.first_seen = std::min(d.first_seen, v.timestamp);
  d.last_seen = std::max(d.last_seen, v.timestamp);
  d.last_seen_ever = std::max(d.last_seen_ever, v.timestamp);
  ++d.packets;
  d.bytes += v.wire_length;
  if (std::find(d.vlans.begin(), d.vlans.end(), v.vlan_outer) == d.vlans.end() && d.vlans.size() < 16) {
    d.vlans.push_back(v.vlan_outer);
  }
  if (v.is_arp) {
    // The ARP sender pair binds an IPv4 address to the MAC, but only when the frame came from that
    // MAC (a proxy ARP answer speaks for someone else). 0.0.0.0 is an address probe.
    if (v.arp_sender_mac == v.src_mac && IsBindableUnicast(v.arp_sender_ip)) {
      BindAddress(d, v.arp_sender_ip, AddressSource::kArp, v.timestamp);
    }
    return;
  }
  // Neighbor discovery does for IPv6 what ARP does for IPv4, with the same caution.
  if (v.has_nd_binding && v.nd_mac == v.src_mac && IsBindableUnicast(v.nd_ip)) {
    BindAddress(d, v.nd_ip, AddressSource::kNdp, v.timestamp);
  }
  for (int i = 0; i < v.nd_prefix_count; ++i) LearnPrefix(Cidr::Of(v.nd_prefixes[i], v.nd_prefix_lengths[i]));
  if (v.has_ip && IsBindableUnicast(v.src_ip)) {
    NoteSource(v.src_mac, d, v);
    BindAddress(d, v.src_ip, AddressSource::kTraffic, v.timestamp);
  }
}

DeviceTable::Device* DeviceTable::Find(const MacAddress& mac, bool create) {
  auto it = devices_.find(mac);
  if (it != devices_.end()) return &it->second;
  if (!create || mac.IsGroup() || mac.IsZero()) return nullptr;
  if (devices_.size() + remote_.size() >= options_.max_devices) {
    ++stats_.devices_not_tracked;
    return nullptr;
  }
  it = devices_.emplace(mac, Device{}).first;
  ++stats_.devices_seen;
  if (oui_ != nullptr) it->second.vendor = std::string(oui_->Lookup(mac));
  it->second.routes_traffic = known_routers_.contains(mac);
  return &it->second;
}

void DeviceTable::AddFact(std::vector<FactRecord>& facts, const Fact& fact, TimeNs ts, const IpAddress& via) {
  for (FactRecord& f : facts) {
    if (f.attribute == fact.attribute && f.value == fact.value && f.protocol == fact.protocol &&
        f.field == fact.field && f.via_ip == via) {
      f.first_seen = std::min(f.first_seen, ts);
      f.last_seen = std::max(f.last_seen, ts);
      ++f.count;
      f.confidence = std::max(f.confidence, fact.confidence);
      return;
    }
  }
  if (facts.size() >= kMaxFactsPerWindow) {
    ++stats_.facts_dropped;
    return;
  }
  facts.push_back(
      FactRecord{fact.attribute, std::string(fact.value), fact.protocol, fact.field, fact.confidence, ts, ts, 1, via});
}

void DeviceTable::MergeFact(std::vector<FactRecord>& facts, const FactRecord& fact) {
  for (FactRecord& f : facts) {
    if (f.attribute == fact.attribute && f.value == fact.value && f.protocol == fact.protocol &&
        f.field == fact.field && f.via_ip == fact.via_ip) {
      f.first_seen = std::min(f.first_seen, fact.first_seen);
      f.last_seen = std::max(f.last_seen, fact.last_seen);
      f.count += fact.count;
      f.confidence = std::max(f.confidence, fact.confidence);
      return;
    }
  }
  if (facts.size() >= kMaxFactsPerWindow) {
    ++stats_.facts_dropped;
    return;
  }
  facts.push_back(fact);
}

void DeviceTable::OnAddressFact(const IpAddress& ip, const Fact& fact, TimeNs ts) {
  if (fact.value.empty()) return;
  if (!IsBindableUnicast(ip)) {
    ++stats_.facts_dropped;
    return;
  }
  auto it = address_facts_.find(ip);
  if (it == address_facts_.end()) {
    if (address_facts_.size() >= kMaxFactAddresses) {
      ++stats_.facts_dropped;
      return;
    }
    it = address_facts_.emplace(ip, PendingFacts{}).first;
  }
  AddFact(it->second.facts, fact, ts, IpAddress{});
}

void DeviceTable::PlaceAddressFacts() {
  if (address_facts_.empty()) return;
  // Who holds which address, as this window saw it: what a MAC announced (ARP, ND, DHCP, LLDP) or
  // sent from as its own; never a router's forwarded sources.
  absl::flat_hash_map<IpAddress, Device*> holders;
  for (auto& [mac, d] : devices_) {
    if (!d.in_window) continue;
    for (const AddressRecord& a : d.addresses) {
      if (a.source != AddressSource::kTraffic || AddressLocality(d, a.ip) == Locality::kLocal) {
        holders.emplace(a.ip, &d);
      }
    }
  }
  for (auto it = address_facts_.begin(); it != address_facts_.end();) {
    const IpAddress& ip = it->first;
    const std::vector<FactRecord>& facts = it->second.facts;
    std::vector<FactRecord>* target = nullptr;
    if (auto h = holders.find(ip); h != holders.end()) {
      target = &h->second->facts;
    } else if (auto r = remote_.find(ip); r != remote_.end()) {
      RemoteDevice& remote = r->second;
      if (!remote.in_window) {
        remote.in_window = true;
        remote.first_seen = facts.front().first_seen;
        remote.last_seen = facts.front().last_seen;
      }
      for (const FactRecord& f : facts) {
        remote.first_seen = std::min(remote.first_seen, f.first_seen);
        remote.last_seen = std::max(remote.last_seen, f.last_seen);
        remote.last_seen_ever = std::max(remote.last_seen_ever, f.last_seen);
      }
      target = &remote.facts;
    }
    if (target == nullptr && !it->second.carried) {
      // A client usually connects right after the answer: the device may appear in the next window.
      it->second.carried = true;
      ++it;
      continue;
    }
    if (target == nullptr) {
      stats_.address_facts_unplaced += facts.size();
    } else {
      for (const FactRecord& f : facts) MergeFact(*target, f);
    }
    address_facts_.erase(it++);
  }
}

DeviceTable::RemoteDevice* DeviceTable::FindRemote(const IpAddress& ip) {
  auto it = remote_.find(ip);
  if (it != remote_.end()) return &it->second;
  if (devices_.size() + remote_.size() >= options_.max_devices) {
    ++stats_.devices_not_tracked;
    return nullptr;
  }
  ++stats_.remote_devices_seen;
  return &remote_.emplace(ip, RemoteDevice{}).first->second;
}

void DeviceTable::OnFact(const MacAddress* mac, const IpAddress& ip, const Fact& fact, TimeNs ts) {
  if (fact.value.empty()) return;
  if (mac != nullptr) {
    // A message that names a MAC by itself (DHCP's client behind a relay) makes it a device: the
    // network told us it exists. A frame's MAC without its own frames does not (a router's).
    if (Device* found = Find(*mac, /*create=*/!ip.IsSet())) {
      Device& d = *found;
      // A router's MAC carries the traffic of the hosts behind it: only facts about its own
      // addresses are its own.
      if (!ip.IsSet() || IsOwnAddress(d, ip)) {
        if (!d.in_window) {  // a fact alone puts the device in the window (e.g. a late parser result)
          d.in_window = true;
          d.first_seen = d.last_seen = ts;
        }
        AddFact(d.facts, fact, ts, ip);
        return;
      }
    } else if (!ip.IsSet()) {
      ++stats_.facts_dropped;  // the table is full
      return;
    }
  }
  if (!ip.IsSet() || ip.IsUnspecified() || ip.IsMulticast() || ip.IsLimitedBroadcast()) {
    ++stats_.facts_dropped;
    return;
  }
  RemoteDevice* found = FindRemote(ip);
  if (found == nullptr) return;
  RemoteDevice& r = *found;
  if (!r.in_window) {
    r.in_window = true;
    r.first_seen = r.last_seen = ts;
  }
  r.first_seen = std::min(r.first_seen, ts);
  r.last_seen = std::max(r.last_seen, ts);
  r.last_seen_ever = std::max(r.last_seen_ever, ts);
  AddFact(r.facts, fact, ts, IpAddress{});
}

void DeviceTable::OnBinding(const MacAddress& mac, const IpAddress& ip, AddressSource source, TimeNs ts) {
  if (!IsBindableUnicast(ip)) return;
  Device* d = Find(mac, /*create=*/true);
  if (d == nullptr) return;
  if (!d->in_window) {
    d->in_window = true;
    d->first_seen = d->last_seen = ts;
  }
  BindAddress(*d, ip, source, ts);
}

void DeviceTable::LearnPrefix(const Cidr& prefix) {
  constexpr size_t kMaxLearned = 64;
  if (prefix.prefix_length == 0 || prefix.network.IsLinkLocal()) return;
  if (std::find(learned_.begin(), learned_.end(), prefix) != learned_.end()) return;
  if (learned_.size() < kMaxLearned) learned_.push_back(prefix);
}

Locality DeviceTable::AddressLocality(const Device& d, const IpAddress& ip) const {
  if (d.routes_traffic && std::find(d.announced.begin(), d.announced.end(), ip) != d.announced.end()) {
    return Locality::kLocal;
  }
  return Classify(ip, d.routes_traffic);
}

bool DeviceTable::IsOwnAddress(const Device& d, const IpAddress& ip) const {
  // A host's facts are its own whatever address it uses; a router's only for its own addresses.
  return !d.routes_traffic || AddressLocality(d, ip) == Locality::kLocal;
}

Locality DeviceTable::Classify(const IpAddress& ip, bool mac_routes_traffic) const {
  if (ip.IsLinkLocal()) return Locality::kLocal;  // never forwarded by a router
  bool known_family = false;
  for (const auto* networks : {&options_.local_networks, &learned_}) {
    for (const Cidr& c : *networks) {
      if (c.network.version != ip.version) continue;
      known_family = true;
      if (c.Contains(ip)) return Locality::kLocal;
    }
  }
  // Outside every network of the segment: behind a router. Without networks for this family the
  // MAC's behaviour decides: a router's traffic comes from the hosts behind it.
  if (known_family || mac_routes_traffic) return Locality::kRouted;
  return Locality::kLocal;
}

void DeviceTable::NoteSource(const MacAddress& mac, Device& d, const PacketView& v) {
  const IpAddress& ip = v.src_ip;
  if (d.routes_traffic || ip.IsLinkLocal()) return;
  IpAddress key = ip;
  if (ip.IsV6()) std::fill(key.bytes.begin() + 8, key.bytes.end(), 0);  // the /64 prefix
  // A unicast packet whose TTL (hop limit) is not one that systems start with has crossed a
  // router: from two such sources, the MAC is a router's. (Multicast is sent with small TTLs on
  // purpose, SSDP's 2 or 4, so it tells nothing.)
  if (!IsInitialTtl(v.ttl) && !v.dst_ip.IsMulticast() && !v.dst_ip.IsLimitedBroadcast() &&
      std::find(d.forwarded.begin(), d.forwarded.end(), key) == d.forwarded.end()) {
    d.forwarded.push_back(key);
    if (d.forwarded.size() >= 2) {
      d.routes_traffic = true;
      if (known_routers_.size() < 4096) known_routers_.insert(mac);
      d.sources = {};
      d.forwarded = {};
      return;
    }
  }
  if (std::find(d.sources.begin(), d.sources.end(), key) != d.sources.end()) return;
  d.sources.push_back(key);
  size_t v4 = 0;
  for (const IpAddress& s : d.sources) v4 += s.IsV4();
  if (v4 > options_.router_address_threshold || d.sources.size() - v4 > options_.router_address_threshold) {
    d.routes_traffic = true;
    if (known_routers_.size() < 4096) known_routers_.insert(mac);
    d.sources.clear();
    d.sources.shrink_to_fit();
  }
}

void DeviceTable::BindAddress(Device& d, const IpAddress& ip, AddressSource source, TimeNs ts) {
  constexpr size_t kMaxAnnounced = 8;
  if (source != AddressSource::kTraffic && d.announced.size() < kMaxAnnounced &&
      std::find(d.announced.begin(), d.announced.end(), ip) == d.announced.end()) {
    d.announced.push_back(ip);
  }
  for (AddressRecord& a : d.addresses) {
    if (a.ip == ip && a.source == source) {
      a.first_seen = std::min(a.first_seen, ts);
      a.last_seen = std::max(a.last_seen, ts);
      ++a.packets;
      return;
    }
  }
  if (d.addresses.size() >= options_.max_addresses_per_window) return;
  d.addresses.push_back(AddressRecord{ip, source, Locality::kUnspecified, ts, ts, 1});
}

void DeviceTable::EndWindow(TimeNs now, ObservationSink& sink) {
  PlaceAddressFacts();
  DeviceRecord r;
  for (auto it = devices_.begin(); it != devices_.end();) {
    Device& d = it->second;
    if (!d.in_window) {
      // Silent devices leave the table; the collector remembers them.
      if (now - d.last_seen_ever >= options_.forget_after) {
        devices_.erase(it++);
      } else {
        ++it;
      }
      continue;
    }
    r.mac = it->first;
    r.first_seen = d.first_seen;
    r.last_seen = d.last_seen;
    r.packets_sent = d.packets;
    r.bytes_sent = d.bytes;
    r.routes_traffic = d.routes_traffic;
    r.vlans = d.vlans;
    std::sort(r.vlans.begin(), r.vlans.end());
    r.addresses.clear();
    for (const AddressRecord& a : d.addresses) {
      r.addresses.push_back(a);
      // What a MAC announces (ARP, ND) is its own; what it sends from depends on the segment.
      r.addresses.back().locality = a.source == AddressSource::kTraffic ? AddressLocality(d, a.ip) : Locality::kLocal;
    }
    r.facts.clear();
    for (FactRecord& f : d.facts) {
      // A fact that arrived before the MAC was known to route for others, from an address that is
      // not its own, belongs to the host behind it.
      if (f.via_ip.IsSet() && !IsOwnAddress(d, f.via_ip)) {
        if (RemoteDevice* remote = FindRemote(f.via_ip)) {
          if (!remote->in_window) {
            remote->in_window = true;
            remote->first_seen = f.first_seen;
            remote->last_seen = f.last_seen;
          }
          remote->first_seen = std::min(remote->first_seen, f.first_seen);
          remote->last_seen = std::max(remote->last_seen, f.last_seen);
          remote->last_seen_ever = std::max(remote->last_seen_ever, f.last_seen);
          f.via_ip = IpAddress{};
          MergeFact(remote->facts, f);
        }
        continue;
      }
      // The same fact from two of the device's own addresses (mDNS over IPv4 and IPv6) is one fact.
      FactRecord own = f;
      own.via_ip = IpAddress{};
      MergeFact(r.facts, own);
    }
    if (!d.vendor.empty()) {
      r.facts.push_back(FactRecord{Attribute::kVendor, d.vendor, "oui", "mac", 0.5f, d.first_seen, d.last_seen, 1, {}});
    }
    if (it->first.IsLocallyAdministered()) {
      r.facts.push_back(FactRecord{Attribute::kMacRandomized,
                                   "true",
                                   "mac",
                                   "locally_administered_bit",
                                   0.9f,
                                   d.first_seen,
                                   d.last_seen,
                                   1,
                                   {}});
    }
    sink.OnDevice(r);
    d.in_window = false;
    d.packets = d.bytes = 0;
    d.vlans.clear();
    d.addresses.clear();
    d.facts.clear();
    ++it;
  }
  // Hosts behind routers that parsers said something about.
  DeviceRecord remote;
  for (auto it = remote_.begin(); it != remote_.end();) {
    RemoteDevice& d = it->second;
    if (!d.in_window) {
      if (now - d.last_seen_ever >= options_.forget_after) {
        remote_.erase(it++);
      } else {
        ++it;
      }
      continue;
    }
    remote.ip = it->first;
    remote.first_seen = d.first_seen;
    remote.last_seen = d.last_seen;
    remote.facts = d.facts;
    sink.OnDevice(remote);
    d.in_window = false;
    d.facts.clear();
    ++it;
  }
}

}  // namespace auscult::sensor
