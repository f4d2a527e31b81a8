// The device table against tshark on real captures: which MACs exist, which addresses they hold,
// which of them route for others.
#include "sensor/inventory/device_table.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "common/cidr.h"
#include "sensor/parsers/registry.h"
#include "sensor/testing.h"
#include "tests/support/test_support.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::EngineRun;
using ::auscult::sensor::testing::RunEngine;
using ::auscult::testing::CapturePath;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::TsharkFields;

std::set<std::string> DeviceMacs(const EngineRun& run) {
  std::set<std::string> macs;
  for (const DeviceRecord& d : run.sink.devices) macs.insert(d.mac.ToString());
  return macs;
}

// Distinct unicast, non-zero source MACs, as tshark lists them.
std::set<std::string> TsharkSourceMacs(const std::string& path) {
  std::set<std::string> macs;
  for (const auto& row :
       TsharkFields(path, {"eth.src"}, "eth.src && eth.src.ig == 0 && eth.src != 00:00:00:00:00:00")) {
    macs.insert(row[0]);
  }
  return macs;
}

class DevicesVsTshark : public ::testing::TestWithParam<std::string> {};

TEST_P(DevicesVsTshark, OneDevicePerSourceMac) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  const auto path = CapturePath(GetParam());
  if (!path) GTEST_SKIP() << GetParam() << " is neither in tests/data/captures nor in ../shared/captures";
  EngineRun run;
  RunEngine(*path, EngineOptions{}, nullptr, run);
  const auto theirs = TsharkSourceMacs(*path);
  EXPECT_FALSE(theirs.empty());
  EXPECT_EQ(DeviceMacs(run), theirs) << GetParam();
  EXPECT_EQ(run.device_stats.devices_seen, theirs.size());
}

INSTANTIATE_TEST_SUITE_P(Captures, DevicesVsTshark,
                         ::testing::Values("medical/hl7.pcap", "mixed/wikipedia.pcap", "ethernet-vlan/twovlan.pcap",
                                           "ethernet-vlan/802.1ad_QinQ.pcap", "dhcp/dhcp.pcap",
                                           "lldp-cdp/LLDP_and_CDP.pcap", "arp/cloudshark-arp.pcap",
                                           "dns/DnsPackets.pcap", "mixed/example.pcap", "mixed/1kxun.pcap",
                                           "mixed/telegram.pcap", "mdns-dnssd/iphone.pcap",
                                           "ethernet-vlan/VlanPackets.pcap"),
                         ::auscult::testing::CaptureTestName());

// ARP replies and requests bind the sender's IPv4 address to its MAC.
TEST(DeviceTable, ArpBindsAddresses) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed";
  for (const char* name : {"arp/cloudshark-arp.pcap", "mixed/wikipedia.pcap"}) {
    const auto path = CapturePath(name);
    ASSERT_TRUE(path);
    EngineRun run;
    RunEngine(*path, EngineOptions{}, nullptr, run);
    std::set<std::pair<std::string, std::string>> ours;
    for (const DeviceRecord& d : run.sink.devices) {
      for (const AddressRecord& a : d.addresses) {
        if (a.source == AddressSource::kArp) ours.insert({d.mac.ToString(), a.ip.ToString()});
      }
    }
    std::set<std::pair<std::string, std::string>> theirs;
    for (const auto& r : TsharkFields(*path, {"arp.src.hw_mac", "arp.src.proto_ipv4"},
                                      "arp && arp.src.hw_mac == eth.src && arp.src.proto_ipv4 != 0.0.0.0")) {
      theirs.insert({r[0], r[1]});
    }
    EXPECT_FALSE(theirs.empty()) << name;
    EXPECT_EQ(ours, theirs) << name;
  }
}

// A MAC that sends from more addresses than a host holds is a router: it is flagged and the
// addresses of the hosts behind it are not reported as its own. Everyone else keeps theirs.
TEST(DeviceTable, RoutersAreFlaggedAndWhatTheyForwardIsMarkedRouted) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed";
  for (const char* name : {"mixed/example.pcap", "mixed/wikipedia.pcap", "dns/DnsPackets.pcap"}) {
    const auto path = CapturePath(name);
    if (!path) continue;
    EngineRun run;
    RunEngine(*path, EngineOptions{}, nullptr, run);
    // Oracle: distinct non-link-local source IPv4 addresses per source MAC, from tshark.
    std::map<std::string, std::set<std::string>> sources;
    for (const auto& r :
         TsharkFields(*path, {"eth.src", "ip.src"}, "ip && !(ip.src == 169.254.0.0/16) && ip.src != 0.0.0.0")) {
      sources[r[0]].insert(r[1]);
    }
    const size_t threshold = DeviceTableOptions{}.router_address_threshold;
    std::map<std::string, bool> routes;
    std::map<std::string, std::set<std::string>> traffic_addresses;
    for (const DeviceRecord& d : run.sink.devices) {
      routes[d.mac.ToString()] |= d.routes_traffic;
      for (const AddressRecord& a : d.addresses) {
        if (a.source == AddressSource::kTraffic) traffic_addresses[d.mac.ToString()].insert(a.ip.ToString());
      }
    }
    for (const auto& [mac, ips] : sources) {
      const bool router = ips.size() > threshold;
      EXPECT_EQ(routes[mac], router) << name << " " << mac << " sends from " << ips.size() << " addresses";
      if (!router) {
        for (const std::string& ip : ips)
          EXPECT_TRUE(traffic_addresses[mac].count(ip)) << name << " " << mac << " " << ip;
      }
    }
  }
}

// With the segment's networks configured, an address is local exactly when it is inside them.
TEST(DeviceTable, LocalNetworksDecideLocality) {
  const auto path = CapturePath("mixed/wikipedia.pcap");
  ASSERT_TRUE(path);
  EngineOptions options;
  const Cidr lan = *Cidr::Parse("141.142.220.0/24");
  options.devices.local_networks = {lan};
  EngineRun run;
  RunEngine(*path, options, nullptr, run);
  int local = 0, routed = 0;
  for (const DeviceRecord& d : run.sink.devices) {
    for (const AddressRecord& a : d.addresses) {
      if (!a.ip.IsV4()) continue;
      const Locality expected =
          a.source != AddressSource::kTraffic || lan.Contains(a.ip) ? Locality::kLocal : Locality::kRouted;
      EXPECT_EQ(a.locality, expected) << d.mac.ToString() << " " << a.ip.ToString();
      (a.locality == Locality::kLocal ? local : routed)++;
    }
  }
  EXPECT_GT(local, 0);
  EXPECT_GT(routed, 0);
}

// IPv6 neighbor discovery binds addresses to MACs as ARP does for IPv4 (tshark as the oracle), and
// router advertisements teach the on-link prefixes.
TEST(DeviceTable, NeighborDiscoveryBindsAndTeaches) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed";
  int bindings_checked = 0, prefixes_checked = 0;
  for (const char* name : {"ipv6-nd/icmpv6_neighbor_solicitation.pcapng", "ipv6-nd/icmpv6.pcap",
                           "ipv6-nd/icmp_nd_dnssl.pcap", "ipv6-nd/icmpv6-ra-pref64.pcap",
                           "dhcpv6/wireshark-dhcpv6.pcap", "mixed/android.pcap", "mdns-dnssd/iphone.pcap"}) {
    const auto path = CapturePath(name);
    if (!path) continue;
    EngineRun run;
    RunEngine(*path, EngineOptions{}, nullptr, run);
    std::set<std::pair<std::string, std::string>> ours;
    for (const DeviceRecord& d : run.sink.devices) {
      for (const AddressRecord& a : d.addresses) {
        if (a.source == AddressSource::kNdp) ours.insert({d.mac.ToString(), a.ip.ToString()});
      }
    }
    std::set<std::pair<std::string, std::string>> theirs;
    for (const auto& r : TsharkFields(*path,
                                      {"icmpv6.type", "eth.src", "ipv6.src", "icmpv6.opt.src_linkaddr",
                                       "icmpv6.nd.na.target_address", "icmpv6.opt.target_linkaddr"},
                                      "icmpv6.type >= 133 && icmpv6.type <= 136")) {
      if (r[0] == "136") {
        const std::string mac = r[5].empty() ? r[1] : r[5];
        if (mac == r[1]) theirs.insert({mac, r[4]});
      } else if (!r[3].empty() && r[3] == r[1] && r[2] != "::") {
        theirs.insert({r[1], r[2]});
      }
    }
    EXPECT_EQ(ours, theirs) << name;
    bindings_checked += static_cast<int>(theirs.size());

    // On-link prefixes (L flag) of router advertisements.
    Decoder decoder;
    DeviceTable table(DeviceTableOptions{}, nullptr);
    PacketView v;
    ::auscult::sensor::testing::ForEachFrame(*path, [&](const RawFrame& f) {
      if (decoder.Decode(f, v)) table.Update(v);
    });
    std::set<std::string> learned;
    for (const Cidr& c : table.learned_prefixes()) learned.insert(c.ToString());
    std::set<std::string> announced;
    for (const auto& r : TsharkFields(*path, {"icmpv6.opt.prefix", "icmpv6.opt.prefix.length"},
                                      "icmpv6.type == 134 && icmpv6.opt.prefix.flag.l == 1")) {
      if (!Cidr::Parse(r[0])->network.IsLinkLocal()) announced.insert(Cidr::Parse(r[0] + "/" + r[1])->ToString());
    }
    EXPECT_EQ(learned, announced) << name;
    prefixes_checked += static_cast<int>(announced.size());
  }
  EXPECT_GT(bindings_checked, 0);
  EXPECT_GT(prefixes_checked, 0);
}

// Vendor facts come from the OUI database; randomized MACs are said to be so.
TEST(DeviceTable, VendorAndRandomizedMacFacts) {
  auto oui = OuiDatabase::Load(std::string(OuiDatabase::kDefaultDirectory));
  if (!oui.ok()) GTEST_SKIP() << oui.status();
  const auto path = CapturePath("mixed/wikipedia.pcap");
  ASSERT_TRUE(path);
  EngineRun run;
  RunEngine(*path, EngineOptions{}, oui->get(), run);
  int with_vendor = 0;
  for (const DeviceRecord& d : run.sink.devices) {
    const std::string expected((*oui)->Lookup(d.mac));
    std::string vendor;
    bool randomized = false;
    for (const FactRecord& f : d.facts) {
      if (f.attribute == Attribute::kVendor) vendor = f.value;
      if (f.attribute == Attribute::kMacRandomized) randomized = true;
    }
    EXPECT_EQ(vendor, expected) << d.mac.ToString();
    EXPECT_EQ(randomized, d.mac.IsLocallyAdministered()) << d.mac.ToString();
    with_vendor += !vendor.empty();
  }
  EXPECT_GT(with_vendor, 0);
}

// A chatty protocol costs one fact per value and window: the repeats raise its count, which equals
// how often tshark sees the value sent.
TEST(DeviceTable, FactsAreDeduplicatedPerWindowWithCounts) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  const auto path = CapturePath("mixed/wikipedia.pcap");
  ASSERT_TRUE(path);
  EngineOptions options;
  options.flows.parsers = Parsers();
  options.report_interval = 1000000 * kNanosPerSecond;  // one window for the whole capture
  EngineRun run;
  RunEngine(*path, options, nullptr, run);
  std::map<std::pair<std::string, std::string>, uint32_t> ours;  // (MAC, query) -> count
  for (const DeviceRecord& d : run.sink.devices) {
    // The same value from another parser or field is other evidence, and kept apart.
    std::set<std::tuple<Attribute, std::string, std::string_view, std::string_view>> seen;
    for (const FactRecord& f : d.facts) {
      EXPECT_TRUE(seen.insert({f.attribute, f.value, f.protocol, f.field}).second)
          << "repeated in one window: " << f.value;
      if (f.attribute == Attribute::kDnsQuery && f.protocol == "dns") ours[{d.mac.ToString(), f.value}] = f.count;
    }
  }
  std::map<std::pair<std::string, std::string>, uint32_t> theirs;
  for (const auto& r : TsharkFields(*path, {"eth.src", "dns.qry.name"}, "dns && dns.flags.response == 0 && !mdns")) {
    ++theirs[{r[0], r[1]}];
  }
  EXPECT_EQ(ours, theirs);
  uint32_t repeats = 0;
  for (const auto& [key, n] : theirs) repeats += n - 1;
  EXPECT_GT(repeats, 0u) << "the capture should repeat some queries";
}

// However many distinct values a device sends in a window, it reports at most kMaxFactsPerWindow
// and counts the rest as dropped.
TEST(DeviceTable, FactsPerWindowAreBounded) {
  DeviceTable table(DeviceTableOptions{}, nullptr);
  const MacAddress mac = *MacAddress::Parse("00:1b:3c:00:00:01");
  const size_t sent = DeviceTable::kMaxFactsPerWindow + 50;
  std::vector<std::string> names;
  for (size_t i = 0; i < sent; ++i) names.push_back("host" + std::to_string(i) + ".example");
  for (const std::string& n : names) {
    table.OnFact(&mac, IpAddress{}, Fact{Attribute::kDnsQuery, n, "dns", "qname", 0.9f}, kNanosPerSecond);
  }
  struct Sink : ObservationSink {
    std::vector<DeviceRecord> devices;
    void OnDevice(const DeviceRecord& d) override { devices.push_back(d); }
    void OnFlow(const FlowRecord&) override {}
    void OnWindowEnd() override {}
  } sink;
  table.EndWindow(2 * kNanosPerSecond, sink);
  ASSERT_EQ(sink.devices.size(), 1u);
  EXPECT_EQ(sink.devices[0].facts.size(), DeviceTable::kMaxFactsPerWindow);
  EXPECT_EQ(table.stats().facts_dropped, sent - DeviceTable::kMaxFactsPerWindow);
}

}  // namespace
}  // namespace auscult::sensor
