// Every capture in malformed/ (crafted to crash Wireshark's dissectors: fuzzer finds, ASan and
// Valgrind reports) through the whole sensor with every parser: each must end with the damage
// named as an anomaly, and the facts that survive must agree with tshark.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "sensor/parsers/oracle.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::RunSensor;
using ::auscult::sensor::testing::SensorRun;
using ::auscult::testing::CapturePath;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::TsharkFields;

// What the damage in each file must be reported as (a parser's or the decoder's counter), found by
// reading each file with tshark: the protocol it targets and where its bytes stop making sense.
const std::map<std::string, std::string> kNamedDamage = {
    {"malformed/dhcp-fuzz.pcapng", "dhcp_option_overrun"},                 // an option runs past the packet
    {"malformed/dhcp6_reconf_asan.pcap", "dhcpv6_relay_without_message"},  // a relay-forward without its message
    {"malformed/lldp_asan.pcap", "lldp_missing_mandatory_tlv"},            // the TTL TLV is missing
    {"malformed/lldp_mgmt_addr_tlv_asan.pcap", "lldp_missing_mandatory_tlv"},
    {"malformed/nbns-valgrind.pcap", "nbns_bad_name"},  // a name whose label length overruns
    {"malformed/badpackets.pcap", "dns_truncated"},     // DNS cut inside its records
    {"malformed/ssl-malformed1.pcap", "tls_bad_extension"},
};

TEST(MalformedCorpus, DamageIsNamed) {
  int files = 0;
  for (const std::string& name : ::auscult::testing::SharedCaptureFiles()) {
    if (!name.starts_with("malformed/")) continue;
    ++files;
    const SensorRun run = RunSensor(::auscult::testing::SharedCapturesDir() + "/" + name);
    for (const auto& [device, attribute, value] : run.facts) EXPECT_FALSE(value.empty()) << name;
    if (auto it = kNamedDamage.find(name); it != kNamedDamage.end()) {
      EXPECT_GT(run.anomalies.count(it->second), 0u) << name << " should count " << it->second;
    }
  }
  if (files == 0) GTEST_SKIP() << "../shared/captures is not beside the clone";
  EXPECT_GE(files, static_cast<int>(kNamedDamage.size()));
}

// The facts that survive the damage are those tshark reads too, and no others.
TEST(MalformedCorpus, SurvivingFactsAgreeWithTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  const auto http = CapturePath("malformed/HttpMalformedResponse.pcapng");
  const auto dns = CapturePath("malformed/dns-corrupt.pcap");
  if (!http || !dns) GTEST_SKIP() << "../shared/captures is not beside the clone";
  // An S3 error response with a header line without a colon: tshark reads the rest as the body, so
  // its Server field is not a header; the sensor stops at the same line and names the damage.
  const SensorRun http_run = RunSensor(*http);
  std::set<std::string> theirs, ours;
  for (const auto& r : TsharkFields(*http, {"http.server"}, "http.server")) theirs.insert(r[0]);
  for (const auto& [device, attribute, value] : http_run.facts) {
    if (attribute == Attribute::kServerSoftware) ours.insert(value);
  }
  EXPECT_EQ(ours, theirs);
  EXPECT_GT(http_run.anomalies.count("http_bad_field_line"), 0u);
  const SensorRun dns_run = RunSensor(*dns);
  int queries = 0;
  for (const auto& r : TsharkFields(*dns, {"eth.src", "dns.qry.name"}, "dns.flags.response == 0")) {
    ++queries;
    EXPECT_TRUE(dns_run.facts.count({r[0], Attribute::kDnsQuery, r[1]})) << r[1];
  }
  EXPECT_GT(queries, 0);
}

}  // namespace
}  // namespace auscult::sensor
