#ifndef AUSCULT_COLLECTOR_STORE_IDENTITY_H_
#define AUSCULT_COLLECTOR_STORE_IDENTITY_H_

// Device identity: which device a sighting belongs to, and which devices turn out to be one. Pure
// decisions over what is known (no database): the batch writer loads the part of the inventory a
// batch touches, asks these functions, and carries out the answer in SQL. The rules are documented
// in docs/schema.md, "Identity and merge".

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace auscult::collector::identity {

// Kinds of strong identifiers (device_identifiers.kind), and "ip" for an address a device holds.
inline constexpr char kDhcpClientId[] = "dhcp_client_id";  // option 61 / DHCPv6 DUID, unless 01+MAC
inline constexpr char kSerial[] = "serial";                // "vendor|serial" from LLDP-MED or POCT1-A
inline constexpr char kDicomAeIp[] = "dicom_ae_ip";        // "AE_TITLE@ip": AE titles alone collide
inline constexpr char kEquipmentId[] = "equipment_id";     // HL7 OBX-18 / POCT1-A DEV.device_id
inline constexpr char kIp[] = "ip";

struct Rules {
  // An address identifies a host seen behind a router only while it is current: a sighting belongs
  // to a device that held (or was identified by) the address within this much time of it.
  int64_t ip_identity_ttl_us = int64_t{86400} * 1000000;
};

struct KnownDevice {
  int64_t id = 0;
  std::string site;
  std::string mac;          // canonical text; "" for a host seen only behind a router
  std::string identity_ip;  // such a host's address, while it still identifies it
  bool routes_traffic = false;
  int64_t first_seen = 0;  // microseconds since the epoch, as all times here
  int64_t last_seen = 0;
};

// Something a device held over a time: one of its own addresses (kIp) or a strong identifier.
struct Holding {
  int64_t device_id = 0;
  std::string kind;
  std::string value;
  int64_t first_seen = 0;
  int64_t last_seen = 0;
};

struct Known {
  std::vector<KnownDevice> devices;
  std::vector<Holding> holdings;
  std::map<std::string, int64_t> mac_aliases;  // the MAC of a device merged into another -> that device
  std::map<int64_t, int64_t> merged_into;      // a merged device's id -> the device it lives on in

  const KnownDevice* Find(int64_t id) const;
  KnownDevice* Find(int64_t id);
  const KnownDevice* FindByMac(std::string_view mac) const;  // by its own MAC or an alias
  int64_t Survivor(int64_t id) const;                        // id itself unless it was merged
};

// ---- strong identifiers from evidence ----
struct EvidenceItem {
  std::string attribute;  // device_evidence.attribute: dhcp_client_id, serial_number, vendor, ...
  std::string value;
  std::string protocol;
  int64_t first_seen = 0;
  int64_t last_seen = 0;
};
struct OwnAddress {
  std::string ip;
  int64_t first_seen = 0;
  int64_t last_seen = 0;
};
// The strong identifiers in a device's evidence (bounded: at most kMaxIdentifiers).
inline constexpr size_t kMaxIdentifiers = 64;
std::vector<Holding> StrongIdentifiers(int64_t device_id, std::string_view mac,
                                       const std::vector<EvidenceItem>& evidence,
                                       const std::vector<OwnAddress>& own_addresses);

// ---- a host seen behind a router ----
struct RoutedHost {
  int64_t device_id = 0;  // the device the sighting belongs to; 0: a new one
  int64_t retire = 0;     // a device the address identified, no longer current: it keeps its history
};
RoutedHost ResolveRoutedHost(const Known& known, std::string_view site, std::string_view ip, int64_t first_seen,
                             int64_t last_seen, const Rules& rules);

// ---- merges ----
struct Merge {
  int64_t from = 0;        // the newer id, which goes away
  int64_t into = 0;        // the older id, which survives
  std::string reason;      // kIp or an identifier kind
  std::string identifier;  // the address or identifier value that joined them
};
struct Conflict {
  int64_t device_a = 0;  // the lower id
  int64_t device_b = 0;
  std::string reason;  // what would have joined them
  std::string detail;  // the identifiers that disagree
};
struct MergePlan {
  std::vector<Merge> merges;  // in the order to carry them out
  std::vector<Conflict> conflicts;
};
// Which known devices are one: by a shared strong identifier, and a host known by its address
// behind a router with the one device holding that address on its own segment at the time.
MergePlan PlanMerges(const Known& known, const Rules& rules);
// Carries out merges on what is known (what the batch writer does in SQL).
void ApplyMerges(Known& known, const std::vector<Merge>& merges);

// ---- one observation, start to end (how the pieces fit; the unit tests drive sequences with it) ----
struct Sighting {
  std::string site;
  std::string mac;        // its own MAC, seen by a sensor on its segment; or ""
  std::string routed_ip;  // else the address it was seen with behind a router
  bool routes_traffic = false;
  int64_t first_seen = 0;
  int64_t last_seen = 0;
  std::vector<std::string> own_ips;    // addresses it holds itself (ARP, DHCP, its own traffic)
  std::vector<EvidenceItem> evidence;  // facts about it (times: the sighting's when 0)
};
struct Decision {
  int64_t device_id = 0;  // attach to this device; 0: create one
  int64_t retire = 0;     // see RoutedHost
  MergePlan plan;         // what becomes of the inventory once the sighting is in
};
Decision Decide(const Known& known, const Sighting& sighting, const Rules& rules, int64_t new_id);
// Applies a sighting and its decision; returns the id of the device the sighting ended up in.
int64_t Apply(Known& known, const Sighting& sighting, const Decision& decision, int64_t new_id);

}  // namespace auscult::collector::identity

#endif  // AUSCULT_COLLECTOR_STORE_IDENTITY_H_
