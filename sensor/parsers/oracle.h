#ifndef AUSCULT_SENSOR_PARSERS_ORACLE_H_
#define AUSCULT_SENSOR_PARSERS_ORACLE_H_

// Test helpers for parsers: run the whole packet path with every shipped parser over a capture and
// compare the facts with those tshark's fields give for the same capture.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_split.h"
#include "sensor/parsers/registry.h"
#include "sensor/testing.h"
#include "tests/support/test_support.h"

namespace auscult::sensor::testing {

// (device: MAC, or address for a host behind a router; attribute; value)
using FactKey = std::tuple<std::string, Attribute, std::string>;

inline std::set<FactKey> FactsOf(const std::string& path) {
  EngineOptions options;
  options.flows.parsers = Parsers();
  options.frame_parsers = FrameParsers();
  options.tcp_os = tcp_os::ShippedDatabase();
  EngineRun run;
  RunEngine(path, options, nullptr, run);
  std::set<FactKey> facts;
  for (const DeviceRecord& d : run.sink.devices) {
    const std::string device = d.mac.IsZero() ? d.ip.ToString() : d.mac.ToString();
    for (const FactRecord& f : d.facts) facts.insert({device, f.attribute, f.value});
  }
  return facts;
}

// Accumulates, over captures, how many values tshark found and how many of them Auscult found on
// the same device; prints the tally (the figure the parser issue asks for) when destroyed.
class OracleTally {
 public:
  explicit OracleTally(std::string protocol) : protocol_(std::move(protocol)) {}
  ~OracleTally() {
    std::printf("oracle %s: %d captures, %d values found by tshark, %d found by Auscult on the same device\n",
                protocol_.c_str(), captures_, expected_, matched_);
  }
  void Compare(const std::string& capture, const std::set<FactKey>& theirs, const std::set<FactKey>& ours) {
    ++captures_;
    for (const FactKey& k : theirs) {
      ++expected_;
      if (ours.count(k)) {
        ++matched_;
      } else {
        ADD_FAILURE() << protocol_ << ": " << capture << ": tshark has " << std::get<0>(k) << " "
                      << static_cast<int>(std::get<1>(k)) << " '" << std::get<2>(k) << "', Auscult does not";
      }
    }
  }
  int expected() const { return expected_; }

 private:
  std::string protocol_;
  int captures_ = 0;
  int expected_ = 0;
  int matched_ = 0;
};

// Which device a value belongs to, by the sensor's rule: the sender's MAC, unless that MAC sends
// from more addresses than a host holds (a router), in which case the address behind it; a
// router's own addresses (link-local ones, and those it announces by ARP or neighbor
// advertisement) stay its own.
class DeviceKeys {
 public:
  explicit DeviceKeys(const std::string& path) {
    std::map<std::string, std::set<std::string>> sources;
    for (const auto& r : ::auscult::testing::TsharkFields(path, {"eth.src", "ip.src"},
                                                          "ip && !(ip.src == 169.254.0.0/16) && ip.src != 0.0.0.0")) {
      sources[r[0]].insert(r[1]);
    }
    for (const auto& [mac, ips] : sources) {
      if (ips.size() > DeviceTableOptions{}.router_address_threshold) routers_.insert(mac);
    }
    for (const auto& r : ::auscult::testing::TsharkFields(
             path, {"eth.src", "arp.src.hw_mac", "arp.src.proto_ipv4", "icmpv6.nd.na.target_address"},
             "(arp && arp.src.hw_mac == eth.src) || icmpv6.type == 136")) {
      announced_.insert({r[0], r[2].empty() ? r[3] : r[2]});
    }
  }
  // `sensor_says_router`: the sensor found the MAC to route from the TTLs it forwards, which
  // tshark's fields do not give (see SensorRun::Device).
  std::string operator()(const std::string& mac, const std::string& ip, bool sensor_says_router = false) const {
    if (mac.empty() || mac == "00:00:00:00:00:00") return ip;
    if ((!routers_.count(mac) && !sensor_says_router) || announced_.count({mac, ip})) return mac;
    const auto address = IpAddress::Parse(ip);
    return address && address->IsLinkLocal() ? mac : ip;
  }

 private:
  std::set<std::string> routers_;
  std::set<std::pair<std::string, std::string>> announced_;  // (MAC, address) it announced
};

// What a run of every shipped parser over a capture gives: facts by device (as FactsOf keys them),
// the MACs the sensor took for routers (their hosts' facts sit on addresses), parser anomalies.
struct SensorRun {
  std::set<FactKey> facts;
  std::set<std::string> routers;
  std::map<std::string, uint64_t> anomalies;
  std::vector<FlowRecord> flows;  // every flow report, as export would get them

  // The device a value tshark saw from (mac, ip) belongs to: the oracle's rule, or the address
  // when the sensor found the MAC to route (forwarded TTLs, which tshark's fields do not give).
  std::string Device(const DeviceKeys& key, const std::string& mac, const std::string& ip) const {
    return key(mac, ip, routers.count(mac) > 0);
  }
};

inline SensorRun RunSensor(const std::string& path) {
  EngineOptions options;
  options.flows.parsers = Parsers();
  options.frame_parsers = FrameParsers();
  options.tcp_os = tcp_os::ShippedDatabase();
  EngineRun engine_run;
  RunEngine(path, options, nullptr, engine_run);
  SensorRun run;
  for (const DeviceRecord& d : engine_run.sink.devices) {
    const std::string device = d.mac.IsZero() ? d.ip.ToString() : d.mac.ToString();
    if (d.routes_traffic && !d.mac.IsZero()) run.routers.insert(d.mac.ToString());
    for (const FactRecord& f : d.facts) run.facts.insert({device, f.attribute, f.value});
  }
  for (const auto& [name, count] : engine_run.parser_anomalies) run.anomalies[std::string(name)] = count;
  run.flows = std::move(engine_run.sink.flows);
  return run;
}

// Fails for every fact of one of `attributes` that the sensor found and tshark did not: a value
// read from the wrong field, or about the wrong device.
inline void ExpectNothingBeyond(const std::set<FactKey>& theirs, const std::set<FactKey>& ours,
                                std::initializer_list<Attribute> attributes) {
  for (const FactKey& f : ours) {
    const Attribute a = std::get<1>(f);
    if (std::find(attributes.begin(), attributes.end(), a) == attributes.end() || theirs.count(f)) continue;
    ADD_FAILURE() << std::get<0>(f) << " " << static_cast<int>(a) << " '" << std::get<2>(f)
                  << "' is not in tshark's reading";
  }
}

// Corpus captures whose protocol hierarchy (tshark -qz io,phs, as recorded per file in the corpus's
// MANIFEST.md by the same tshark version) includes `protocol`; the bundled captures given when the
// corpus is absent. Selecting by the manifest saves a tshark run per file and test; the values
// themselves are always compared with a live tshark.
inline std::vector<std::string> CapturesWith(const std::string& protocol, const std::vector<std::string>& bundled) {
  std::vector<std::string> out;
  const std::string dir = ::auscult::testing::SharedCapturesDir();
  std::ifstream manifest(dir + "/MANIFEST.md");
  if (dir.empty() || !manifest) {
    for (const std::string& name : bundled) {
      if (const auto path = ::auscult::testing::CapturePath(name)) out.push_back(*path);
    }
    return out;
  }
  std::string line, current;
  while (std::getline(manifest, line)) {
    if (line.rfind("#### `", 0) == 0) {
      current = line.substr(6, line.find('`', 6) - 6);
    } else if (!current.empty() && line.rfind("- Protocols (tshark io,phs): ", 0) == 0) {
      std::string list = line.substr(std::string("- Protocols (tshark io,phs): ").size());
      for (const auto& p : absl::StrSplit(list, ", ")) {
        if (p == protocol) out.push_back(dir + "/" + current);
      }
    }
  }
  return out;
}

}  // namespace auscult::sensor::testing

#endif  // AUSCULT_SENSOR_PARSERS_ORACLE_H_
