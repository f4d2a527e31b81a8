// Merge rules on hand-made observation sequences: each sighting is decided against what is known
// so far and applied, as the batch writer does with the database.
#include "collector/store/identity.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>

namespace auscult::collector::identity {
namespace {

constexpr int64_t kMinute = int64_t{60} * 1000000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kT0 = int64_t{1700000000} * 1000000;
constexpr char kSite[] = "st-marys";

Sighting Local(const std::string& mac, const std::string& ip, int64_t at, int64_t length = 10 * kMinute) {
  Sighting s;
  s.site = kSite;
  s.mac = mac;
  if (!ip.empty()) s.own_ips = {ip};
  s.first_seen = at;
  s.last_seen = at + length;
  return s;
}

Sighting Routed(const std::string& ip, int64_t at, int64_t length = 10 * kMinute) {
  Sighting s;
  s.site = kSite;
  s.routed_ip = ip;
  s.first_seen = at;
  s.last_seen = at + length;
  return s;
}

Sighting With(Sighting s, const std::string& attribute, const std::string& value, const std::string& protocol) {
  s.evidence.push_back(EvidenceItem{attribute, value, protocol, 0, 0});
  return s;
}

// The inventory the sightings build up.
class Inventory {
 public:
  // Returns the device the sighting ended up in.
  int64_t See(const Sighting& s) {
    last = Decide(known, s, rules, next_id_);
    const int64_t id = Apply(known, s, last, next_id_);
    if (last.device_id == 0) ++next_id_;
    for (const Conflict& c : last.plan.conflicts) conflicts.push_back(c);
    return id;
  }
  const KnownDevice& Device(int64_t id) const {
    const KnownDevice* d = known.Find(known.Survivor(id));
    EXPECT_NE(d, nullptr) << id;
    static const KnownDevice kNone;
    return d != nullptr ? *d : kNone;
  }
  // Who held the address when: (device id, first, last), by first.
  std::vector<std::tuple<int64_t, int64_t, int64_t>> History(const std::string& ip) const {
    std::vector<std::tuple<int64_t, int64_t, int64_t>> out;
    for (const Holding& h : known.holdings) {
      if (h.kind == kIp && h.value == ip) out.emplace_back(h.device_id, h.first_seen, h.last_seen);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return std::get<1>(a) < std::get<1>(b); });
    return out;
  }
  std::set<std::string> Macs() const {
    std::set<std::string> out;
    for (const KnownDevice& d : known.devices) out.insert(d.mac);
    return out;
  }

  Known known;
  Rules rules;
  Decision last;
  std::vector<Conflict> conflicts;

 private:
  int64_t next_id_ = 1;
};

constexpr char kPump[] = "00:09:fb:00:00:01";
constexpr char kPc[] = "3c:52:82:00:00:02";
constexpr char kRouter[] = "00:00:5e:00:01:01";

TEST(IdentityTest, DhcpReassignmentKeepsTwoDevicesWithBothIntervals) {
  Inventory inv;
  const int64_t pump = inv.See(Local(kPump, "10.0.0.5", kT0, kHour));
  const int64_t pc = inv.See(Local(kPc, "10.0.0.5", kT0 + 3 * kDay, kHour));
  ASSERT_NE(pump, pc);
  EXPECT_EQ(inv.known.devices.size(), 2u);
  const auto history = inv.History("10.0.0.5");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0], std::make_tuple(pump, kT0, kT0 + kHour));
  EXPECT_EQ(history[1], std::make_tuple(pc, kT0 + 3 * kDay, kT0 + 3 * kDay + kHour));
  // Behind a router, the address means whoever held it at the time.
  EXPECT_EQ(inv.See(Routed("10.0.0.5", kT0 + 30 * kMinute)), pump);
  EXPECT_EQ(inv.See(Routed("10.0.0.5", kT0 + 3 * kDay + 2 * kHour)), pc);
  // Long after both: neither (a new host, until its own segment shows its MAC).
  const int64_t later = inv.See(Routed("10.0.0.5", kT0 + 10 * kDay));
  EXPECT_NE(later, pump);
  EXPECT_NE(later, pc);
  EXPECT_TRUE(inv.Device(later).mac.empty());
  EXPECT_TRUE(inv.conflicts.empty());
}

TEST(IdentityTest, DhcpReassignmentSeenFirstBehindTheRouter) {
  Inventory inv;
  const int64_t first = inv.See(Routed("10.0.0.5", kT0));
  EXPECT_EQ(inv.See(Routed("10.0.0.5", kT0 + 2 * kHour)), first) << "still current";
  const int64_t second = inv.See(Routed("10.0.0.5", kT0 + 3 * kDay));
  EXPECT_NE(second, first) << "silent for longer than the TTL: not the same host";
  EXPECT_EQ(inv.last.retire, first);
  // Then the local sensor's view arrives (a delayed batch): each MAC joins the host of its time.
  EXPECT_EQ(inv.See(Local(kPump, "10.0.0.5", kT0, kHour)), first);
  EXPECT_EQ(inv.See(Local(kPc, "10.0.0.5", kT0 + 3 * kDay - kMinute, kHour)), second);
  ASSERT_EQ(inv.known.devices.size(), 2u);
  EXPECT_EQ(inv.Device(first).mac, kPump);
  EXPECT_EQ(inv.Device(second).mac, kPc);
}

TEST(IdentityTest, RoutedSightingBeforeTheLocalOneEndsAsOneDevice) {
  Inventory inv;
  const int64_t host = inv.See(With(Routed("10.0.0.5", kT0), "hostname", "pump-12", "dhcp"));
  EXPECT_EQ(inv.last.device_id, 0) << "created";
  EXPECT_TRUE(inv.Device(host).mac.empty());
  const int64_t merged = inv.See(Local(kPump, "10.0.0.5", kT0 + 5 * kMinute));
  EXPECT_EQ(merged, host) << "the older id survives";
  ASSERT_EQ(inv.last.plan.merges.size(), 1u);
  EXPECT_EQ(inv.last.plan.merges[0].reason, kIp);
  EXPECT_EQ(inv.last.plan.merges[0].identifier, "10.0.0.5");
  ASSERT_EQ(inv.known.devices.size(), 1u);
  EXPECT_EQ(inv.Device(host).mac, kPump);
  EXPECT_TRUE(inv.Device(host).identity_ip.empty());
  // The MAC's own id resolves to the survivor; later sightings of either kind land there directly.
  EXPECT_EQ(inv.known.Survivor(inv.last.plan.merges[0].from), host);
  EXPECT_EQ(inv.See(Local(kPump, "10.0.0.5", kT0 + kHour)), host);
  EXPECT_EQ(inv.See(Routed("10.0.0.5", kT0 + 2 * kHour)), host);
  EXPECT_EQ(inv.known.devices.size(), 1u);
}

TEST(IdentityTest, LocalSightingBeforeTheRoutedOneEndsAsOneDevice) {
  Inventory inv;
  const int64_t pump = inv.See(Local(kPump, "10.0.0.5", kT0));
  EXPECT_EQ(inv.See(Routed("10.0.0.5", kT0 + 5 * kMinute)), pump);
  EXPECT_EQ(inv.last.device_id, pump) << "attached, not created";
  EXPECT_TRUE(inv.last.plan.merges.empty());
  EXPECT_EQ(inv.known.devices.size(), 1u);
}

// Whatever order the sensors' batches arrive in, the same devices come out.
TEST(IdentityTest, OrderOfSightingsDoesNotMatter) {
  std::vector<Sighting> sightings = {Local(kPump, "10.0.0.5", kT0), Local(kPc, "10.0.0.6", kT0 + kMinute),
                                     Routed("10.0.0.5", kT0 + 2 * kMinute), Routed("10.0.0.6", kT0 + 3 * kMinute),
                                     Routed("10.0.0.7", kT0 + 4 * kMinute)};
  std::vector<int> order = {0, 1, 2, 3, 4};
  int runs = 0;
  do {
    Inventory inv;
    for (int i : order) inv.See(sightings[i]);
    EXPECT_EQ(inv.Macs(), (std::set<std::string>{"", kPump, kPc})) << "run " << runs;
    EXPECT_EQ(inv.known.devices.size(), 3u) << "run " << runs;
    ++runs;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(runs, 120);
}

TEST(IdentityTest, RouterMacNeverTakesARoutedHostsAddressOrFacts) {
  Inventory inv;
  Sighting router = Local(kRouter, "10.1.0.1", kT0);
  router.routes_traffic = true;
  // Before the sensor knew it routed, it had taken a host's address as its own.
  router.own_ips.push_back("10.0.0.5");
  const int64_t r = inv.See(router);
  const int64_t host = inv.See(With(With(Routed("10.0.0.5", kT0 + kMinute), "serial_number", "PX-0042-17", "poct1a"),
                                    "vendor", "Abbott", "poct1a"));
  EXPECT_NE(host, r);
  EXPECT_TRUE(inv.Device(host).mac.empty());
  EXPECT_TRUE(inv.last.plan.merges.empty());
  for (const Holding& h : inv.known.holdings) {
    if (h.device_id == r) {
      EXPECT_EQ(h.kind, kIp) << "no identifier of the host on the router: " << h.value;
    }
  }
  // The host's own MAC, seen on its segment, takes it; the router stays a router.
  EXPECT_EQ(inv.See(Local(kPump, "10.0.0.5", kT0 + 2 * kMinute)), host);
  EXPECT_EQ(inv.Device(host).mac, kPump);
  EXPECT_EQ(inv.Device(r).mac, kRouter);
  EXPECT_EQ(inv.known.devices.size(), 2u);
}

TEST(IdentityTest, RandomizedMacMergedByClientIdNeverByAddressAlone) {
  constexpr char kRandom1[] = "da:a1:19:00:00:01";  // locally administered
  constexpr char kRandom2[] = "6e:02:33:00:00:02";
  constexpr char kRandom3[] = "fa:1b:00:00:00:03";
  const std::string client_id = "ff00a1b2c3000100012c7a9f1d001122";  // a DUID-based option 61
  Inventory inv;
  const int64_t phone = inv.See(With(Local(kRandom1, "10.0.0.40", kT0, kHour), "dhcp_client_id", client_id, "dhcp"));
  // A day later, the same phone under a new random MAC and a new address.
  const int64_t again =
      inv.See(With(Local(kRandom2, "10.0.0.41", kT0 + kDay, kHour), "dhcp_client_id", client_id, "dhcp"));
  EXPECT_EQ(again, phone);
  ASSERT_EQ(inv.last.plan.merges.size(), 1u);
  EXPECT_EQ(inv.last.plan.merges[0].reason, kDhcpClientId);
  EXPECT_EQ(inv.known.FindByMac(kRandom2)->id, phone);
  // Another random MAC on the first one's address, minutes after: nothing says it is the phone.
  const int64_t other = inv.See(Local(kRandom3, "10.0.0.40", kT0 + kHour + kMinute, kHour));
  EXPECT_NE(other, phone);
  // Nor does a client id that is just 01 + its MAC.
  const int64_t fourth = inv.See(
      With(Local("d2:00:00:00:00:04", "10.0.0.40", kT0 + 2 * kDay, kHour), "dhcp_client_id", "01d20000000004", "dhcp"));
  EXPECT_NE(fourth, phone);
  EXPECT_NE(fourth, other);
  EXPECT_EQ(inv.known.devices.size(), 3u);
}

TEST(IdentityTest, SameSerialOnTwoMacDevicesMerges) {
  Inventory inv;
  auto nic = [](const std::string& mac, const std::string& ip) {
    return With(With(Local(mac, ip, kT0, kHour), "serial_number", "CN1234ABCD", "lldp"), "vendor", "Philips", "lldp");
  };
  const int64_t first = inv.See(nic("00:09:fb:00:00:10", "10.0.0.10"));
  const int64_t second = inv.See(nic("00:09:fb:00:00:11", "10.0.0.11"));  // its second port, at the same time
  EXPECT_EQ(second, first);
  ASSERT_EQ(inv.last.plan.merges.size(), 1u);
  EXPECT_EQ(inv.last.plan.merges[0].reason, kSerial);
  EXPECT_EQ(inv.last.plan.merges[0].identifier, "philips|CN1234ABCD");
  EXPECT_EQ(inv.known.devices.size(), 1u);
  EXPECT_EQ(inv.Device(first).mac, "00:09:fb:00:00:10");
  EXPECT_EQ(inv.known.FindByMac("00:09:fb:00:00:11")->id, first);
}

TEST(IdentityTest, AddressHeldByTwoMacsAtOnceIsNotAnIdentity) {
  Inventory inv;
  // VRRP: both routers answer for the virtual address.
  const int64_t a = inv.See(Local("00:00:5e:00:01:0a", "10.0.0.1", kT0, kHour));
  const int64_t b = inv.See(Local("00:00:5e:00:01:0b", "10.0.0.1", kT0, kHour));
  EXPECT_NE(a, b);
  const int64_t seen = inv.See(Routed("10.0.0.1", kT0 + kMinute));
  EXPECT_NE(seen, a);
  EXPECT_NE(seen, b);
  EXPECT_TRUE(inv.last.plan.merges.empty());
  EXPECT_EQ(inv.known.devices.size(), 3u);
}

TEST(IdentityTest, EquipmentIdOfAGatewayIsNotAnIdentity) {
  Inventory inv;
  Sighting gateway = Local("00:50:56:00:00:20", "10.0.0.20", kT0, kHour);
  for (const char* eui : {"0012a1fffe000001", "0012a1fffe000002", "0012a1fffe000003"}) {
    gateway = With(gateway, "equipment_id", eui, "hl7");
  }
  const int64_t g = inv.See(gateway);
  // The monitor reports its own observations under its own id.
  const int64_t monitor =
      inv.See(With(Local("00:09:fb:00:00:21", "10.0.0.21", kT0, kHour), "equipment_id", "0012a1fffe000001", "hl7"));
  EXPECT_NE(g, monitor);
  EXPECT_TRUE(inv.last.plan.merges.empty());
  // Two devices reporting one id at the same time (a redundant pair) share it: neither is it.
  const int64_t twin =
      inv.See(With(Local("00:09:fb:00:00:22", "10.0.0.22", kT0, kHour), "equipment_id", "0012a1fffe000001", "hl7"));
  EXPECT_NE(twin, monitor);
  EXPECT_EQ(inv.known.devices.size(), 3u);
}

TEST(IdentityTest, ClientIdUsedByTwoMacsAtOnceIsShared) {
  Inventory inv;
  const std::string cloned = "ff0000000100012c000000000000aabbcc";  // a golden image's DUID
  const int64_t a =
      inv.See(With(Local("52:54:00:00:00:01", "10.0.0.51", kT0, kHour), "dhcp_client_id", cloned, "dhcp"));
  const int64_t b =
      inv.See(With(Local("52:54:00:00:00:02", "10.0.0.52", kT0, kHour), "dhcp_client_id", cloned, "dhcp"));
  EXPECT_NE(a, b);
  EXPECT_EQ(inv.known.devices.size(), 2u);
}

TEST(IdentityTest, ConflictingStrongIdentifiersAreRecordedNotMerged) {
  Inventory inv;
  const std::string client_id = "ff00a1b2c3000100012c7a9f1d009988";
  auto device = [&](const std::string& mac, const std::string& serial, int64_t at) {
    return With(
        With(With(Local(mac, "", at, kHour), "dhcp_client_id", client_id, "dhcp"), "serial_number", serial, "poct1a"),
        "vendor", "Abbott", "poct1a");
  };
  const int64_t a = inv.See(device("00:0c:29:00:00:31", "PX-1000-01", kT0));
  const int64_t b = inv.See(device("00:0c:29:00:00:32", "PX-1000-02", kT0 + kDay));
  EXPECT_NE(a, b);
  EXPECT_TRUE(inv.last.plan.merges.empty());
  ASSERT_EQ(inv.conflicts.size(), 1u);
  EXPECT_EQ(inv.conflicts[0].device_a, a);
  EXPECT_EQ(inv.conflicts[0].device_b, b);
  EXPECT_EQ(inv.conflicts[0].reason, kDhcpClientId);
  EXPECT_NE(inv.conflicts[0].detail.find("abbott|PX-1000-01"), std::string::npos) << inv.conflicts[0].detail;
  EXPECT_NE(inv.conflicts[0].detail.find("abbott|PX-1000-02"), std::string::npos) << inv.conflicts[0].detail;
}

// A device with a serial of its own and a host behind the router that (by its address) would be it,
// but names another serial: two devices.
TEST(IdentityTest, AddressJoinRefusedWhenSerialsDisagree) {
  Inventory inv;
  const int64_t local =
      inv.See(With(With(Local(kPump, "10.0.0.5", kT0), "serial_number", "SN-AAAA-1", "lldp"), "vendor", "BD", "lldp"));
  const int64_t routed = inv.See(
      With(With(Routed("10.0.0.5", kT0 + 20 * kDay), "serial_number", "SN-BBBB-2", "lldp"), "vendor", "BD", "lldp"));
  EXPECT_NE(routed, local) << "not current: a new host";
  // Now the same while current: the address would join them, the serials say no.
  Known known;
  known.devices = {KnownDevice{1, kSite, kPump, "", false, kT0, kT0 + kHour},
                   KnownDevice{2, kSite, "", "10.0.0.5", false, kT0, kT0 + kHour}};
  known.holdings = {Holding{1, kIp, "10.0.0.5", kT0, kT0 + kHour}, Holding{2, kIp, "10.0.0.5", kT0, kT0 + kHour},
                    Holding{1, kSerial, "bd|SN-AAAA-1", kT0, kT0}, Holding{2, kSerial, "bd|SN-BBBB-2", kT0, kT0}};
  const MergePlan plan = PlanMerges(known, Rules{});
  EXPECT_TRUE(plan.merges.empty());
  ASSERT_EQ(plan.conflicts.size(), 1u);
  EXPECT_EQ(plan.conflicts[0].reason, kIp);
}

TEST(IdentityTest, StrongIdentifiersFromEvidence) {
  const std::vector<OwnAddress> own = {{"10.0.0.9", kT0, kT0 + kDay}};
  auto ids = [&](const std::vector<EvidenceItem>& evidence) {
    std::vector<std::string> out;
    for (const Holding& h : StrongIdentifiers(7, "00:09:fb:0a:0b:0c", evidence, own)) {
      EXPECT_EQ(h.device_id, 7);
      out.push_back(h.kind + "=" + h.value);
    }
    return out;
  };
  using V = std::vector<std::string>;
  const int64_t t = kT0 + kHour;
  EXPECT_EQ(ids({{"dhcp_client_id", "0100:09:FB:0A:0B:0C", "dhcp", t, t}}), V{}) << "01 + its MAC";
  EXPECT_EQ(ids({{"dhcp_client_id", "01", "dhcp", t, t}}), V{});
  EXPECT_EQ(ids({{"dhcp_client_id", "00000000000000", "dhcp", t, t}}), V{});
  EXPECT_EQ(ids({{"dhcp_client_id", "FF00A1B2C3000100", "dhcp", t, t}}), V{"dhcp_client_id=ff00a1b2c3000100"});
  EXPECT_EQ(ids({{"serial_number", "SN-42-0007", "lldp", t, t}, {"vendor", "GE Healthcare", "lldp", t, t}}),
            V{"serial=ge healthcare|SN-42-0007"});
  EXPECT_EQ(ids({{"serial_number", "Unknown", "lldp", t, t}}), V{});
  EXPECT_EQ(ids({{"serial_number", "000000000", "poct1a", t, t}}), V{});
  EXPECT_EQ(ids({{"serial_number", "SN-42-0007", "mdns", t, t}}), V{}) << "not a source for serials";
  EXPECT_EQ(ids({{"dicom_ae_title", "ct_scanner1 ", "dicom", t, t}}), V{"dicom_ae_ip=CT_SCANNER1@10.0.0.9"});
  EXPECT_EQ(ids({{"dicom_ae_title", "CT1", "dicom", kT0 + 2 * kDay, kT0 + 2 * kDay}}), V{}) << "address not held then";
  EXPECT_EQ(ids({{"equipment_id", "0012a1fffe000001", "hl7", t, t}}), V{"equipment_id=0012a1fffe000001"});
  EXPECT_EQ(ids({{"equipment_id", "0012a1fffe000001", "hl7", t, t}, {"equipment_id", "0012a1fffe000002", "hl7", t, t}}),
            V{});
  EXPECT_EQ(ids({{"serial_number", std::string(300, 'x') + "y", "lldp", t, t}}), V{}) << "too long";
  EXPECT_EQ(ids({{"dhcp_client_id", "ff00\x01zz", "dhcp", t, t}}), V{}) << "control characters";
}

// Hostile input, or a vendor's placeholder the list does not know: a serial on many devices at once
// is nobody's. Two (a device's two ports) is one device.
TEST(IdentityTest, SerialOnManyDevicesIsNotAnIdentity) {
  Known known;
  for (int64_t id = 1; id <= 50; ++id) {
    known.devices.push_back(KnownDevice{id, kSite, "00:09:fb:00:01:" + std::to_string(10 + id), "", false, kT0, kT0});
    known.holdings.push_back(Holding{id, kSerial, "x|SN-SAME-0001", kT0, kT0});
  }
  EXPECT_TRUE(PlanMerges(known, Rules{}).merges.empty());
  known.devices.resize(2);
  known.holdings.resize(2);
  const MergePlan plan = PlanMerges(known, Rules{});
  ASSERT_EQ(plan.merges.size(), 1u);
  ApplyMerges(known, plan.merges);
  ASSERT_EQ(known.devices.size(), 1u);
  EXPECT_EQ(known.Survivor(2), 1);
  EXPECT_EQ(known.mac_aliases.size(), 1u);
  EXPECT_EQ(known.holdings.size(), 1u);
}

// Hostile input: a batch's neighbourhood at its bounds (512 devices, 64 addresses each, all the same
// addresses at the same time, and hosts behind a router on them) is decided quickly, and merges nothing.
TEST(IdentityTest, LargeNeighbourhoodIsDecidedQuickly) {
  Known known;
  for (int64_t id = 1; id <= 512; ++id) {
    const bool routed_host = id > 448;
    known.devices.push_back(
        KnownDevice{id, kSite, routed_host ? "" : "02:00:00:00:" + std::to_string(id), "", false, kT0, kT0 + kHour});
    for (int a = 0; a < 64; ++a) {
      known.holdings.push_back(Holding{id, kIp, "10.9.0." + std::to_string(a), kT0, kT0 + kHour});
    }
    known.holdings.push_back(Holding{id, kDhcpClientId, "ff00aabbccdd", kT0, kT0 + kHour});
  }
  const auto start = std::chrono::steady_clock::now();
  const MergePlan plan = PlanMerges(known, Rules{});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(plan.merges.empty());
  const RoutedHost host = ResolveRoutedHost(known, kSite, "10.9.0.7", kT0, kT0 + kMinute, Rules{});
  EXPECT_EQ(host.device_id, 449) << "shared by the MAC devices: the host behind the router that held it";
}

// Merges chain: the survivor of each is the oldest, and every old id resolves to it.
TEST(IdentityTest, ChainedMergesResolveToTheOldest) {
  Inventory inv;
  const std::string client_id = "ff00a1b2c3000100012c7a9f1d00abcd";
  std::vector<int64_t> ids;
  for (int day = 0; day < 5; ++day) {
    const std::string mac = "da:00:00:00:00:0" + std::to_string(day);
    ids.push_back(inv.See(With(Local(mac, "10.0.0.60", kT0 + day * kDay, kHour), "dhcp_client_id", client_id, "dhcp")));
  }
  EXPECT_EQ(inv.known.devices.size(), 1u);
  for (int64_t id = 1; id <= 5; ++id) EXPECT_EQ(inv.known.Survivor(id), 1);
  EXPECT_EQ(inv.known.FindByMac("da:00:00:00:00:04")->id, 1);
}

}  // namespace
}  // namespace auscult::collector::identity
