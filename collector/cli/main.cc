// auscult: the command line that security teams use against a collector's query API.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "auscult/v1/query.grpc.pb.h"
#include "collector/cli/advisory_commands.h"
#include "collector/cli/graph_commands.h"
#include "collector/cli/output_format.h"
#include "collector/cli/segments_csv.h"
#include "collector/cli/table.h"
#include "common/flags.h"
#include "common/host_port.h"
#include "common/json_writer.h"
#include "common/logging.h"
#include "common/text.h"
#include "common/tls.h"

ABSL_FLAG(std::string, collector, "127.0.0.1:7740", "Collector address HOST:PORT");
ABSL_FLAG(bool, insecure, false, "Talk to the collector in plain text, unauthenticated (trusted networks only)");
ABSL_FLAG(std::string, tls_ca, "", "Mutual TLS: the site CA (PEM) the collector's certificate must be of");
ABSL_FLAG(std::string, tls_cert, "",
          "Mutual TLS: your certificate (PEM; common name analyst:<name> to query, admin:<name> to change too)");
ABSL_FLAG(std::string, tls_key, "", "Mutual TLS: its private key (PEM)");
ABSL_FLAG(bool, json, false, "Print a JSON array instead of a table");
ABSL_FLAG(int64_t, limit, 0, "Print at most this many rows (0 = all)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30), "Deadline of each call to the collector");
// Filters.
ABSL_FLAG(std::string, vendor, "", "devices: vendor contains this text (any case)");
ABSL_FLAG(std::string, ip, "", "devices: holds this address; connections: from or to this address");
ABSL_FLAG(std::string, mac, "", "devices: has this MAC address");
ABSL_FLAG(int32_t, vlan, 0, "devices: seen on this VLAN id");
ABSL_FLAG(std::string, sensor, "", "devices: seen by this sensor id");
ABSL_FLAG(std::string, site, "", "devices, sensors: at this site; the graph commands: that site's own edges");
ABSL_FLAG(std::string, type, "", "devices: of this device type, e.g. infusion-pump, ct, pacs, workstation");
ABSL_FLAG(std::string, category, "", "devices: of this category: medical, clinical-it, it, iot-building, network");
ABSL_FLAG(int32_t, min_risk, 0, "devices: with a risk score of at least this (0-100)");
ABSL_FLAG(int32_t, max_risk, -1, "devices: with a risk score of at most this (0-100; -1 = any)");
ABSL_FLAG(std::string, department, "", "devices: in this department (any case); graph: its devices and their peers");
ABSL_FLAG(std::string, wing, "", "devices: seen last by a sensor of this wing");
ABSL_FLAG(std::string, patient_connection, "", "devices: of this patient connection: direct, indirect, none, unknown");
ABSL_FLAG(std::string, state, "", "devices: active or inactive");
ABSL_FLAG(bool, all, false, "department-flows: every flow, not only clinical ones");
ABSL_FLAG(bool, external, false, "connections: only those with an end outside the hospital's networks (exposure)");
ABSL_FLAG(int32_t, hops, 1, "graph: with --device, how many hops around it (1-4)");
ABSL_FLAG(std::string, format, "json",
          "graph: json, dot, graphml or html (one page to open in a browser); policy derive: text (the default "
          "there), nftables or iptables");
ABSL_FLAG(int32_t, max_nodes, 0, "graph: at most this many nodes (default 500, at most 5000)");
ABSL_FLAG(std::string, order, "risk", "devices: risk (highest first) or id");
ABSL_FLAG(int64_t, device, 0, "connections: from or to this device id; graph: around this device");
ABSL_FLAG(int32_t, port, 0, "connections: to this destination port");
ABSL_FLAG(std::string, transport, "", "connections: tcp, udp, icmp, icmpv6 or an IP protocol number");
ABSL_FLAG(std::string, protocol, "", "connections: application protocol, e.g. dns, http, hl7");
ABSL_FLAG(std::string, field, "",
          "device set: the field to set (hostname, vendor, model, serial, os, os_version, "
          "software_version, firmware_version, patch_level, department, device_type, category, patient_connection, "
          "fda_class, tag: an operator's group name for policies)");
ABSL_FLAG(std::string, value, "", "device set: the value an analyst gives the field");
ABSL_FLAG(bool, clear, false, "device set: remove the override of --field, so that the evidence decides again");
ABSL_FLAG(bool, replace, false, "segments import: forget the segments of the sites the file names first");
ABSL_FLAG(std::string, certificate, "",
          "sensors revoke/unrevoke: only this certificate of the sensor (its PEM file), not the sensor id");
ABSL_FLAG(std::string, fingerprint, "",
          "sensors revoke/unrevoke: only the certificate of this SHA-256 (64 hex digits, colons allowed; "
          "`auscult sensors --json` shows each sensor's)");
ABSL_FLAG(std::string, reason, "", "sensors revoke: why, for the record");
ABSL_FLAG(bool, clinical, false, "connections, graph: only clinical ones (HL7, DICOM, FHIR, device protocols)");
ABSL_FLAG(bool, phi, false,
          "connections: only those that carried patient data (its kinds, never the data); devices: only those "
          "that took part in such flows");

namespace auscult::cli {
namespace {

constexpr char kUsage[] =
    "Query an Auscult collector: the devices on the hospital network and who they talk to.\n"
    "Give --tls_ca, --tls_cert and --tls_key (an analyst's or admin's certificate from deploy/pki.sh) or --insecure.\n"
    "\n"
    "  auscult [--collector=HOST:PORT] --insecure devices [--json] [--vendor=TEXT] [--ip=ADDR] [--vlan=N]\n"
    "                                                  [--type=TYPE] [--category=CAT] [--min_risk=N] "
    "[--order=risk|id]\n"
    "      sorted by patient-safety risk, highest first (docs/risk.md); --json adds evidence and classification\n"
    "  auscult [--collector=HOST:PORT] --insecure device ID [--json]\n"
    "  auscult [--collector=HOST:PORT] --insecure connections [--json] [--device=ID] [--ip=ADDR] [--port=N]\n"
    "                                                      [--transport=tcp|udp|...] [--protocol=NAME]\n"
    "                                                      [--clinical] [--phi] [--external]\n"
    "  auscult [--collector=HOST:PORT] --insecure device set ID --field=model --value=TEXT | --clear\n"
    "      an analyst's value wins over the evidence and survives new observations\n"
    "  auscult [--collector=HOST:PORT] --insecure graph [--device=ID [--hops=N] | --department=D] [--site=S]\n"
    "                                                [--clinical] [--max_nodes=N] [--format=json|dot|graphml|html]\n"
    "      who talks to whom: devices (and groups of outside hosts) and their connections; html is a page\n"
    "      that draws them in any browser, offline (auscult graph --format=html > graph.html)\n"
    "  auscult [--collector=HOST:PORT] --insecure department-flows [--json] [--all] [--site=SITE]\n"
    "      clinical flows between departments (the segment map's), with patient data and cleartext\n"
    "  auscult [--collector=HOST:PORT] --insecure services --port=N | --protocol=NAME [--json] [--device=ID]\n"
    "      who uses a service: each client and server pair, with flows, bytes and tags\n"
    "  auscult [--collector=HOST:PORT] --insecure exposure [--json] [--clinical] [--device=ID]\n"
    "      the devices that talk with hosts outside the hospital's networks, and how\n"
    "  auscult [--collector=HOST:PORT] --insecure new-edges [--since=24h|RFC3339] [--json] [--device=ID]\n"
    "      connections that appeared after the baseline (each device's first --learning_period)\n"
    "  auscult [--collector=HOST:PORT] --insecure top [--since=24h|RFC3339] [--by=bytes|flows|peers] [--json]\n"
    "      the nodes that moved the most bytes (flows, peers) in the window\n"
    "  auscult [--collector=HOST:PORT] --insecure paths FROM_ID TO_ID [--max_hops=N] [--undirected] [--json]\n"
    "      how one device reaches another through who talks to whom, fewest hops first\n"
    "  auscult [--collector=HOST:PORT] --insecure watch [--after=EVENT_ID] [--kinds=K,...] [--count=N] [--json]\n"
    "      changes as they happen: device_new, device_changed, edge_new, sensor_down, sensor_up\n"
    "  auscult [--collector=HOST:PORT] --insecure status [--json] [--site=SITE]\n"
    "      the collector, its database and every sensor at a glance; exit 3 when the database fails or a\n"
    "      sensor is silent (for monitoring scripts)\n"
    "  auscult [--collector=HOST:PORT] --insecure sensors [--json] [--site=SITE]\n"
    "      each sensor's health: up or silent, packets, drops, malformed frames, devices, VLANs\n"
    "  auscult [--collector=HOST:PORT] --insecure sensors revoke ID [--certificate=FILE.pem | --fingerprint=SHA256]\n"
    "                                                   [--reason=TEXT]\n"
    "      refuse the sensor's streams (a streaming one at its next batch): every certificate for sensor ID,\n"
    "      or only the one given, so that a new certificate for the same ID works (admins; docs/security.md)\n"
    "  auscult [--collector=HOST:PORT] --insecure sensors unrevoke ID [--certificate=FILE.pem | --fingerprint=SHA256]\n"
    "  auscult [--collector=HOST:PORT] --insecure sensors revoked [--json]\n"
    "  auscult [--collector=HOST:PORT] --insecure segments [--json]\n"
    "  auscult [--collector=HOST:PORT] --insecure advisories import PATH... [--json]\n"
    "      security advisories in CSAF 2.0 (files, or folders of *.json), offline; the same file again\n"
    "      changes nothing, a newer version of an advisory replaces the older (admins; docs/advisories.md)\n"
    "  auscult [--collector=HOST:PORT] --insecure advisories list [--matched] [--cve=CVE] [--vendor=TEXT] [--json]\n"
    "      imported advisories with the devices each concerns: affected (version inside) and possibly\n"
    "  auscult [--collector=HOST:PORT] --insecure advisories show ID [--json]\n"
    "      one advisory: products, CVEs with CVSS, the vendor's fixes, and every device it concerns\n"
    "  auscult [--collector=HOST:PORT] --insecure policy derive --type=T | --vendor=V | --department=D | --tag=T\n"
    "                                 [--site=S] [--format=text|nftables|iptables] [--include_flagged] [--json]\n"
    "      the group's allow-list from the learned baseline: peers, services, direction, clinical; what looks\n"
    "      unnecessary (the internet from an infusion pump, SMB on a monitor) flagged and left out (docs/policy.md)\n"
    "  auscult [--collector=HOST:PORT] --insecure policy accept --type=T | ... [--include_flagged]\n"
    "      makes it the group's policy (admins): new edges that break it become violations, in Watch too\n"
    "  auscult [--collector=HOST:PORT] --insecure policy list | violations [--policy=ID] [--json]\n"
    "  auscult [--collector=HOST:PORT] --insecure segments import FILE.csv [--replace]\n"
    "      FILE.csv: a header naming columns among site,cidr,vlan,wing,department, then one segment per line;\n"
    "      a device's department is that of the most specific segment holding its address, else its VLAN's.\n"
    "\n"
    "Exit status: 0 on success, 1 when the collector fails or cannot be reached, 2 on bad usage, 3 when\n"
    "`status` finds something not healthy.";

bool ParseTransport(const std::string& text, uint32_t* out) {
  const std::string t = absl::AsciiStrToLower(text);
  for (uint32_t n : {1u, 6u, 17u, 58u, 132u}) {
    if (t == TransportName(n)) {
      *out = n;
      return true;
    }
  }
  return absl::SimpleAtoi(t, out) && *out <= 255;
}

std::string Short(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", ToTime(t), absl::UTCTimeZone());
}

template <typename T>
void StringArray(JsonWriter& j, const T& values) {
  j.BeginArray();
  for (const auto& v : values) j.String(v);
  j.EndArray();
}

// `detail`: GetDevice's addresses and overrides; `evidence`: the classification and the evidence.
void DeviceJson(JsonWriter& j, const v1::Device& d, bool detail, bool evidence) {
  j.BeginObject();
  j.Key("id").Int(d.id());
  j.Key("macs");
  StringArray(j, d.macs());
  j.Key("ips");
  StringArray(j, d.ips());
  j.Key("vlans").BeginArray();
  for (uint32_t v : d.vlans()) j.UInt(v);
  j.EndArray();
  j.Key("vendor").String(d.vendor());
  j.Key("hostname").String(d.hostname());
  j.Key("model").String(d.model());
  j.Key("serial").String(d.serial_number());
  j.Key("os").String(d.os());
  j.Key("os_version").String(d.os_version());
  j.Key("software_version").String(d.software_version());
  j.Key("firmware_version").String(d.firmware_version());
  j.Key("patch_level").String(d.patch_level());
  j.Key("device_type").String(d.device_type());
  j.Key("category").String(d.category());
  j.Key("patient_connection").String(d.patient_connection());
  j.Key("fda_class").String(d.fda_class());
  j.Key("risk_score").Int(d.risk_score());
  j.Key("risk_factors").BeginArray();
  for (const auto& f : d.risk_factors()) {
    j.BeginObject();
    j.Key("factor").String(f.factor());
    j.Key("group").String(f.group());
    j.Key("points").Int(f.points());
    j.Key("detail").String(f.detail());
    j.EndObject();
  }
  j.EndArray();
  // What it does on the network: its clinical roles, and "router" when it forwards for others.
  j.Key("roles").BeginArray();
  for (const auto& r : d.clinical_roles()) j.String(r);
  if (d.routes_traffic()) j.String("router");
  j.EndArray();
  j.Key("clinical_roles");
  StringArray(j, d.clinical_roles());
  j.Key("dicom_ae_titles");
  StringArray(j, d.dicom_ae_titles());
  j.Key("hl7_applications");
  StringArray(j, d.hl7_applications());
  j.Key("department").String(d.department());
  j.Key("site").String(d.site());
  j.Key("wing").String(d.wing());
  j.Key("sensors");
  StringArray(j, d.sensors());
  j.Key("first_seen").String(Rfc3339(d.first_seen()));
  j.Key("last_seen").String(Rfc3339(d.last_seen()));
  j.Key("packets_sent").UInt(d.packets_sent());
  j.Key("bytes_sent").UInt(d.bytes_sent());
  j.Key("active").Bool(d.active());
  j.Key("clinical").Bool(d.clinical());
  j.Key("handles_phi").Bool(d.handles_phi());
  j.Key("phi_kinds");
  StringArray(j, d.phi_kinds());
  j.Key("routes_traffic").Bool(d.routes_traffic());
  j.Key("mac_randomized").Bool(d.mac_randomized());
  j.Key("advisory_count").Int(d.advisory_count());
  if (detail) {
    j.Key("advisories").BeginArray();
    for (const auto& m : d.advisories()) AdvisoryMatchJson(j, m, /*with_device=*/false);
    j.EndArray();
    j.Key("overrides").BeginArray();
    for (const auto& o : d.overrides()) {
      j.BeginObject();
      j.Key("field").String(o.field());
      j.Key("value").String(o.value());
      j.Key("set_by").String(o.set_by());
      j.Key("set_at").String(Rfc3339(o.set_at()));
      j.EndObject();
    }
    j.EndArray();
    j.Key("addresses").BeginArray();
    for (const auto& a : d.addresses()) {
      j.BeginObject();
      j.Key("ip").String(a.ip());
      j.Key("source").String(absl::AsciiStrToLower(v1::AddressSource_Name(a.source()).substr(15)));
      j.Key("locality").String(absl::AsciiStrToLower(v1::Locality_Name(a.locality()).substr(9)));
      j.Key("first_seen").String(Rfc3339(a.first_seen()));
      j.Key("last_seen").String(Rfc3339(a.last_seen()));
      j.EndObject();
    }
    j.EndArray();
    j.Key("merged_ids").BeginArray();
    for (int64_t id : d.merged_ids()) j.Int(id);
    j.EndArray();
    j.Key("identifiers").BeginArray();
    for (const auto& i : d.identifiers()) {
      j.BeginObject();
      j.Key("kind").String(i.kind());
      j.Key("value").String(i.value());
      j.Key("first_seen").String(Rfc3339(i.first_seen()));
      j.Key("last_seen").String(Rfc3339(i.last_seen()));
      j.EndObject();
    }
    j.EndArray();
  }
  if (detail || evidence) {
    j.Key("classification").BeginArray();
    for (const auto& c : d.classification()) {
      j.BeginObject();
      j.Key("key").String(c.key());
      j.Key("value").String(c.value());
      j.Key("confidence").Double(c.confidence());
      j.Key("rule").String(c.rule_id());
      j.Key("rules_version").String(c.rules_version());
      j.Key("evidence_json").String(c.evidence_json());
      j.EndObject();
    }
    j.EndArray();
    j.Key("evidence").BeginArray();
    for (const auto& e : d.evidence()) {
      j.BeginObject();
      j.Key("attribute").String(absl::AsciiStrToLower(v1::Attribute_Name(e.attribute()).substr(10)));
      j.Key("value").String(e.value());
      j.Key("protocol").String(e.provenance().protocol());
      j.Key("field").String(e.provenance().field());
      j.Key("sensor").String(e.sensor_id());
      j.Key("confidence").Double(e.confidence());
      j.Key("first_seen").String(Rfc3339(e.first_seen()));
      j.Key("last_seen").String(Rfc3339(e.last_seen()));
      j.Key("count").UInt(e.count());
      j.EndObject();
    }
    j.EndArray();
  }
  j.EndObject();
}

void ConnectionJson(JsonWriter& j, const v1::Connection& c) {
  j.BeginObject();
  j.Key("src_ip").String(c.src_ip());
  j.Key("dst_ip").String(c.dst_ip());
  j.Key("transport").String(TransportName(c.transport()));
  j.Key("dst_port").UInt(c.dst_port());
  j.Key("protocol").String(c.protocol());
  j.Key("bytes").UInt(c.bytes());
  j.Key("packets").UInt(c.packets());
  j.Key("bytes_to_dst").UInt(c.bytes_to_dst());
  j.Key("bytes_to_src").UInt(c.bytes_to_src());
  j.Key("flows").UInt(c.flows());
  j.Key("first_seen").String(Rfc3339(c.first_seen()));
  j.Key("last_seen").String(Rfc3339(c.last_seen()));
  j.Key("vlans").BeginArray();
  for (uint32_t v : c.vlans()) j.UInt(v);
  j.EndArray();
  j.Key("src_device");
  c.src_device_id() > 0 ? j.Int(c.src_device_id()) : j.Null();
  j.Key("dst_device");
  c.dst_device_id() > 0 ? j.Int(c.dst_device_id()) : j.Null();
  j.Key("clinical").Bool(c.clinical());
  j.Key("phi").Bool(c.phi());
  j.Key("encrypted").Bool(c.encrypted());
  j.Key("cleartext_credentials").Bool(c.cleartext_credentials());
  j.Key("external").Bool(c.external());
  j.Key("sensors");
  StringArray(j, c.sensors());
  j.Key("phi_kinds").BeginArray();
  for (const std::string& k : c.phi_kinds()) j.String(k);
  j.EndArray();
  j.Key("messages").BeginArray();
  for (const v1::MessageCount& m : c.messages()) {
    j.BeginObject();
    j.Key("name").String(m.name());
    j.Key("count").UInt(m.count());
    if (m.response_time_sum_us() > 0 || m.response_time_max_us() > 0) {
      j.Key("response_time_sum_us").UInt(m.response_time_sum_us());
      j.Key("response_time_max_us").UInt(m.response_time_max_us());
    }
    j.EndObject();
  }
  j.EndArray();
  j.EndObject();
}

// A revocation as JSON; with the response, whether the call changed anything.
void RevocationJson(JsonWriter& j, const v1::SensorRevocation& r, const v1::RevokeSensorResponse* response) {
  j.BeginObject();
  j.Key("sensor_id").String(r.sensor_id());
  j.Key("certificate_sha256").String(r.certificate_sha256());
  j.Key("reason").String(r.reason());
  j.Key("revoked_by").String(r.revoked_by());
  j.Key("revoked_at").String(r.has_revoked_at() ? Rfc3339(r.revoked_at()) : "");
  if (response != nullptr) j.Key("changed").Bool(response->changed());
  j.EndObject();
}

// The flow tags of a connection in a table cell: "clinical,phi,tls".
std::string Tags(const v1::Connection& c) {
  std::vector<std::string> tags;
  if (c.clinical()) tags.push_back("clinical");
  if (c.phi()) tags.push_back("phi");
  if (c.encrypted()) tags.push_back("tls");
  if (c.cleartext_credentials()) tags.push_back("cleartext-credentials");
  if (c.external()) tags.push_back("external");
  return absl::StrJoin(tags, ",");
}

class Cli {
 public:
  explicit Cli(std::shared_ptr<grpc::Channel> channel, std::string target)
      : stub_(v1::Query::NewStub(std::move(channel))), target_(std::move(target)) {}

  int Devices() {
    v1::ListDevicesRequest req;
    req.set_vendor(absl::GetFlag(FLAGS_vendor));
    req.set_ip(absl::GetFlag(FLAGS_ip));
    req.set_mac(absl::GetFlag(FLAGS_mac));
    req.set_vlan(static_cast<uint32_t>(absl::GetFlag(FLAGS_vlan)));
    req.set_sensor_id(absl::GetFlag(FLAGS_sensor));
    req.set_site(absl::GetFlag(FLAGS_site));
    req.set_device_type(absl::GetFlag(FLAGS_type));
    req.set_category(absl::GetFlag(FLAGS_category));
    req.set_min_risk(absl::GetFlag(FLAGS_min_risk));
    req.set_with_evidence(absl::GetFlag(FLAGS_json));
    req.set_department(absl::GetFlag(FLAGS_department));
    req.set_wing(absl::GetFlag(FLAGS_wing));
    req.set_patient_connection(absl::GetFlag(FLAGS_patient_connection));
    if (absl::GetFlag(FLAGS_max_risk) >= 0) req.set_max_risk(absl::GetFlag(FLAGS_max_risk));
    if (absl::GetFlag(FLAGS_phi)) req.set_handles_phi(true);
    if (const std::string state = absl::GetFlag(FLAGS_state); state == "active" || state == "inactive") {
      req.set_active(state == "active");
    } else if (!state.empty()) {
      std::fprintf(stderr, "auscult: --state='%s': use active or inactive\n", state.c_str());
      return 2;
    }
    if (const std::string order = absl::GetFlag(FLAGS_order); order == "id") {
      req.set_order(v1::ListDevicesRequest::ORDER_ID);
    } else if (order == "risk") {
      req.set_order(v1::ListDevicesRequest::ORDER_RISK);
    } else {
      std::fprintf(stderr, "auscult: --order='%s': use risk or id\n", order.c_str());
      return 2;
    }
    std::vector<v1::Device> devices;
    int64_t total = 0;
    if (grpc::Status s =
            FetchAll(req, &v1::Query::Stub::ListDevices, &v1::ListDevicesResponse::mutable_devices, devices, total);
        !s.ok()) {
      return Fail(s);
    }

    if (absl::GetFlag(FLAGS_json)) {
      JsonWriter j(/*pretty=*/true);
      j.BeginArray();
      for (const auto& d : devices) DeviceJson(j, d, /*detail=*/false, /*evidence=*/true);
      j.EndArray();
      std::cout << j.str() << "\n";
      return 0;
    }
    // The most useful columns for triage; `auscult device ID` and --json have everything.
    Table t({"ID", "RISK", "TYPE", "DEPT/WING", "VENDOR", "MODEL", "IP", "MAC", "VLAN", "HOSTNAME", "OS", "PHI",
             "LAST SEEN", "SENSORS"},
            {true, true, false, false, false, false, false, false, false, false, false, false, false, false});
    for (const auto& d : devices) {
      std::vector<std::string> vlans;
      for (uint32_t v : d.vlans()) vlans.push_back(v == 0 ? "-" : absl::StrCat(v));
      std::string vendor = d.vendor();
      if (vendor.empty() && d.mac_randomized()) vendor = "(randomized MAC)";
      if (d.routes_traffic()) vendor = absl::StrCat(vendor.empty() ? "" : vendor + " ", "[router]");
      // A department from the segment map, else the wing of the sensor that saw it.
      const std::string place = d.department().empty() ? d.wing() : d.department();
      t.AddRow({absl::StrCat(d.id()), absl::StrCat(d.risk_score()),
                d.device_type() == "unknown" ? "-" : d.device_type(), OrDash(place), OrDash(vendor), OrDash(d.model()),
                OrDash(absl::StrJoin(d.ips(), ",")), OrDash(absl::StrJoin(d.macs(), ",")),
                OrDash(absl::StrJoin(vlans, ",")), OrDash(d.hostname()),
                OrDash(d.os_version().empty() ? d.os() : d.os() + " " + d.os_version()), d.handles_phi() ? "yes" : "-",
                Short(d.last_seen()) + (d.active() ? "" : " (inactive)"), OrDash(absl::StrJoin(d.sensors(), ","))});
    }
    std::cout << t.Render();
    std::cout << devices.size() << " of " << total << " devices\n";
    return 0;
  }

  int SetField(const std::string& id_text) {
    int64_t id = 0;
    if (!absl::SimpleAtoi(id_text, &id) || id <= 0) {
      std::fprintf(stderr, "auscult: device set: '%s' is not a device id (see `auscult devices`)\n", id_text.c_str());
      return 2;
    }
    v1::SetDeviceFieldRequest req;
    req.set_id(id);
    req.set_field(absl::GetFlag(FLAGS_field));
    req.set_value(absl::GetFlag(FLAGS_value));
    req.set_clear(absl::GetFlag(FLAGS_clear));
    if (req.field().empty() || (req.value().empty() == !req.clear())) {
      std::fprintf(stderr, "auscult: device set: give --field and either --value or --clear\n");
      return 2;
    }
    v1::Device d;
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    if (grpc::Status s = stub_->SetDeviceField(&ctx, req, &d); !s.ok()) return Fail(s);
    std::cout << "device " << d.id() << ": " << req.field() << (req.clear() ? " override cleared\n" : " set\n");
    return 0;
  }

  int Device(const std::string& id_text) {
    int64_t id = 0;
    if (!absl::SimpleAtoi(id_text, &id) || id <= 0) {
      std::fprintf(stderr, "auscult: device: '%s' is not a device id (see `auscult devices`)\n", id_text.c_str());
      return 2;
    }
    v1::GetDeviceRequest req;
    req.set_id(id);
    v1::Device d;
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    if (grpc::Status s = stub_->GetDevice(&ctx, req, &d); !s.ok()) return Fail(s);
    if (absl::GetFlag(FLAGS_json)) {
      JsonWriter j(/*pretty=*/true);
      DeviceJson(j, d, /*detail=*/true, /*evidence=*/true);
      std::cout << j.str() << "\n";
      return 0;
    }
    std::cout << "device " << d.id() << "\n"
              << "  MAC:        " << OrDash(absl::StrJoin(d.macs(), ", ")) << "\n"
              << "  IP:         " << OrDash(absl::StrJoin(d.ips(), ", ")) << "\n"
              << "  vendor:     " << Printable(OrDash(d.vendor())) << "\n"
              << "  hostname:   " << Printable(OrDash(d.hostname())) << "\n"
              << "  model:      " << Printable(OrDash(d.model())) << (d.serial_number().empty() ? "" : "  serial ")
              << Printable(d.serial_number()) << "\n"
              << "  OS:         " << Printable(OrDash(d.os() + (d.os_version().empty() ? "" : " " + d.os_version())))
              << "\n"
              << "  software:   " << Printable(OrDash(d.software_version())) << "\n"
              << "  site/wing:  " << Printable(OrDash(d.site())) << " / " << Printable(OrDash(d.wing()))
              << (d.department().empty() ? "" : "  department " + Printable(d.department())) << "\n"
              << "  seen:       " << Short(d.first_seen()) << " .. " << Short(d.last_seen())
              << (d.active() ? "" : " (inactive)") << " UTC by " << Printable(absl::StrJoin(d.sensors(), ", ")) << "\n"
              << "  sent:       " << d.packets_sent() << " packets, " << d.bytes_sent() << " bytes\n";
    if (d.routes_traffic()) std::cout << "  role:       router or gateway (forwards traffic for other addresses)\n";
    if (d.id() != id) std::cout << "  merged:     device " << id << " turned out to be this one\n";
    if (d.merged_ids_size() > 0) {
      std::cout << "  merged in:  devices " << absl::StrJoin(d.merged_ids(), ", ") << " (the same device, seen "
                << "under other MACs or addresses)\n";
    }
    for (const auto& i : d.identifiers()) {
      std::cout << "  identity:   " << i.kind() << " " << Printable(i.value()) << "\n";
    }
    {
      std::string type_rule;
      for (const auto& c : d.classification()) {
        if (c.key() == "device_type")
          type_rule = absl::StrFormat(" (rule %s, confidence %.2f)", c.rule_id(), c.confidence());
      }
      std::cout << "  type:       " << d.device_type() << type_rule << "; category " << OrDash(d.category())
                << ", patient connection " << d.patient_connection() << ", FDA class " << OrDash(d.fda_class()) << "\n";
      std::cout << "  risk:       " << d.risk_score() << " / 100\n";
      for (const auto& f : d.risk_factors()) {
        std::cout << absl::StrFormat("    %+4d  %-9s %s: %s\n", f.points(), f.group(), f.factor(),
                                     Printable(f.detail()));
      }
    }
    for (const auto& o : d.overrides()) {
      std::cout << "  set:        " << o.field() << " = " << Printable(o.value()) << " (by an analyst, "
                << Short(o.set_at()) << " UTC; the evidence below is unchanged)\n";
    }
    if (d.handles_phi()) {
      std::cout << "  PHI:        its flows carried " << absl::StrJoin(d.phi_kinds(), ", ")
                << " (kinds only; no patient data is kept)\n";
    }
    if (d.clinical_roles_size() > 0) {
      std::cout << "  clinical:   " << Printable(absl::StrJoin(d.clinical_roles(), ", "));
      if (d.dicom_ae_titles_size() > 0) std::cout << "; AE " << Printable(absl::StrJoin(d.dicom_ae_titles(), ", "));
      if (d.hl7_applications_size() > 0) {
        std::cout << "; HL7 application " << Printable(absl::StrJoin(d.hl7_applications(), ", "));
      }
      std::cout << "\n";
    }
    PrintDeviceAdvisories(d);
    Table addresses({"ADDRESS", "LEARNED FROM", "WHOSE", "FIRST SEEN", "LAST SEEN"});
    for (const auto& a : d.addresses()) {
      addresses.AddRow({a.ip(), absl::AsciiStrToLower(v1::AddressSource_Name(a.source()).substr(15)),
                        a.locality() == v1::LOCALITY_ROUTED ? "behind it" : "its own", Short(a.first_seen()),
                        Short(a.last_seen())});
    }
    if (addresses.rows() > 0) std::cout << "\n" << addresses.Render();
    Table evidence({"ATTRIBUTE", "VALUE", "SOURCE", "SENSOR", "CONFIDENCE", "COUNT", "LAST SEEN"},
                   {false, false, false, false, true, true, false});
    for (const auto& e : d.evidence()) {
      evidence.AddRow({absl::AsciiStrToLower(v1::Attribute_Name(e.attribute()).substr(10)), e.value(),
                       absl::StrCat(e.provenance().protocol(), ".", e.provenance().field()), e.sensor_id(),
                       absl::StrFormat("%.2f", e.confidence()), absl::StrCat(e.count()), Short(e.last_seen())});
    }
    if (evidence.rows() > 0) std::cout << "\n" << evidence.Render();
    return 0;
  }

  int Connections() {
    v1::ListConnectionsRequest req;
    req.set_device_id(absl::GetFlag(FLAGS_device));
    req.set_ip(absl::GetFlag(FLAGS_ip));
    req.set_port(static_cast<uint32_t>(absl::GetFlag(FLAGS_port)));
    req.set_protocol(absl::GetFlag(FLAGS_protocol));
    req.set_clinical(absl::GetFlag(FLAGS_clinical));
    req.set_phi(absl::GetFlag(FLAGS_phi));
    req.set_external(absl::GetFlag(FLAGS_external));
    if (const std::string t = absl::GetFlag(FLAGS_transport); !t.empty()) {
      uint32_t n = 0;
      if (!ParseTransport(t, &n)) {
        std::fprintf(stderr, "auscult: --transport='%s': use tcp, udp, icmp, icmpv6 or a number 0-255\n", t.c_str());
        return 2;
      }
      req.set_transport(n);
    }
    std::vector<v1::Connection> connections;
    int64_t total = 0;
    if (grpc::Status s = FetchAll(req, &v1::Query::Stub::ListConnections,
                                  &v1::ListConnectionsResponse::mutable_connections, connections, total);
        !s.ok()) {
      return Fail(s);
    }

    if (absl::GetFlag(FLAGS_json)) {
      JsonWriter j(/*pretty=*/true);
      j.BeginArray();
      for (const auto& c : connections) ConnectionJson(j, c);
      j.EndArray();
      std::cout << j.str() << "\n";
      return 0;
    }
    Table t({"SOURCE", "DESTINATION", "TRANSPORT", "PORT", "PROTOCOL", "TAGS", "PACKETS", "BYTES", "FLOWS",
             "FIRST SEEN", "LAST SEEN"},
            {false, false, false, true, false, false, true, true, true, false, false});
    for (const auto& c : connections) {
      auto with_device = [](const std::string& ip, int64_t device) {
        return device > 0 ? absl::StrCat(ip, " (#", device, ")") : ip;
      };
      t.AddRow({with_device(c.src_ip(), c.src_device_id()), with_device(c.dst_ip(), c.dst_device_id()),
                TransportName(c.transport()), c.dst_port() ? absl::StrCat(c.dst_port()) : "-", OrDash(c.protocol()),
                OrDash(Tags(c)), absl::StrCat(c.packets()), absl::StrCat(c.bytes()), absl::StrCat(c.flows()),
                Short(c.first_seen()), Short(c.last_seen())});
    }
    std::cout << t.Render();
    std::cout << connections.size() << " of " << total << " connections (#N = device id)\n";
    return 0;
  }

  static void WriteSensor(JsonWriter& j, const v1::SensorHealth& h) {
    j.BeginObject();
    j.Key("sensor_id").String(h.sensor_id());
    j.Key("site").String(h.site());
    j.Key("wing").String(h.wing());
    j.Key("version").String(h.version());
    j.Key("hostname").String(h.hostname());
    j.Key("sources");
    StringArray(j, h.sources());
    j.Key("first_seen").String(Rfc3339(h.first_seen()));
    j.Key("last_seen").String(Rfc3339(h.last_seen()));
    j.Key("silent_seconds").Int(h.silent_seconds());
    j.Key("up").Bool(h.up());
    j.Key("packets_received").UInt(h.packets_received());
    j.Key("bytes_received").UInt(h.bytes_received());
    j.Key("packets_dropped_kernel").UInt(h.packets_dropped_kernel());
    j.Key("packets_dropped_interface").UInt(h.packets_dropped_interface());
    j.Key("packets_dropped_sensor").UInt(h.packets_dropped_sensor());
    j.Key("packets_malformed").UInt(h.packets_malformed());
    j.Key("flows_active").UInt(h.flows_active());
    j.Key("flows_evicted").UInt(h.flows_evicted());
    j.Key("devices").Int(h.devices());
    j.Key("vlans").BeginArray();
    for (uint32_t v : h.vlans()) j.UInt(v);
    j.EndArray();
    std::vector<std::pair<std::string, uint64_t>> anomalies(h.anomalies().begin(), h.anomalies().end());
    std::sort(anomalies.begin(), anomalies.end());
    j.Key("anomalies").BeginObject();
    for (const auto& [name, n] : anomalies) j.Key(name).UInt(n);
    j.EndObject();
    j.Key("certificate_sha256").String(h.certificate_sha256());
    j.Key("revoked").Bool(h.revoked());
    j.EndObject();
  }

  static std::string SensorTable(const v1::ListSensorsResponse& response) {
    Table t({"SENSOR", "SITE", "WING", "STATUS", "LAST BATCH", "PACKETS", "DROPPED", "MALFORMED", "DEVICES", "VLANS",
             "VERSION", "HOST"},
            {false, false, false, false, false, true, true, true, true, false, false, false});
    for (const v1::SensorHealth& h : response.sensors()) {
      const uint64_t dropped = h.packets_dropped_kernel() + h.packets_dropped_interface() + h.packets_dropped_sensor();
      std::vector<std::string> vlans;
      for (uint32_t v : h.vlans()) vlans.push_back(v == 0 ? "untagged" : absl::StrCat(v));
      const std::string status =
          h.up() ? "up" : absl::StrCat("silent ", absl::FormatDuration(absl::Seconds(h.silent_seconds())));
      t.AddRow({Printable(h.sensor_id()), OrDash(Printable(h.site())), OrDash(Printable(h.wing())),
                h.revoked() ? "revoked" : status, Short(h.last_seen()), absl::StrCat(h.packets_received()),
                absl::StrCat(dropped), absl::StrCat(h.packets_malformed()), absl::StrCat(h.devices()),
                OrDash(absl::StrJoin(vlans, ",")), OrDash(Printable(h.version())), OrDash(Printable(h.hostname()))});
    }
    return t.Render();
  }

  int Sensors() {
    v1::ListSensorsRequest req;
    req.set_site(absl::GetFlag(FLAGS_site));
    v1::ListSensorsResponse response;
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    if (grpc::Status s = stub_->ListSensors(&ctx, req, &response); !s.ok()) return Fail(s);
    if (absl::GetFlag(FLAGS_json)) {
      JsonWriter j(/*pretty=*/true);
      j.BeginArray();
      for (const v1::SensorHealth& h : response.sensors()) WriteSensor(j, h);
      j.EndArray();
      std::cout << j.str() << "\n";
      return 0;
    }
    std::cout << SensorTable(response) << response.sensors_size() << " sensors\n";
    return 0;
  }

  // status: this collector, its database and every sensor at a glance. Exit 0 when all is well, 3
  // when the database fails or a sensor (not revoked) is silent, 1 when the collector cannot answer.
  int Status() {
    v1::CollectorStatus status;
    {
      grpc::ClientContext ctx;
      SetDeadline(ctx);
      if (grpc::Status s = stub_->GetStatus(&ctx, v1::GetStatusRequest(), &status); !s.ok()) return Fail(s);
    }
    v1::ListSensorsResponse sensors;
    if (status.database_ok()) {
      grpc::ClientContext ctx;
      SetDeadline(ctx);
      v1::ListSensorsRequest req;
      req.set_site(absl::GetFlag(FLAGS_site));
      if (grpc::Status s = stub_->ListSensors(&ctx, req, &sensors); !s.ok()) return Fail(s);
    }
    int up = 0, silent = 0, revoked = 0;
    for (const v1::SensorHealth& h : sensors.sensors()) {
      if (h.revoked()) {
        ++revoked;
      } else if (h.up()) {
        ++up;
      } else {
        ++silent;
      }
    }
    const bool healthy = status.database_ok() && silent == 0;
    if (absl::GetFlag(FLAGS_json)) {
      JsonWriter j(/*pretty=*/true);
      j.BeginObject();
      j.Key("healthy").Bool(healthy);
      j.Key("collector").BeginObject();
      j.Key("version").String(status.version());
      j.Key("hostname").String(status.hostname());
      j.Key("started").String(Rfc3339(status.started()));
      j.Key("ingest_streams").Int(status.ingest_streams());
      j.Key("batches_applied").UInt(status.batches_applied());
      j.Key("batches_duplicate").UInt(status.batches_duplicate());
      j.Key("batches_failed").UInt(status.batches_failed());
      j.Key("batches_queued").UInt(status.batches_queued());
      j.Key("database_errors").UInt(status.database_errors());
      j.EndObject();
      j.Key("database").BeginObject();
      j.Key("ok").Bool(status.database_ok());
      if (!status.database_ok()) j.Key("error").String(status.database_error());
      j.Key("schema_version").Int(status.schema_version());
      j.Key("devices").Int(status.devices());
      j.Key("graph_edges").Int(status.graph_edges());
      j.EndObject();
      j.Key("sensors").BeginObject();
      j.Key("up").Int(up);
      j.Key("silent").Int(silent);
      j.Key("revoked").Int(revoked);
      j.Key("each").BeginArray();
      for (const v1::SensorHealth& h : sensors.sensors()) WriteSensor(j, h);
      j.EndArray();
      j.EndObject();
      j.EndObject();
      std::cout << j.str() << "\n";
      return healthy ? 0 : 3;
    }
    const absl::Duration uptime = absl::Now() - absl::FromUnixSeconds(status.started().seconds());
    std::cout << "collector  " << Printable(status.version()) << " on " << Printable(status.hostname()) << ", up "
              << absl::FormatDuration(absl::Seconds(absl::ToInt64Seconds(uptime))) << " (since "
              << Short(status.started()) << "), " << status.ingest_streams() << " sensor streams\n"
              << "           batches since start: " << status.batches_applied() << " applied, "
              << status.batches_duplicate() << " resent, " << status.batches_failed() << " failed, "
              << status.batches_queued() << " queued; " << status.database_errors() << " database errors\n";
    if (!status.database_ok()) {
      std::cout << "database   FAILING: " << Printable(status.database_error(), 512) << "\n";
    } else {
      std::cout << "database   ok, schema " << status.schema_version() << ": " << status.devices() << " devices, "
                << status.graph_edges() << " edges\n"
                << "sensors    " << sensors.sensors_size() << ": " << up << " up, " << silent << " silent, " << revoked
                << " revoked\n";
      if (sensors.sensors_size() > 0) std::cout << SensorTable(sensors);
    }
    std::cout << (healthy ? "healthy\n" : "NOT HEALTHY\n");
    return healthy ? 0 : 3;
  }

  // sensors revoke|unrevoke ID: the sensor id itself, or with --certificate or --fingerprint one
  // certificate of it.
  int Revoke(const std::string& sensor_id, bool unrevoke) {
    const char* command = unrevoke ? "sensors unrevoke" : "sensors revoke";
    v1::RevokeSensorRequest req;
    req.set_sensor_id(sensor_id);
    req.set_unrevoke(unrevoke);
    req.set_reason(absl::GetFlag(FLAGS_reason));
    const std::string file = absl::GetFlag(FLAGS_certificate);
    const std::string fingerprint = absl::GetFlag(FLAGS_fingerprint);
    if (!file.empty() && !fingerprint.empty()) {
      std::fprintf(stderr, "auscult: %s: give --certificate or --fingerprint, not both\n", command);
      return 2;
    }
    if (unrevoke && !req.reason().empty()) {
      std::fprintf(stderr, "auscult: %s: --reason goes with revoke\n", command);
      return 2;
    }
    if (!file.empty()) {
      absl::StatusOr<std::string> pem = ReadFileAtMost(file, 1 << 20, "--certificate");
      absl::StatusOr<CertificateId> id = pem.ok() ? IdentifyCertificate(*pem) : pem.status();
      if (!id.ok()) {
        std::fprintf(stderr, "auscult: %s: %s: %s\n", command, Printable(file, 256).c_str(),
                     Printable(AsStd(id.status().message()), 256).c_str());
        return 2;
      }
      // The wrong file would revoke another party's certificate, or one no sensor uses.
      if (id->common_name != "sensor:" + sensor_id) {
        std::fprintf(stderr, "auscult: %s: %s is the certificate of '%s', not of sensor:%s\n", command,
                     Printable(file, 256).c_str(), Printable(id->common_name, 128).c_str(),
                     Printable(sensor_id, 64).c_str());
        return 2;
      }
      req.set_certificate_sha256(id->sha256);
    } else if (!fingerprint.empty()) {
      const std::optional<std::string> sha256 = NormalizeSha256(fingerprint);
      if (!sha256) {
        std::fprintf(stderr, "auscult: %s: --fingerprint='%s' is not a SHA-256 fingerprint (64 hex digits)\n", command,
                     Printable(fingerprint, 100).c_str());
        return 2;
      }
      req.set_certificate_sha256(*sha256);
    }
    v1::RevokeSensorResponse response;
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    if (grpc::Status s = stub_->RevokeSensor(&ctx, req, &response); !s.ok()) return Fail(s);
    const v1::SensorRevocation& r = response.revocation();
    if (absl::GetFlag(FLAGS_json)) {
      JsonWriter j(/*pretty=*/true);
      RevocationJson(j, r, &response);
      std::cout << j.str() << "\n";
      return 0;
    }
    const std::string what = r.certificate_sha256().empty() ? absl::StrCat("sensor ", Printable(r.sensor_id()))
                                                            : absl::StrCat("certificate ", r.certificate_sha256(),
                                                                           " of sensor ", Printable(r.sensor_id()));
    if (unrevoke) {
      std::cout << what << (response.changed() ? " unrevoked" : " was not revoked; nothing changed") << "\n";
    } else if (response.changed()) {
      std::cout << what << " revoked: its streams are refused, a streaming one's at its next batch\n";
    } else {
      std::cout << what << " was revoked already, by " << Printable(r.revoked_by()) << " at " << Short(r.revoked_at())
                << "\n";
    }
    return 0;
  }

  int Revocations() {
    v1::ListSensorRevocationsResponse response;
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    if (grpc::Status s = stub_->ListSensorRevocations(&ctx, v1::ListSensorRevocationsRequest(), &response); !s.ok()) {
      return Fail(s);
    }
    if (absl::GetFlag(FLAGS_json)) {
      JsonWriter j(/*pretty=*/true);
      j.BeginArray();
      for (const v1::SensorRevocation& r : response.revocations()) RevocationJson(j, r, nullptr);
      j.EndArray();
      std::cout << j.str() << "\n";
      return 0;
    }
    Table t({"SENSOR", "CERTIFICATE (SHA-256)", "REVOKED AT", "BY", "REASON"}, {false, false, false, false, false});
    for (const v1::SensorRevocation& r : response.revocations()) {
      t.AddRow({Printable(r.sensor_id()), r.certificate_sha256().empty() ? "(every one)" : r.certificate_sha256(),
                Short(r.revoked_at()), Printable(r.revoked_by()), OrDash(Printable(r.reason()))});
    }
    std::cout << t.Render() << response.revocations_size() << " revocations\n";
    return 0;
  }

  int DepartmentFlows() {
    v1::ListDepartmentFlowsRequest req;
    req.set_all(absl::GetFlag(FLAGS_all));
    req.set_site(absl::GetFlag(FLAGS_site));
    v1::ListDepartmentFlowsResponse response;
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    if (grpc::Status s = stub_->ListDepartmentFlows(&ctx, req, &response); !s.ok()) return Fail(s);
    if (absl::GetFlag(FLAGS_json)) {
      JsonWriter j(/*pretty=*/true);
      j.BeginArray();
      for (const v1::DepartmentFlow& f : response.flows()) {
        j.BeginObject();
        j.Key("src_department").String(f.src_department());
        j.Key("dst_department").String(f.dst_department());
        j.Key("protocol").String(f.protocol());
        j.Key("flows").UInt(f.flows());
        j.Key("bytes").UInt(f.bytes());
        j.Key("src_devices").Int(f.src_devices());
        j.Key("dst_devices").Int(f.dst_devices());
        j.Key("phi").Bool(f.phi());
        j.Key("cleartext").Bool(f.cleartext());
        j.Key("last_seen").String(Rfc3339(f.last_seen()));
        j.EndObject();
      }
      j.EndArray();
      std::cout << j.str() << "\n";
      return 0;
    }
    Table t({"FROM", "TO", "PROTOCOL", "FLOWS", "BYTES", "DEVICES", "PHI", "CLEARTEXT", "LAST SEEN"},
            {false, false, false, true, true, false, false, false, false});
    for (const v1::DepartmentFlow& f : response.flows()) {
      t.AddRow({f.src_department().empty() ? "(none)" : Printable(f.src_department()),
                f.dst_department().empty() ? "(none)" : Printable(f.dst_department()), OrDash(f.protocol()),
                absl::StrCat(f.flows()), absl::StrCat(f.bytes()),
                absl::StrCat(f.src_devices(), " -> ", f.dst_devices()), f.phi() ? "yes" : "-",
                f.cleartext() ? "yes" : "-", Short(f.last_seen())});
    }
    std::cout << t.Render() << response.flows_size() << (req.all() ? " flows" : " clinical flows")
              << " between departments\n";
    return 0;
  }

  int Graph() {
    v1::GetGraphRequest req;
    req.set_device_id(absl::GetFlag(FLAGS_device));
    if (req.device_id() > 0) {
      const int hops = absl::GetFlag(FLAGS_hops);
      if (hops < 1 || hops > 4) {
        std::fprintf(stderr, "auscult: --hops=%d: from 1 to 4\n", hops);
        return 2;
      }
      req.set_hops(static_cast<uint32_t>(hops));
    }
    req.set_department(absl::GetFlag(FLAGS_department));
    req.set_site(absl::GetFlag(FLAGS_site));
    req.set_clinical(absl::GetFlag(FLAGS_clinical));
    req.set_max_nodes(absl::GetFlag(FLAGS_max_nodes));
    const std::string format = absl::GetFlag(FLAGS_format);
    if (format != "json" && format != "dot" && format != "graphml" && format != "html") {
      std::fprintf(stderr, "auscult: --format='%s': use json, dot, graphml or html\n", format.c_str());
      return 2;
    }
    if (format == "html" && !GraphHtmlBuiltIn()) {
      std::fprintf(stderr, "auscult: --format=html is not built in (configured with -DAUSCULT_GRAPH_HTML=OFF)\n");
      return 2;
    }
    v1::Graph g;
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    if (grpc::Status s = stub_->GetGraph(&ctx, req, &g); !s.ok()) return Fail(s);
    if (format == "json") {
      std::cout << GraphJson(g) << "\n";
    } else if (format == "dot") {
      std::cout << GraphDot(g);
    } else if (format == "html") {
      std::cout << GraphHtml(g);
    } else {
      std::cout << GraphMl(g);
    }
    if (g.truncated()) {
      std::fprintf(stderr, "auscult: graph cut at %d nodes (--max_nodes)\n", g.nodes_size());
    }
    return 0;
  }

  int Segments() {
    v1::ListSegmentsResponse response;
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    if (grpc::Status s = stub_->ListSegments(&ctx, v1::ListSegmentsRequest(), &response); !s.ok()) return Fail(s);
    if (absl::GetFlag(FLAGS_json)) {
      JsonWriter j(/*pretty=*/true);
      j.BeginArray();
      for (const v1::Segment& s : response.segments()) {
        j.BeginObject();
        j.Key("site").String(s.site());
        j.Key("cidr").String(s.cidr());
        j.Key("vlan").UInt(s.vlan());
        j.Key("wing").String(s.wing());
        j.Key("department").String(s.department());
        j.EndObject();
      }
      j.EndArray();
      std::cout << j.str() << "\n";
      return 0;
    }
    Table t({"SITE", "NETWORK", "VLAN", "WING", "DEPARTMENT"}, {false, false, true, false, false});
    for (const v1::Segment& s : response.segments()) {
      t.AddRow({OrDash(Printable(s.site())), OrDash(s.cidr()), s.vlan() ? absl::StrCat(s.vlan()) : "-",
                OrDash(Printable(s.wing())), OrDash(Printable(s.department()))});
    }
    std::cout << t.Render() << response.segments_size() << " segments\n";
    return 0;
  }

  int ImportSegments(const std::string& path) {
    const absl::StatusOr<std::string> text = ReadFileAtMost(path, 16 << 20, "segment map");
    if (!text.ok()) {
      std::fprintf(stderr, "auscult: segments import: %s\n", Printable(AsStd(text.status().message())).c_str());
      return 2;
    }
    auto segments = ParseSegmentsCsv(*text, path);
    if (!segments.ok()) {
      std::fprintf(stderr, "auscult: segments import: %s\n",
                   Printable(AsStd(segments.status().message()), 1024).c_str());
      return 2;
    }
    v1::ImportSegmentsRequest req;
    req.set_replace(absl::GetFlag(FLAGS_replace));
    for (v1::Segment& s : *segments) *req.add_segments() = std::move(s);
    v1::ImportSegmentsResponse response;
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    if (grpc::Status s = stub_->ImportSegments(&ctx, req, &response); !s.ok()) return Fail(s);
    std::cout << response.imported() << " segments imported";
    if (req.replace()) std::cout << ", " << response.removed() << " removed";
    std::cout << "\n";
    return 0;
  }

 private:
  // Calls a List method page after page until the last page or --limit items.
  template <typename Request, typename Response, typename Item>
  grpc::Status FetchAll(Request req,
                        grpc::Status (v1::Query::Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                        google::protobuf::RepeatedPtrField<Item>* (Response::*items)(), std::vector<Item>& out,
                        int64_t& total) {
    const int64_t limit = absl::GetFlag(FLAGS_limit);
    auto full = [&] { return limit > 0 && static_cast<int64_t>(out.size()) >= limit; };
    do {
      req.set_page_size(1000);
      Response response;
      grpc::ClientContext ctx;
      SetDeadline(ctx);
      if (grpc::Status s = (stub_.get()->*method)(&ctx, req, &response); !s.ok()) return s;
      total = response.total_count();
      for (Item& item : *(response.*items)()) {
        if (full()) break;
        out.push_back(std::move(item));
      }
      req.set_page_token(response.next_page_token());
    } while (!req.page_token().empty() && !full());
    return grpc::Status::OK;
  }

  void SetDeadline(grpc::ClientContext& ctx) {
    ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_timeout)));
  }
  int Fail(const grpc::Status& s) { return FailCall(s, target_); }

 public:
  QueryContext context() { return QueryContext{stub_.get(), target_, absl::GetFlag(FLAGS_timeout)}; }

 private:
  std::unique_ptr<v1::Query::Stub> stub_;
  std::string target_;
};

int Run(const std::vector<char*>& args) {
  if (args.size() < 2) {
    std::fprintf(stderr,
                 "auscult: give a command: devices, device ID, connections, graph, department-flows, services, "
                 "exposure, new-edges, top, paths, watch, sensors or segments (see --help)\n");
    return 2;
  }
  const std::string command = args[1];
  auto target = ParseHostPort(absl::GetFlag(FLAGS_collector), "collector");
  if (!target.ok()) {
    std::fprintf(stderr, "auscult: %s\n", std::string(target.status().message()).c_str());
    return 2;
  }
  const bool insecure = absl::GetFlag(FLAGS_insecure);
  const bool any_tls = !absl::GetFlag(FLAGS_tls_ca).empty() || !absl::GetFlag(FLAGS_tls_cert).empty() ||
                       !absl::GetFlag(FLAGS_tls_key).empty();
  if (insecure == any_tls) {
    std::fprintf(stderr, "auscult: %s\n",
                 insecure ? "--insecure and --tls_*: choose one"
                          : "give --tls_ca, --tls_cert and --tls_key (deploy/pki.sh makes them), or --insecure for "
                            "plain text on a trusted network");
    return 2;
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (any_tls) {
    auto files = ReadTlsFiles(absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key));
    if (!files.ok()) {
      std::fprintf(stderr, "auscult: %s\n", Printable(AsStd(files.status().message()), 512).c_str());
      return 2;
    }
    credentials = ClientTlsCredentials(*files);
  }
  if (absl::GetFlag(FLAGS_limit) < 0) {
    std::fprintf(stderr, "auscult: --limit must not be negative\n");
    return 2;
  }
  if (absl::GetFlag(FLAGS_timeout) <= absl::ZeroDuration()) {
    std::fprintf(stderr, "auscult: --timeout must be positive\n");
    return 2;
  }
  Cli cli(grpc::CreateChannel(target->ToString(), credentials), target->ToString());
  if (command == "devices" && args.size() == 2) return cli.Devices();
  if (command == "device" && args.size() == 3) return cli.Device(args[2]);
  if (command == "device" && args.size() == 4 && std::string(args[2]) == "set") return cli.SetField(args[3]);
  if (command == "connections" && args.size() == 2) return cli.Connections();
  if (command == "segments" && args.size() == 2) return cli.Segments();
  if (command == "sensors" && args.size() == 2) return cli.Sensors();
  if (command == "status" && args.size() == 2) return cli.Status();
  if (command == "sensors" && args.size() == 3 && std::string(args[2]) == "revoked") return cli.Revocations();
  if (command == "sensors" && args.size() == 4 && std::string(args[2]) == "revoke") return cli.Revoke(args[3], false);
  if (command == "sensors" && args.size() == 4 && std::string(args[2]) == "unrevoke") return cli.Revoke(args[3], true);
  if (command == "graph" && args.size() == 2) return cli.Graph();
  if (command == "department-flows" && args.size() == 2) return cli.DepartmentFlows();
  if (command == "services" && args.size() == 2) return ServiceUsers(cli.context());
  if (command == "exposure" && args.size() == 2) return Exposure(cli.context());
  if (command == "new-edges" && args.size() == 2) return NewEdges(cli.context());
  if (command == "top" && args.size() == 2) return TopTalkers(cli.context());
  if (command == "paths" && args.size() == 4) return Paths(cli.context(), args[2], args[3]);
  if (command == "watch" && args.size() == 2) return Watch(cli.context());
  if (command == "segments" && args.size() == 4 && std::string(args[2]) == "import") return cli.ImportSegments(args[3]);
  if (command == "policy" && args.size() == 3) {
    const std::string sub = args[2];
    if (sub == "derive") return DerivePolicy(cli.context());
    if (sub == "accept") return AcceptPolicy(cli.context());
    if (sub == "list") return ListPolicies(cli.context());
    if (sub == "violations") return PolicyViolations(cli.context());
  }
  if (command == "advisories" && args.size() >= 4 && std::string(args[2]) == "import") {
    return ImportAdvisories(cli.context(), std::vector<std::string>(args.begin() + 3, args.end()));
  }
  if (command == "advisories" && args.size() == 3 && std::string(args[2]) == "list") {
    return ListAdvisories(cli.context());
  }
  if (command == "advisories" && args.size() == 4 && std::string(args[2]) == "show") {
    return ShowAdvisory(cli.context(), args[3]);
  }
  std::fprintf(stderr,
               "auscult: unknown command or wrong arguments: '%s' (commands: devices, device ID, connections, graph, "
               "department-flows, services, exposure, new-edges, top, paths FROM TO, watch, sensors, "
               "sensors revoke|unrevoke ID, sensors revoked, "
               "segments, segments import FILE)\n",
               command.c_str());
  return 2;
}

}  // namespace
}  // namespace auscult::cli

int main(int argc, char** argv) {
  std::vector<char*> args = auscult::ParseFlags(argc, argv, "auscult", auscult::cli::kUsage);
  return auscult::cli::Run(args);
}
