#include "collector/store/identity.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace auscult::collector::identity {
namespace {

constexpr size_t kMaxValue = 256;  // longer identifier values are not identifiers but noise
constexpr size_t kMaxHolders = 2;  // an identifier more devices hold at once identifies none

bool Overlap(int64_t f1, int64_t l1, int64_t f2, int64_t l2) { return f1 <= l2 && f2 <= l1; }
// Within `slack` of each other.
bool Near(int64_t f1, int64_t l1, int64_t f2, int64_t l2, int64_t slack) {
  return f1 <= l2 + slack && f2 <= l1 + slack;
}
int64_t Gap(int64_t f1, int64_t l1, int64_t f2, int64_t l2) {
  if (Overlap(f1, l1, f2, l2)) return 0;
  return f1 > l2 ? f1 - l2 : f2 - l1;
}

std::string HexDigits(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (absl::ascii_isxdigit(static_cast<unsigned char>(c))) out += absl::ascii_tolower(static_cast<unsigned char>(c));
  }
  return out;
}

// Serial numbers that many devices share: placeholders, not identities.
bool IsPlaceholderSerial(std::string_view serial) {
  if (serial.size() < 4) return true;
  if (std::all_of(serial.begin(), serial.end(), [&](char c) { return c == serial.front(); })) return true;
  const std::string lower = absl::AsciiStrToLower(std::string(serial));
  static constexpr std::string_view kPlaceholders[] = {"unknown",       "n/a",           "none",
                                                       "null",          "default",       "serial",
                                                       "not specified", "not available", "to be filled by o.e.m.",
                                                       "123456",        "1234567",       "12345678",
                                                       "123456789",     "0123456789",    "system serial number",
                                                       "xxxxxxxx"};
  return std::find(std::begin(kPlaceholders), std::end(kPlaceholders), lower) != std::end(kPlaceholders);
}

bool Printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; });
}

// Kinds a device has one value of: two devices with different values are two devices.
bool SingleValued(std::string_view kind) { return kind == kSerial || kind == kEquipmentId || kind == kDhcpClientId; }
// Kinds one device holds at a time: two devices holding the value at once share it (cloned
// images, a gateway's redundant pair), so it identifies neither.
bool ExclusiveAtATime(std::string_view kind) { return kind == kDhcpClientId || kind == kEquipmentId; }

void AddHolding(std::vector<Holding>& holdings, Holding h) {
  for (Holding& x : holdings) {
    if (x.device_id == h.device_id && x.kind == h.kind && x.value == h.value) {
      x.first_seen = std::min(x.first_seen, h.first_seen);
      x.last_seen = std::max(x.last_seen, h.last_seen);
      return;
    }
  }
  holdings.push_back(std::move(h));
}

// Union-find over device ids, with each component's values of the single-valued kinds.
class Components {
 public:
  int64_t Root(int64_t id) {
    auto it = parent_.find(id);
    if (it == parent_.end()) return id;
    const int64_t root = Root(it->second);
    it->second = root;
    return root;
  }
  std::map<std::string, std::set<std::string>>& Values(int64_t root) { return values_[root]; }
  // The kinds on which two components disagree ("serial: A / B"), or "".
  std::string Disagreement(int64_t a, int64_t b) {
    std::vector<std::string> out;
    const auto& va = values_[a];
    const auto& vb = values_[b];
    for (const auto& [kind, set_a] : va) {
      const auto it = vb.find(kind);
      if (it == vb.end() || set_a.empty() || it->second.empty()) continue;
      std::vector<std::string> common;
      std::set_intersection(set_a.begin(), set_a.end(), it->second.begin(), it->second.end(),
                            std::back_inserter(common));
      if (common.empty()) {
        out.push_back(absl::StrCat(kind, ": ", absl::StrJoin(set_a, ","), " / ", absl::StrJoin(it->second, ",")));
      }
    }
    return absl::StrJoin(out, "; ");
  }
  // Joins b's component into a's.
  void Join(int64_t into, int64_t from) {
    parent_[from] = into;
    for (auto& [kind, set] : values_[from]) values_[into][kind].insert(set.begin(), set.end());
    values_.erase(from);
  }

 private:
  std::map<int64_t, int64_t> parent_;
  std::map<int64_t, std::map<std::string, std::set<std::string>>> values_;
};

}  // namespace

const KnownDevice* Known::Find(int64_t id) const {
  for (const KnownDevice& d : devices) {
    if (d.id == id) return &d;
  }
  return nullptr;
}
KnownDevice* Known::Find(int64_t id) { return const_cast<KnownDevice*>(static_cast<const Known*>(this)->Find(id)); }

const KnownDevice* Known::FindByMac(std::string_view mac) const {
  if (mac.empty()) return nullptr;
  for (const KnownDevice& d : devices) {
    if (d.mac == mac) return &d;
  }
  const auto alias = mac_aliases.find(std::string(mac));
  return alias == mac_aliases.end() ? nullptr : Find(alias->second);
}

int64_t Known::Survivor(int64_t id) const {
  for (int hops = 0; hops < 64; ++hops) {
    const auto it = merged_into.find(id);
    if (it == merged_into.end()) break;
    id = it->second;
  }
  return id;
}

std::vector<Holding> StrongIdentifiers(int64_t device_id, std::string_view mac,
                                       const std::vector<EvidenceItem>& evidence,
                                       const std::vector<OwnAddress>& own_addresses) {
  std::vector<Holding> out;
  auto add = [&](const char* kind, std::string value, int64_t f, int64_t l) {
    if (out.size() >= kMaxIdentifiers || value.size() > kMaxValue) return;
    AddHolding(out, Holding{device_id, kind, std::move(value), f, l});
  };
  // The vendor a protocol names, to scope its serial numbers.
  std::map<std::string, std::string> vendor_by_protocol;
  std::set<std::string> equipment_ids;
  for (const EvidenceItem& e : evidence) {
    if (e.attribute == "vendor" && e.protocol != "oui") {
      vendor_by_protocol.emplace(e.protocol, absl::AsciiStrToLower(absl::StripAsciiWhitespace(e.value)));
    }
    if (e.attribute == "equipment_id" && equipment_ids.size() < 2) equipment_ids.insert(e.value);
  }
  const std::string own_client_id = "01" + HexDigits(mac);
  for (const EvidenceItem& e : evidence) {
    if (!Printable(e.value)) continue;
    if (e.attribute == "dhcp_client_id") {
      const std::string id = HexDigits(e.value);
      // 01 + the MAC itself says nothing the MAC does not; very short ids are not unique.
      if (id.size() < 8 || id == own_client_id || id.find_first_not_of('0') == std::string::npos) continue;
      add(kDhcpClientId, id, e.first_seen, e.last_seen);
    } else if (e.attribute == "serial_number" && (e.protocol == "lldp" || e.protocol == "poct1a")) {
      const std::string serial(absl::StripAsciiWhitespace(e.value));
      if (IsPlaceholderSerial(serial)) continue;
      const auto vendor = vendor_by_protocol.find(e.protocol);
      add(kSerial, absl::StrCat(vendor == vendor_by_protocol.end() ? "" : vendor->second, "|", serial), e.first_seen,
          e.last_seen);
    } else if (e.attribute == "equipment_id" && equipment_ids.size() == 1) {
      // Only a device that reports one equipment id may be that equipment: a gateway reports many.
      const std::string id(absl::StripAsciiWhitespace(e.value));
      if (id.size() >= 4) add(kEquipmentId, id, e.first_seen, e.last_seen);
    } else if (e.attribute == "dicom_ae_title") {
      const std::string ae = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(e.value));
      if (ae.empty()) continue;
      for (const OwnAddress& a : own_addresses) {
        if (!Overlap(e.first_seen, e.last_seen, a.first_seen, a.last_seen)) continue;
        add(kDicomAeIp, absl::StrCat(ae, "@", a.ip), std::max(e.first_seen, a.first_seen),
            std::min(e.last_seen, a.last_seen));
      }
    }
  }
  return out;
}

RoutedHost ResolveRoutedHost(const Known& known, std::string_view site, std::string_view ip, int64_t first_seen,
                             int64_t last_seen, const Rules& rules) {
  const int64_t ttl = rules.ip_identity_ttl_us;
  // Devices on their own segment holding the address around the time (never a router: what it
  // forwards is not its own).
  std::vector<const Holding*> holders;
  for (const Holding& h : known.holdings) {
    if (h.kind != kIp || h.value != ip) continue;
    const KnownDevice* d = known.Find(h.device_id);
    if (d == nullptr || d->site != site || d->mac.empty() || d->routes_traffic) continue;
    if (Near(h.first_seen, h.last_seen, first_seen, last_seen, ttl)) holders.push_back(&h);
  }
  bool shared = false;  // two devices holding it at once: a virtual address, not an identity
  for (size_t i = 0; i < holders.size(); ++i) {
    for (size_t j = i + 1; j < holders.size(); ++j) {
      if (holders[i]->device_id != holders[j]->device_id &&
          Overlap(holders[i]->first_seen, holders[i]->last_seen, holders[j]->first_seen, holders[j]->last_seen)) {
        shared = true;
      }
    }
  }
  RoutedHost out;
  if (!holders.empty() && !shared) {
    // DHCP gave it to one after the other: the holder at (or nearest to) the time of the sighting.
    const Holding* best = *std::min_element(holders.begin(), holders.end(), [&](const Holding* a, const Holding* b) {
      return std::make_tuple(Gap(a->first_seen, a->last_seen, first_seen, last_seen), a->device_id) <
             std::make_tuple(Gap(b->first_seen, b->last_seen, first_seen, last_seen), b->device_id);
    });
    out.device_id = best->device_id;
    return out;
  }
  for (const KnownDevice& d : known.devices) {
    if (d.site != site || !d.mac.empty() || d.identity_ip != ip) continue;
    if (Near(d.first_seen, d.last_seen, first_seen, last_seen, ttl)) {
      out.device_id = d.id;
      return out;
    }
    out.retire = d.id;  // silent for longer than the TTL: the address may be someone else's now
  }
  // A host that held the address at the time without being known by it: one it was retired from
  // (a late report), or one that took it over in a merge.
  const Holding* nearest = nullptr;
  for (const Holding& h : known.holdings) {
    if (h.kind != kIp || h.value != ip) continue;
    const KnownDevice* d = known.Find(h.device_id);
    if (d == nullptr || d->site != site || !d->mac.empty() || d->routes_traffic) continue;
    if (!Near(h.first_seen, h.last_seen, first_seen, last_seen, ttl)) continue;
    if (nearest == nullptr || Gap(h.first_seen, h.last_seen, first_seen, last_seen) <
                                  Gap(nearest->first_seen, nearest->last_seen, first_seen, last_seen)) {
      nearest = &h;
    }
  }
  if (nearest != nullptr) out.device_id = nearest->device_id;
  return out;
}

MergePlan PlanMerges(const Known& known, const Rules& rules) {
  struct Edge {
    int64_t a, b;
    std::string reason, identifier;
  };
  std::vector<Edge> edges;

  // What is known may be hundreds of devices with dozens of holdings each: look them up by key.
  std::map<int64_t, const KnownDevice*> device_of;
  for (const KnownDevice& d : known.devices) device_of.emplace(d.id, &d);
  auto find = [&](int64_t id) -> const KnownDevice* {
    const auto it = device_of.find(id);
    return it == device_of.end() ? nullptr : it->second;
  };

  // 1. The same strong identifier at the same site.
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<const Holding*>> by_identifier;
  // Own addresses of devices on their own segment (never a router's), by site and address.
  std::map<std::pair<std::string, std::string>, std::vector<const Holding*>> mac_holders;
  for (const Holding& h : known.holdings) {
    const KnownDevice* d = find(h.device_id);
    if (d == nullptr || d->routes_traffic) continue;
    if (h.kind != kIp) {
      by_identifier[{d->site, h.kind, h.value}].push_back(&h);
    } else if (!d->mac.empty()) {
      mac_holders[{d->site, h.value}].push_back(&h);
    }
  }
  for (auto& [key, holders] : by_identifier) {
    const std::string& kind = std::get<1>(key);
    std::set<int64_t> distinct;
    for (const Holding* h : holders) distinct.insert(h->device_id);
    // Many devices at once: a placeholder or a value passed around, not an identity. (Merged devices
    // are one: a device that changes its MAC every day keeps adding one at a time.)
    if (distinct.size() < 2 || distinct.size() > kMaxHolders) continue;
    std::sort(holders.begin(), holders.end(),
              [](const Holding* x, const Holding* y) { return x->device_id < y->device_id; });
    bool shared = false;
    for (size_t i = 0; i < holders.size() && ExclusiveAtATime(kind); ++i) {
      for (size_t j = i + 1; j < holders.size(); ++j) {
        shared |= holders[i]->device_id != holders[j]->device_id &&
                  Overlap(holders[i]->first_seen, holders[i]->last_seen, holders[j]->first_seen, holders[j]->last_seen);
      }
    }
    if (shared) continue;
    for (size_t i = 1; i < holders.size(); ++i) {
      if (holders[i]->device_id != holders[0]->device_id) {
        edges.push_back({holders[0]->device_id, holders[i]->device_id, kind, std::get<2>(key)});
      }
    }
  }

  // 2. A host known by its address behind a router, and the one device that held the address on
  //    its own segment around the time the host was seen.
  for (const Holding& h : known.holdings) {
    if (h.kind != kIp) continue;
    const KnownDevice* host = find(h.device_id);
    if (host == nullptr || !host->mac.empty() || host->routes_traffic) continue;
    const auto holders = mac_holders.find({host->site, h.value});
    if (holders == mac_holders.end()) continue;
    std::set<int64_t> ids;
    for (const Holding* m : holders->second) {
      if (Near(m->first_seen, m->last_seen, h.first_seen, h.last_seen, rules.ip_identity_ttl_us)) {
        ids.insert(m->device_id);
      }
    }
    // None: nothing to join; several: shared or reassigned within the time, ambiguous.
    if (ids.size() == 1) edges.push_back({*ids.begin(), host->id, kIp, h.value});
  }

  Components components;
  for (const Holding& h : known.holdings) {
    if (SingleValued(h.kind)) components.Values(h.device_id)[h.kind].insert(h.value);
  }
  MergePlan plan;
  for (const Edge& e : edges) {
    const int64_t ra = components.Root(e.a);
    const int64_t rb = components.Root(e.b);
    if (ra == rb) continue;
    const int64_t into = std::min(ra, rb);
    const int64_t from = std::max(ra, rb);
    if (std::string detail = components.Disagreement(into, from); !detail.empty()) {
      const bool seen = std::any_of(plan.conflicts.begin(), plan.conflicts.end(), [&](const Conflict& c) {
        return c.device_a == into && c.device_b == from && c.reason == e.reason;
      });
      if (!seen) plan.conflicts.push_back({into, from, e.reason, std::move(detail)});
      continue;
    }
    components.Join(into, from);
    plan.merges.push_back({from, into, e.reason, e.identifier});
  }
  return plan;
}

void ApplyMerges(Known& known, const std::vector<Merge>& merges) {
  for (const Merge& m : merges) {
    KnownDevice* from = known.Find(m.from);
    KnownDevice* into = known.Find(m.into);
    if (from == nullptr || into == nullptr || from == into) continue;
    into->first_seen = std::min(into->first_seen, from->first_seen);
    into->last_seen = std::max(into->last_seen, from->last_seen);
    into->routes_traffic = into->routes_traffic || from->routes_traffic;
    if (into->mac.empty() && !from->mac.empty()) {
      into->mac = from->mac;  // a host known by its address takes the MAC it turned out to have
      into->identity_ip.clear();
    } else if (!from->mac.empty()) {
      known.mac_aliases[from->mac] = into->id;
    }
    for (auto& [mac, id] : known.mac_aliases) {
      if (id == m.from) id = m.into;
    }
    for (auto& [old_id, id] : known.merged_into) {
      if (id == m.from) id = m.into;
    }
    known.merged_into[m.from] = m.into;
    std::vector<Holding> moved;
    for (const Holding& h : known.holdings) {
      if (h.device_id == m.from) moved.push_back(Holding{m.into, h.kind, h.value, h.first_seen, h.last_seen});
    }
    std::erase_if(known.holdings, [&](const Holding& h) { return h.device_id == m.from; });
    for (Holding& h : moved) AddHolding(known.holdings, std::move(h));
    std::erase_if(known.devices, [&](const KnownDevice& d) { return d.id == m.from; });
  }
}

namespace {

// The sighting's own part: the device it is about, its times, its addresses and identifiers.
int64_t AddSighting(Known& known, const Sighting& s, int64_t device_id) {
  KnownDevice* d = known.Find(device_id);
  if (d == nullptr) {
    known.devices.push_back(KnownDevice{device_id, s.site, s.mac, s.mac.empty() ? s.routed_ip : "", s.routes_traffic,
                                        s.first_seen, s.last_seen});
    d = &known.devices.back();
  } else {
    d->first_seen = std::min(d->first_seen, s.first_seen);
    d->last_seen = std::max(d->last_seen, s.last_seen);
    d->routes_traffic = d->routes_traffic || s.routes_traffic;
    if (s.last_seen >= d->last_seen) d->site = s.site;
  }
  std::vector<OwnAddress> own;
  for (const std::string& ip : s.own_ips) own.push_back({ip, s.first_seen, s.last_seen});
  // A host behind a router holds the address it was seen with, as far as anyone knows.
  if (!s.routed_ip.empty()) own.push_back({s.routed_ip, s.first_seen, s.last_seen});
  for (const OwnAddress& a : own) AddHolding(known.holdings, Holding{device_id, kIp, a.ip, a.first_seen, a.last_seen});
  std::vector<EvidenceItem> evidence = s.evidence;
  for (EvidenceItem& e : evidence) {
    if (e.first_seen == 0 && e.last_seen == 0) {
      e.first_seen = s.first_seen;
      e.last_seen = s.last_seen;
    }
  }
  for (Holding& h : StrongIdentifiers(device_id, s.mac, evidence, own)) AddHolding(known.holdings, std::move(h));
  return device_id;
}

}  // namespace

Decision Decide(const Known& known, const Sighting& sighting, const Rules& rules, int64_t new_id) {
  Decision out;
  if (!sighting.mac.empty()) {
    if (const KnownDevice* d = known.FindByMac(sighting.mac)) out.device_id = d->id;
  } else {
    const RoutedHost r =
        ResolveRoutedHost(known, sighting.site, sighting.routed_ip, sighting.first_seen, sighting.last_seen, rules);
    out.device_id = r.device_id;
    out.retire = r.retire;
  }
  Known after = known;
  if (out.retire != 0) after.Find(out.retire)->identity_ip.clear();
  AddSighting(after, sighting, out.device_id != 0 ? out.device_id : new_id);
  out.plan = PlanMerges(after, rules);
  return out;
}

int64_t Apply(Known& known, const Sighting& sighting, const Decision& decision, int64_t new_id) {
  if (decision.retire != 0) {
    if (KnownDevice* d = known.Find(decision.retire)) d->identity_ip.clear();
  }
  const int64_t id = AddSighting(known, sighting, decision.device_id != 0 ? decision.device_id : new_id);
  ApplyMerges(known, decision.plan.merges);
  return known.Survivor(id);
}

}  // namespace auscult::collector::identity
