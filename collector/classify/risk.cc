#include "collector/classify/risk.h"

#include <re2/re2.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace auscult::collector {
namespace {

// Evidence weaker than this does not score (the sensor's weakest facts are port guesses).
constexpr float kMinConfidence = 0.3f;

// Operating systems past their vendor's end of support, as devices name themselves (SMB native OS,
// NTLM version, HTTP user agents, web server banners). Windows 10 ended in October 2025 except the
// LTSC/IoT editions medical devices often run, hence fewer points and LTSC excluded.
struct OsPattern {
  const char* pattern;
  int points;
  const char* what;
};
const OsPattern kOutdatedOs[] = {
    // Not "Windows NT" here: "Windows NT 10.0" is Windows 10 or 11 (the next line takes NT 4.x-6.3).
    {R"(Windows (XP|2000|95|98|Me|Vista|Server 2003|Server 2008|CE|Embedded|7|8(\.1)?|Server 2012)\b)", 15,
     "Windows release past end of support"},
    {R"(Windows NT [4-5]\.|Windows NT 6\.[0-3]\b)", 15, "Windows release past end of support (NT version)"},
    {R"(^Windows (5|6\.[0-3])\b)", 15, "Windows release past end of support (NT version)"},
    {R"(Microsoft-IIS/[4-7]\.)", 15, "IIS of a Windows Server past end of support"},
    {R"(Windows 10\b)", 8, "Windows 10 (end of support October 2025; LTSC editions excepted)"},
};

const RE2& OutdatedOsRegex(size_t i) {
  static const std::vector<std::unique_ptr<RE2>>* regexes = [] {
    auto* v = new std::vector<std::unique_ptr<RE2>>;
    RE2::Options options;
    options.set_case_sensitive(false);
    options.set_log_errors(false);
    for (const OsPattern& p : kOutdatedOs) v->push_back(std::make_unique<RE2>(p.pattern, options));
    return v;
  }();
  return *(*regexes)[i];
}

struct Accumulator {
  Risk risk;
  int impact = 0, weakness = 0, exposure = 0;

  void Add(std::string factor, std::string group, int points, std::string detail) {
    int& total = group == "impact" ? impact : group == "weakness" ? weakness : exposure;
    const int cap = group == "exposure" ? 20 : 40;
    const int granted = std::min(points, cap - total);
    if (granted <= 0) return;
    total += granted;
    risk.factors.push_back(RiskFactor{std::move(factor), std::move(group), granted, std::move(detail)});
  }
};

std::string Effective(const DeviceFacts& d, const Classification& c, const std::string& key, std::string* why) {
  if (auto it = d.overrides.find(key); it != d.overrides.end()) {
    *why = "analyst override";
    return it->second;
  }
  if (auto it = c.find(key); it != c.end()) {
    *why = absl::StrCat("rule ", it->second.rule_id, " (confidence ", absl::SixDigits(it->second.confidence), ")");
    return it->second.value;
  }
  why->clear();
  return "";
}

const EvidenceRow* FindEvidence(const DeviceFacts& d, std::string_view attribute, std::string_view value) {
  for (const EvidenceRow& e : d.evidence) {
    if (e.attribute == attribute && e.value == value && e.confidence >= kMinConfidence) return &e;
  }
  return nullptr;
}

bool HasRole(const DeviceFacts& d, std::initializer_list<std::string_view> roles) {
  for (const EvidenceRow& e : d.evidence) {
    if (e.attribute == "clinical_role" && std::find(roles.begin(), roles.end(), e.value) != roles.end()) return true;
  }
  return false;
}

std::string Describe(const FlowGroup& g) {
  return absl::StrCat(g.application.empty() ? "unknown" : g.application, " as ", g.initiator ? "client" : "server",
                      " on ", g.transport == 17 ? "udp/" : "tcp/", g.port, ", ", g.peers, " peer(s)");
}

}  // namespace

int AdvisoryPoints(double max_cvss, bool confirmed) {
  // CVSS bands (critical, high, medium, low); an unscored advisory counts as medium.
  const int points = max_cvss >= 9.0 ? 25 : max_cvss >= 7.0 ? 20 : max_cvss >= 4.0 || max_cvss <= 0 ? 12 : 6;
  return confirmed ? points : points / 2;
}

int PatientConnectionWeight(const std::string& connection) {
  if (connection == "direct") return 100;
  if (connection == "none") return 50;
  return 80;  // indirect, unknown
}

Risk ComputeRisk(const DeviceFacts& d, const Classification& c, const std::vector<AdvisoryExposure>& advisories) {
  Accumulator a;
  if (d.external) {
    a.risk.factors.push_back(
        RiskFactor{"external_host", "exposure", 0, "an address outside the hospital's networks: not an asset"});
    return a.risk;
  }
  // ---- Impact: what a compromise could do to a patient or to patient data.
  std::string why_connection, why_category;
  std::string connection = Effective(d, c, "patient_connection", &why_connection);
  const std::string category = Effective(d, c, "category", &why_category);
  if (connection.empty()) connection = "unknown";
  if (connection == "direct") {
    a.Add("patient_connection_direct", "impact", 30, absl::StrCat("connects to a patient directly: ", why_connection));
  } else if (connection == "indirect") {
    a.Add("patient_connection_indirect", "impact", 20,
          absl::StrCat("acts on patient care through clinicians: ", why_connection));
  } else if (connection == "unknown" && category == "medical") {
    a.Add("patient_connection_unknown_medical", "impact", 15,
          absl::StrCat("a medical device of unknown patient connection: ", why_category));
  } else if (connection == "unknown") {
    a.Add("unclassified", "impact", 5, "nothing says what the device is");
  }
  bool phi = false, phi_received = false, cleartext_phi = false;
  std::string phi_flow, cleartext_flow;
  for (const FlowGroup& g : d.flows) {
    if (!g.phi) continue;
    if (!phi) phi_flow = Describe(g);
    phi = true;
    phi_received |= !g.initiator;
    if (g.cleartext_phi && !cleartext_phi) {
      cleartext_phi = true;
      cleartext_flow = Describe(g);
    }
  }
  if (phi) {
    a.Add("phi_handled", "impact", 10, absl::StrCat("patient data in its flows: ", phi_flow));
    if (phi_received && HasRole(d, {"dicom-scp", "hl7-receiver", "fhir-server", "poct-data-manager"})) {
      a.Add("phi_stored", "impact", 5, "receives patient data as an archive, interface engine or server");
    }
  } else if (HasRole(d, {"dicom-scu", "dicom-scp", "hl7-sender", "hl7-receiver", "fhir-client", "fhir-server",
                         "poct-device", "poct-data-manager", "sdc-medical-device", "sdc-consumer"})) {
    a.Add("clinical_role", "impact", 5, "takes part in clinical protocols");
  }

  // ---- Weakness: what makes it easy.
  // Published vulnerabilities of its product: the worst confirmed one (its version inside what
  // the advisory lists), else the worst possible one (the product matched, the version decided
  // nothing), weighted by what a compromise could do to a patient.
  for (const bool confirmed : {true, false}) {
    const AdvisoryExposure* worst = nullptr;
    int count = 0;
    for (const AdvisoryExposure& x : advisories) {
      if ((x.match != "product_only") != confirmed) continue;
      ++count;
      if (worst == nullptr || x.max_cvss > worst->max_cvss) worst = &x;
    }
    if (worst == nullptr) continue;
    const int weight = PatientConnectionWeight(connection);
    const int points = (AdvisoryPoints(worst->max_cvss, confirmed) * weight + 50) / 100;
    std::string cves = worst->cves.empty() ? "no CVE" : worst->cves.front();
    if (worst->cves.size() > 1) absl::StrAppend(&cves, " and ", worst->cves.size() - 1, " more");
    std::string detail = absl::StrCat(
        worst->tracking_id, " (", cves, worst->max_cvss > 0 ? absl::StrCat(", CVSS ", worst->max_cvss) : "", "): ",
        confirmed ? absl::StrCat("version ", worst->observed_version, " is affected")
                  : absl::StrCat("its product is named, the version decides nothing (", worst->reason, ")"),
        "; weighted ", weight, "% for patient connection ", connection);
    if (count > 1) absl::StrAppend(&detail, "; ", count - 1, " more advisories");
    a.Add(confirmed ? "advisory_affected" : "advisory_possibly_affected", "weakness", points, detail);
    break;
  }
  if (cleartext_phi) {
    a.Add("cleartext_phi", "weakness", 15, absl::StrCat("patient data without encryption: ", cleartext_flow));
  }
  bool telnet_server = false, telnet_client = false, ftp_server = false, credentials = false;
  std::string credentials_why;
  for (const FlowGroup& g : d.flows) {
    telnet_server |= g.application == "telnet" && !g.initiator;
    telnet_client |= g.application == "telnet" && g.initiator;
    ftp_server |= g.application == "ftp" && !g.initiator;
    if (g.credentials && !credentials) {
      credentials = true;
      credentials_why = absl::StrCat("credentials in clear: ", Describe(g));
    }
  }
  if (telnet_server) a.Add("telnet_server", "weakness", 15, "answers Telnet (clear-text remote login)");
  if (telnet_client) a.Add("telnet_client", "weakness", 5, "uses Telnet (clear-text remote login)");
  if (ftp_server) a.Add("ftp_server", "weakness", 10, "answers FTP (clear-text file transfer and login)");
  for (std::string_view risk : {"dicom_cleartext_credentials", "http_cleartext_credentials"}) {
    if (const EvidenceRow* e = FindEvidence(d, "risk", risk); e != nullptr && !credentials) {
      credentials = true;
      credentials_why = absl::StrCat("credentials in clear (", e->protocol, " ", e->field, ")");
    }
  }
  if (credentials) a.Add("cleartext_credentials", "weakness", 10, credentials_why);
  for (const EvidenceRow& e : d.evidence) {
    if (e.attribute == "software" && e.protocol == "smb" && e.field == "dialect" && e.value.rfind("SMB 1", 0) == 0) {
      a.Add("smbv1", "weakness", 15, absl::StrCat("speaks SMB version 1: ", e.value));
      break;
    }
  }
  struct Finding {
    std::string_view value;
    const char* factor;
    int points;
    const char* detail;
  };
  static constexpr Finding kFindings[] = {
      {"snmp_default_community", "snmp_default_community", 10, "SNMP answers a default community"},
      {"tls_expired_certificate", "tls_expired_certificate", 5, "serves an expired TLS certificate"},
      {"tls_self_signed_certificate", "tls_self_signed_certificate", 3, "serves a self-signed TLS certificate"},
      {"http_basic_auth_offered", "http_basic_auth_offered", 3, "asks for HTTP Basic authentication"},
      {"ntp_mode7_monlist_exposed", "ntp_control_exposed", 3, "answers NTP mode 7 (monlist)"},
      {"ntp_mode6_control_exposed", "ntp_control_exposed", 3, "answers NTP mode 6 control queries"},
  };
  for (const Finding& f : kFindings) {
    if (FindEvidence(d, "risk", f.value) == nullptr) continue;
    if (std::any_of(a.risk.factors.begin(), a.risk.factors.end(),
                    [&](const RiskFactor& r) { return r.factor == f.factor; })) {
      continue;
    }
    a.Add(f.factor, "weakness", f.points, f.detail);
  }
  // The worst operating system it names.
  int os_points = 0;
  std::string os_detail;
  for (const EvidenceRow& e : d.evidence) {
    if (e.confidence < kMinConfidence) continue;
    if (e.attribute != "os" && e.attribute != "os_version" && e.attribute != "user_agent" &&
        e.attribute != "server_software" && !(e.attribute == "software" && e.field == "native_lanman")) {
      continue;
    }
    if (e.value.find("LTSC") != std::string::npos || e.value.find("LTSB") != std::string::npos) continue;
    for (size_t i = 0; i < std::size(kOutdatedOs); ++i) {
      if (kOutdatedOs[i].points > os_points && RE2::PartialMatch(e.value, OutdatedOsRegex(i))) {
        os_points = kOutdatedOs[i].points;
        os_detail = absl::StrCat(kOutdatedOs[i].what, ": ", e.value.substr(0, 120), " (", e.protocol, ")");
      }
    }
  }
  if (os_points > 0) a.Add("outdated_os", "weakness", os_points, os_detail);

  // ---- Exposure: who can reach it.
  bool inbound = false, outbound = false;
  int64_t widest = 0;
  std::string inbound_why, outbound_why, wide_why;
  for (const FlowGroup& g : d.flows) {
    if (g.external && !g.initiator && !inbound) {
      inbound = true;
      inbound_why = absl::StrCat("answers addresses outside the hospital: ", Describe(g));
    }
    if (g.external && g.initiator && !outbound && g.application != "dns" && g.application != "ntp") {
      outbound = true;
      outbound_why = absl::StrCat("talks to addresses outside the hospital: ", Describe(g));
    }
    if (!g.initiator && g.peer_networks > widest) {
      widest = g.peer_networks;
      wide_why = absl::StrCat("a service reached from ", g.peer_networks, " networks: ", Describe(g));
    }
  }
  if (inbound) a.Add("external_inbound", "exposure", 10, inbound_why);
  if (outbound) a.Add("external_outbound", "exposure", 5, outbound_why);
  if (d.peers >= 50) {
    a.Add("many_peers", "exposure", 5, absl::StrCat(d.peers, " peers"));
  } else if (d.peers >= 10) {
    a.Add("many_peers", "exposure", 3, absl::StrCat(d.peers, " peers"));
  }
  if (widest >= 3) a.Add("wide_listener", "exposure", 5, wide_why);

  a.risk.score = std::min(100, a.impact + a.weakness + a.exposure);
  return a.risk;
}

}  // namespace auscult::collector
