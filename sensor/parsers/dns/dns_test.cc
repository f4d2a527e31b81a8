// DNS, mDNS/DNS-SD and LLMNR: facts against tshark on every corpus capture that holds them, and
// the message decoder on bytes.
#include "sensor/parsers/dns/dns_message.h"

#include <gtest/gtest.h>

#include <map>

#include "absl/strings/str_split.h"
#include "sensor/parsers/oracle.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::CapturesWith;
using ::auscult::sensor::testing::DeviceKeys;
using ::auscult::sensor::testing::FactKey;
using ::auscult::sensor::testing::FactsOf;
using ::auscult::sensor::testing::OracleTally;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::TsharkAllFields;
using ::auscult::testing::TsharkJson;

constexpr char kSep = '\x1e';

std::vector<std::string> Split(const std::string& s) {
  if (s.empty()) return {};
  return absl::StrSplit(s, kSep);
}

bool Malformed(const std::string& path) { return path.find("malformed/") != std::string::npos; }

// Every name a device asks for, per dialect: tshark's query names on the querier.
TEST(Dns, QueriesMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  struct Dialect {
    const char* protocol;
    const char* filter;
  };
  // ICMP errors quote the datagram they answer: tshark decodes the DNS inside, which nobody sent.
  const Dialect dialects[] = {
      {"dns", "dns && !mdns && !llmnr && !icmp && !icmpv6"},
      {"mdns", "mdns && !icmp && !icmpv6"},
      {"llmnr", "llmnr && !icmp && !icmpv6"},
  };
  for (const Dialect& dialect : dialects) {
    OracleTally tally(std::string(dialect.protocol) + " queries");
    for (const std::string& path : CapturesWith(dialect.protocol, {"dns/DnsPackets.pcap", "mixed/wikipedia.pcap"})) {
      if (Malformed(path)) continue;
      const DeviceKeys key(path);
      std::set<FactKey> theirs;
      for (const auto& r : TsharkAllFields(
               path, {"eth.src", "ip.src", "ipv6.src", "dns.qry.name"},
               std::string(dialect.filter) + " && dns.flags.response == 0 && dns.flags.opcode == 0 && !_ws.malformed",
               kSep)) {
        const std::string device = key(Split(r[0]).at(0), r[1].empty() ? r[2] : r[1]);
        for (const std::string& name : Split(r[3])) {
          if (name != "<Root>") theirs.insert({device, Attribute::kDnsQuery, name});
        }
      }
      tally.Compare(path, theirs, FactsOf(path));
    }
    EXPECT_GT(tally.expected(), 0) << dialect.protocol;
  }
}

// The model/vendor/firmware keys of DNS-SD TXT records, for the services a device advertises.
Attribute TxtAttribute(const std::string& key) {
  static const std::map<std::string, Attribute> kKeys = {
      {"model", Attribute::kModel},
      {"mdl", Attribute::kModel},
      {"md", Attribute::kModel},
      {"am", Attribute::kModel},
      {"ty", Attribute::kModel},
      {"usb_mdl", Attribute::kModel},
      {"product", Attribute::kModel},
      {"vendor", Attribute::kVendor},
      {"manufacturer", Attribute::kVendor},
      {"mfg", Attribute::kVendor},
      {"usb_mfg", Attribute::kVendor},
      {"firmware", Attribute::kFirmwareVersion},
      {"firmware_version", Attribute::kFirmwareVersion},
      {"fwvers", Attribute::kFirmwareVersion},
      {"fw", Attribute::kFirmwareVersion},
      {"fv", Attribute::kFirmwareVersion},
      {"serial", Attribute::kSerialNumber},
      {"serialnumber", Attribute::kSerialNumber},
  };
  const auto it = kKeys.find(absl::AsciiStrToLower(key));
  return it == kKeys.end() ? Attribute{} : it->second;
}

// ---- tshark's JSON decoding, record by record ----

using Struct = ::google::protobuf::Struct;
using Value = ::google::protobuf::Value;

// The first string of a field (fields that repeat within a record come as lists).
std::string Str(const Struct& s, const std::string& field) {
  const auto it = s.fields().find(field);
  if (it == s.fields().end()) return {};
  const Value& v = it->second;
  if (v.has_list_value()) return v.list_value().values_size() ? v.list_value().values(0).string_value() : "";
  return v.string_value();
}
std::vector<std::string> Strs(const Struct& s, const std::string& field) {
  const auto it = s.fields().find(field);
  if (it == s.fields().end()) return {};
  if (!it->second.has_list_value()) return {it->second.string_value()};
  std::vector<std::string> out;
  for (const Value& v : it->second.list_value().values()) out.push_back(v.string_value());
  return out;
}
const Struct* Sub(const Struct& s, const std::string& field) {
  const auto it = s.fields().find(field);
  return it != s.fields().end() && it->second.has_struct_value() ? &it->second.struct_value() : nullptr;
}

// Calls fn(record) for every resource record of `section` ("Answers", "Additional records", ...).
template <typename Fn>
void ForEachRecord(const Struct& dns, const std::string& section, Fn&& fn) {
  const Struct* records = Sub(dns, section);
  if (records == nullptr) return;
  for (const auto& [summary, value] : records->fields()) {
    if (value.has_struct_value()) fn(value.struct_value());
    if (value.has_list_value()) {  // records that tshark summarises alike
      for (const Value& v : value.list_value().values()) fn(v.struct_value());
    }
  }
}

// Each frame's layers, as tshark decodes them.
std::vector<Struct> TsharkLayers(const std::string& path, const std::string& filter, const std::string& protocols) {
  std::vector<Struct> out;
  const Value frames = TsharkJson(path, protocols, filter);  // kept: the loop reads into it
  for (const Value& frame : frames.list_value().values()) {
    out.push_back(frame.struct_value().fields().at("_source").struct_value().fields().at("layers").struct_value());
  }
  return out;
}

struct Sender {
  std::string mac, ip;
};
Sender SenderOf(const Struct& layers) {
  Sender s;
  if (const Struct* eth = Sub(layers, "eth")) s.mac = Str(*eth, "eth.src");
  if (const Struct* ip = Sub(layers, "ip")) s.ip = Str(*ip, "ip.src");
  if (const Struct* ip6 = Sub(layers, "ipv6"); ip6 != nullptr && s.ip.empty()) s.ip = Str(*ip6, "ipv6.src");
  return s;
}

// mDNS responses: every record is the sender's. Host names bound to the address it sends from,
// DNS-SD service types (from the service enumeration and from instance pointers), and the
// identity keys of its TXT records.
TEST(Mdns, HostNamesServicesAndModelsMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally names("mdns host names");
  OracleTally services("mdns services");
  OracleTally txt("mdns txt identity");
  for (const std::string& path : CapturesWith("mdns", {"mixed/wikipedia.pcap"})) {
    if (Malformed(path)) continue;
    const DeviceKeys key(path);
    std::set<FactKey> their_names, their_services, their_txt;
    for (const Struct& layers : TsharkLayers(
             path, "mdns && dns.flags.response == 1 && !icmp && !icmpv6 && !_ws.malformed", "eth ip ipv6 mdns")) {
      const Sender sender = SenderOf(layers);
      const std::string device = key(sender.mac, sender.ip);
      const Struct* mdns = Sub(layers, "mdns");
      ASSERT_NE(mdns, nullptr) << path;
      for (const char* section : {"Answers", "Authoritative nameservers", "Additional records"}) {
        ForEachRecord(*mdns, section, [&](const Struct& rr) {
          const std::string name = Str(rr, "dns.resp.name");
          const std::string type = Str(rr, "dns.resp.type");
          if (type == "1" || type == "28") {
            if (Str(rr, type == "1" ? "dns.a" : "dns.aaaa") == sender.ip) {
              their_names.insert({device, Attribute::kHostname, std::string(dns::HostPart(name))});
            }
          } else if (type == "12") {
            const std::string target = Str(rr, "dns.ptr.domain_name");
            const IpAddress reverse = dns::ReverseName(name);
            if (reverse.IsSet()) {
              if (reverse.ToString() == sender.ip) {
                their_names.insert({device, Attribute::kHostname, std::string(dns::HostPart(target))});
              }
            } else if (name == "_services._dns-sd._udp.local") {
              their_services.insert({device, Attribute::kService, dns::ServiceType(target)});
            } else if (const std::string service = dns::ServiceType(name); !service.empty()) {
              their_services.insert({device, Attribute::kService, service});
            }
          } else if (type == "16" && !dns::ServiceType(name).empty()) {
            for (const std::string& entry : Strs(rr, "dns.txt")) {
              const size_t eq = entry.find('=');
              if (eq == std::string::npos || eq + 1 == entry.size()) continue;
              const Attribute attribute = TxtAttribute(entry.substr(0, eq));
              std::string value = entry.substr(eq + 1);
              if (entry.substr(0, eq) == "product" && value.size() >= 2 && value.front() == '(') {
                value = value.substr(1, value.size() - 2);
              }
              if (attribute != Attribute{}) their_txt.insert({device, attribute, value});
            }
          }
        });
      }
    }
    const auto ours = FactsOf(path);
    names.Compare(path, their_names, ours);
    services.Compare(path, their_services, ours);
    txt.Compare(path, their_txt, ours);
  }
  EXPECT_GT(names.expected(), 0);
  EXPECT_GT(services.expected(), 0);
  EXPECT_GT(txt.expected(), 0);
}

// LLMNR answers: a host answers for its own name with its own address.
TEST(Llmnr, AnswersMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally tally("llmnr host names");
  for (const std::string& path : CapturesWith("llmnr", {"mixed/wikipedia.pcap"})) {
    if (Malformed(path)) continue;
    const DeviceKeys key(path);
    std::set<FactKey> theirs;
    for (const auto& r :
         TsharkAllFields(path, {"eth.src", "ip.src", "ipv6.src", "dns.resp.name", "dns.a", "dns.aaaa"},
                         "llmnr && dns.flags.response == 1 && dns.flags.rcode == 0 && !icmp && !_ws.malformed", kSep)) {
      const std::string sender = r[1].empty() ? r[2] : r[1];
      for (const std::string& address : Split(r[4] + (r[4].empty() || r[5].empty() ? "" : "\x1e") + r[5])) {
        if (address == sender && !r[3].empty()) {
          theirs.insert({key(Split(r[0]).at(0), sender), Attribute::kHostname, Split(r[3]).at(0)});
        }
      }
    }
    tally.Compare(path, theirs, FactsOf(path));
  }
}

// A server's A/AAAA answers name the device that holds the address, wherever the sensor knows
// that device: on the segment (by MAC) or behind a router (by address). Names for addresses the
// sensor knows no device for are dropped, and counted.
TEST(Dns, AnswersLandOnTheDevicesHoldingTheAddresses) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally tally("dns answers on known devices");
  uint64_t unplaced = 0;
  for (const std::string& path : CapturesWith("dns", {"mixed/wikipedia.pcap", "dns/DnsPackets.pcap"})) {
    if (Malformed(path)) continue;
    EngineOptions options;
    options.flows.parsers = Parsers();
    options.frame_parsers = FrameParsers();
    ::auscult::sensor::testing::EngineRun run;
    ::auscult::sensor::testing::RunEngine(path, options, nullptr, run);
    unplaced += run.device_stats.address_facts_unplaced;
    // Which device holds which address, as the sensor reported it (a window's addresses; the last
    // report wins, which is enough for these short captures).
    std::map<std::string, std::string> holder;
    std::set<FactKey> ours;
    for (const DeviceRecord& d : run.sink.devices) {
      const std::string device = d.mac.IsZero() ? d.ip.ToString() : d.mac.ToString();
      if (d.mac.IsZero()) holder[d.ip.ToString()] = device;
      for (const AddressRecord& a : d.addresses) {
        if (a.locality != Locality::kRouted) holder[a.ip.ToString()] = device;
      }
      for (const FactRecord& f : d.facts) ours.insert({device, f.attribute, f.value});
    }
    std::set<FactKey> theirs;
    for (const Struct& layers : TsharkLayers(path,
                                             "dns && !mdns && !llmnr && dns.flags.response == 1 && "
                                             "dns.flags.rcode == 0 && !icmp && !icmpv6 && !_ws.malformed",
                                             "dns")) {
      const Struct* dns = Sub(layers, "dns");
      ASSERT_NE(dns, nullptr) << path;
      ForEachRecord(*dns, "Answers", [&](const Struct& rr) {
        const std::string type = Str(rr, "dns.resp.type");
        if (type != "1" && type != "28") return;
        const std::string address = Str(rr, type == "1" ? "dns.a" : "dns.aaaa");
        if (const auto h = holder.find(address); h != holder.end()) {
          theirs.insert({h->second, Attribute::kFqdn, Str(rr, "dns.resp.name")});
        }
      });
    }
    tally.Compare(path, theirs, ours);
  }
  EXPECT_GT(tally.expected(), 0);
  EXPECT_GT(unplaced, 0u) << "internet servers' names should have been dropped";
}

// ---- the decoder on bytes ----

std::vector<uint8_t> Bytes(std::initializer_list<int> v) { return std::vector<uint8_t>(v.begin(), v.end()); }

TEST(DnsMessage, NamesWithPointers) {
  // Header (12 bytes), question "pump.local" A IN, answer with name = pointer to the question.
  std::vector<uint8_t> m = Bytes({0x12, 0x34, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 0});
  for (int b : std::initializer_list<int>{4, 'p', 'u', 'm', 'p', 5, 'l', 'o', 'c', 'a', 'l', 0, 0, 1, 0, 1})
    m.push_back(static_cast<uint8_t>(b));
  for (int b : {0xc0, 12, 0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4, 10, 1, 2, 3}) m.push_back(static_cast<uint8_t>(b));
  dns::Message msg;
  dns::Error error;
  ASSERT_TRUE(dns::Parse(m, msg, error)) << dns::AnomalyName(dns::Dialect::kDns, error);
  EXPECT_TRUE(msg.response);
  ASSERT_EQ(msg.questions.size(), 1u);
  EXPECT_EQ(msg.questions[0].name, "pump.local");
  ASSERT_EQ(msg.records.size(), 1u);
  EXPECT_EQ(msg.records[0].name, "pump.local");
  EXPECT_EQ(msg.records[0].klass, 1);  // cache-flush bit cleared
  EXPECT_EQ(msg.records[0].address.ToString(), "10.1.2.3");

  // A pointer to itself, forwards, or a name past 255 bytes: refused, not followed.
  std::vector<uint8_t> loop = Bytes({0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1});
  EXPECT_FALSE(dns::Parse(loop, msg, error));
  EXPECT_EQ(error, dns::Error::kBadName);
  std::vector<uint8_t> forward = Bytes({0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 18, 0, 1, 0, 1, 0});
  EXPECT_FALSE(dns::Parse(forward, msg, error));
  std::vector<uint8_t> longname = Bytes({0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0});
  for (int i = 0; i < 5; ++i) {
    longname.push_back(63);
    longname.insert(longname.end(), 63, 'x');
  }
  longname.insert(longname.end(), {0, 0, 1, 0, 1});
  EXPECT_FALSE(dns::Parse(longname, msg, error));
  EXPECT_EQ(error, dns::Error::kBadName);
  // Counts that promise more than any message holds.
  std::vector<uint8_t> many = Bytes({0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0});
  EXPECT_FALSE(dns::Parse(many, msg, error));
  EXPECT_EQ(error, dns::Error::kTooManyRecords);
}

TEST(DnsMessage, ReverseNamesAndServiceTypes) {
  EXPECT_EQ(dns::ReverseName("7.2.0.10.in-addr.arpa").ToString(), "10.0.2.7");
  EXPECT_EQ(dns::ReverseName("4.c.d.4.1.e.e.f.f.f.6.d.c.3.8.8.5.3.2.8.c.3.0.c.e.9.2.4.2.5.d.f.ip6.arpa").ToString(),
            "fd52:429e:c03c:8235:883c:d6ff:fee1:4dc4");
  for (const char* no :
       {"256.0.0.10.in-addr.arpa", "2.0.10.in-addr.arpa", "x.2.0.10.in-addr.arpa", "a.ip6.arpa", "pump.local", ""}) {
    EXPECT_FALSE(dns::ReverseName(no).IsSet()) << no;
  }
  EXPECT_EQ(dns::ServiceType("_ipp._tcp.local"), "_ipp._tcp");
  EXPECT_EQ(dns::ServiceType("Ward 4 printer._ipp._tcp.local"), "_ipp._tcp");
  EXPECT_EQ(dns::ServiceType("Printer v2.1._ipp._tcp.local"), "_ipp._tcp");
  EXPECT_EQ(dns::ServiceType("_universal._sub._ipp._tcp.local"), "_ipp._tcp");
  EXPECT_EQ(dns::ServiceType("_sleep-proxy._udp.local"), "_sleep-proxy._udp");
  EXPECT_EQ(dns::ServiceType("pump.local"), "");
  EXPECT_EQ(dns::ServiceType("._tcp.local"), "");
  EXPECT_EQ(dns::ServiceType("x._tcpx.local"), "");
  EXPECT_EQ(dns::HostPart("Lucas-iMac.local"), "Lucas-iMac");
  EXPECT_EQ(dns::HostPart("monitor-7.LOCAL."), "monitor-7");
  EXPECT_EQ(dns::HostPart("pacs.hospital.org"), "pacs.hospital.org");
}

// Real messages from the corpus, cut at every length and with bytes damaged: always a decision,
// never a read out of bounds.
TEST(DnsMessage, DamagedRealMessages) {
  const auto path = ::auscult::testing::CapturePath("dns/DnsPackets.pcap");
  ASSERT_TRUE(path);
  std::vector<std::vector<uint8_t>> payloads;
  ::auscult::sensor::testing::ForEachFrame(*path, [&](const RawFrame& f) {
    Decoder d;
    PacketView v;
    if (d.Decode(f, v) && v.ip_protocol == kIpProtoUdp && payloads.size() < 40) {
      payloads.emplace_back(v.payload.begin(), v.payload.end());
    }
  });
  ASSERT_FALSE(payloads.empty());
  int parsed = 0, refused = 0;
  for (const auto& p : payloads) {
    dns::Message m;
    dns::Error error;
    if (dns::Parse(p, m, error)) ++parsed;
    for (size_t cut = 0; cut < p.size(); ++cut) {
      if (!dns::Parse(std::span(p.data(), cut), m, error)) ++refused;
    }
    std::vector<uint8_t> damaged = p;
    for (size_t i = 0; i < damaged.size(); ++i) {
      const uint8_t saved = damaged[i];
      damaged[i] ^= 0xff;
      dns::Parse(damaged, m, error);
      damaged[i] = saved;
    }
  }
  EXPECT_EQ(parsed, static_cast<int>(payloads.size()));
  EXPECT_GT(refused, 0);
}

// The corpus's malformed DNS captures: decoded as far as tshark decodes them, without a crash.
// (tshark finds nothing wrong in dns-corrupt.pcap's two messages, and neither does the decoder.)
TEST(Dns, MalformedCaptures) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  for (const char* name : {"malformed/dns-corrupt.pcap", "malformed/badpackets.pcap"}) {
    const auto path = ::auscult::testing::CapturePath(name);
    if (!path) continue;
    const DeviceKeys key(*path);
    const auto ours = FactsOf(*path);
    for (const auto& r : TsharkAllFields(*path, {"eth.src", "ip.src", "dns.qry.name"},
                                         "dns && dns.flags.response == 0 && !icmp && !_ws.malformed", kSep)) {
      for (const std::string& q : Split(r[2])) {
        EXPECT_TRUE(ours.count({key(r[0], r[1]), Attribute::kDnsQuery, q})) << name << ": " << q;
      }
    }
  }
}

}  // namespace
}  // namespace auscult::sensor
