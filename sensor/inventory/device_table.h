#ifndef AUSCULT_SENSOR_INVENTORY_DEVICE_TABLE_H_
#define AUSCULT_SENSOR_INVENTORY_DEVICE_TABLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/cidr.h"
#include "common/observation_limits.h"
#include "common/oui_database.h"
#include "sensor/decode/packet_view.h"
#include "sensor/observations.h"
#include "sensor/parsers/parser.h"

namespace auscult::sensor {

struct DeviceTableOptions {
  size_t max_devices = 100000;                   // MACs tracked at once; more are counted, not tracked
  size_t max_addresses_per_window = 32;          // addresses reported per device and window
  TimeNs forget_after = 3600 * kNanosPerSecond;  // a MAC silent this long leaves the table
  // A MAC that sends IP traffic from more distinct IPv4 addresses (or IPv6 /64 prefixes) than this
  // forwards for others: a router, firewall or NAT. Hosts hold one or two addresses per family.
  size_t router_address_threshold = 4;
  // The segment's own networks (--local_networks). A host address inside one is local; outside,
  // it is behind a router. IPv6 on-link prefixes from router advertisements are added as learned.
  std::vector<Cidr> local_networks;
};

struct DeviceTableStats {
  uint64_t devices_seen = 0;         // distinct MACs over the sensor's life
  uint64_t devices_not_tracked = 0;  // frames from new MACs while the table was full
  uint64_t remote_devices_seen = 0;  // hosts behind routers that facts were found about
  uint64_t facts_dropped = 0;        // beyond the per-device window limit, or for no device
  // Facts named by address (DNS answers) whose address no known device held when the window ended.
  uint64_t address_facts_unplaced = 0;
};

// The devices on the segment, keyed by source MAC: which addresses they hold (from ARP and from
// their own traffic), on which VLANs, how much they send, and what their MAC's OUI says. Reported
// per window: each device seen in a window yields one DeviceRecord when the window ends.
class DeviceTable : public FactSink {
 public:
  // `oui` may be null (vendor facts are then not reported).
  DeviceTable(const DeviceTableOptions& options, const OuiDatabase* oui);

  void Update(const PacketView& view);
  // Whether `ip`, seen as the source of a MAC's traffic, is that MAC's own address.
  Locality Classify(const IpAddress& ip, bool mac_routes_traffic) const;
  const std::vector<Cidr>& learned_prefixes() const { return learned_; }

  // FactSink: parsers' facts. A fact lands on the MAC's device when the address is that device's own
  // (or unknown); otherwise on a device identified by the address, seen behind a router.
  void OnFact(const MacAddress* mac, const IpAddress& ip, const Fact& fact, TimeNs timestamp) override;
  void OnBinding(const MacAddress& mac, const IpAddress& ip, AddressSource source, TimeNs timestamp) override;
  // Kept until the window ends (or the next one), when the devices that hold each address are known.
  void OnAddressFact(const IpAddress& ip, const Fact& fact, TimeNs timestamp) override;

  void CountAnomaly(std::string_view name) override { ++parser_anomalies_[name]; }
  // Parsers' anomaly counters by name (the names are string literals).
  const absl::flat_hash_map<std::string_view, uint64_t>& parser_anomalies() const { return parser_anomalies_; }

  // Per device and window: a chatty protocol cannot flood. Generous, because facts that reach a
  // router before it is known as one wait on it until the window ends and are then moved.
  // Two below the collector's limit: room for the OUI vendor and randomized-MAC facts added at export.
  static constexpr size_t kMaxFactsPerWindow = kMaxFactsPerDevice - 2;
  // Reports every device seen since the previous call and starts a new window.
  void EndWindow(TimeNs now, ObservationSink& sink);

  const DeviceTableStats& stats() const { return stats_; }
  size_t size() const { return devices_.size(); }

 private:
  struct Device {
    TimeNs first_seen = 0;  // in the current window
    TimeNs last_seen = 0;
    TimeNs last_seen_ever = 0;
    uint64_t packets = 0;
    uint64_t bytes = 0;
    std::vector<uint16_t> vlans;
    std::vector<AddressRecord> addresses;
    // Distinct source IPv4 addresses and IPv6 /64s seen in its traffic, up to the threshold.
    std::vector<IpAddress> sources;
    std::vector<IpAddress> forwarded;  // sources whose packets had crossed a router (at most 2)
    // Addresses it announced as its own (ARP, ND, DHCP, LLDP, CDP), kept across windows (a few):
    // a router's own address is one of these, not one of the many it forwards from.
    std::vector<IpAddress> announced;
    bool routes_traffic = false;
    bool in_window = false;
    std::string vendor;             // from the OUI, looked up once
    std::vector<FactRecord> facts;  // in the current window, deduplicated
  };
  // A host known only by its address (behind a router): what parsers said of it.
  struct RemoteDevice {
    TimeNs first_seen = 0;
    TimeNs last_seen = 0;
    TimeNs last_seen_ever = 0;
    bool in_window = false;
    std::vector<FactRecord> facts;
  };

  // The device of `mac`, created (with its OUI vendor) if `create` and there is room; else null.
  Device* Find(const MacAddress& mac, bool create);
  void BindAddress(Device& d, const IpAddress& ip, AddressSource source, TimeNs ts);
  void LearnPrefix(const Cidr& prefix);
  void AddFact(std::vector<FactRecord>& facts, const Fact& fact, TimeNs timestamp, const IpAddress& via);
  void MergeFact(std::vector<FactRecord>& facts, const FactRecord& fact);
  void PlaceAddressFacts();
  RemoteDevice* FindRemote(const IpAddress& ip);
  // Whether `ip`, seen with d's MAC, is d's own address rather than one it forwards for.
  Locality AddressLocality(const Device& d, const IpAddress& ip) const;
  // Whether a fact about the sender `ip` of d's frames is about d (or about a host behind it).
  bool IsOwnAddress(const Device& d, const IpAddress& ip) const;
  void NoteSource(const MacAddress& mac, Device& d, const PacketView& view);

  DeviceTableOptions options_;
  const OuiDatabase* oui_;
  absl::flat_hash_map<MacAddress, Device> devices_;
  absl::flat_hash_map<IpAddress, RemoteDevice> remote_;
  // Facts named by address, placed when a window ends on the device that holds the address then,
  // or when the next one ends (bounded).
  struct PendingFacts {
    std::vector<FactRecord> facts;
    bool carried = false;  // already waited one window
  };
  absl::flat_hash_map<IpAddress, PendingFacts> address_facts_;
  static constexpr size_t kMaxFactAddresses = 4096;
  std::vector<Cidr> learned_;  // on-link IPv6 prefixes from router advertisements, bounded
  absl::flat_hash_map<std::string_view, uint64_t> parser_anomalies_;
  // MACs that were routers: remembered after the device itself is forgotten, so that a router
  // silent for a while is a router again from its first frame back (bounded).
  absl::flat_hash_set<MacAddress> known_routers_;
  DeviceTableStats stats_;
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_INVENTORY_DEVICE_TABLE_H_
