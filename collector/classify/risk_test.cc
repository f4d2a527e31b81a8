#include "collector/classify/risk.h"

#include <gtest/gtest.h>

namespace auscult::collector {
namespace {

Decision D(std::string value, std::string rule = "r", float confidence = 0.9f) {
  return Decision{std::move(value), confidence, std::move(rule), "[]"};
}

EvidenceRow E(std::string attribute, std::string value, std::string protocol, std::string field = "") {
  return EvidenceRow{std::move(attribute), std::move(value), std::move(protocol), std::move(field), "s1", 0.9f, 1};
}

FlowGroup Flow(std::string application, bool initiator, uint32_t port, bool phi, bool encrypted, int64_t peers = 1) {
  FlowGroup g;
  g.application = std::move(application);
  g.initiator = initiator;
  g.port = port;
  g.transport = 6;
  g.phi = phi;
  g.cleartext_phi = phi && !encrypted;
  g.cleartext = !encrypted;
  g.peers = peers;
  g.peer_networks = 1;
  return g;
}

std::string Factors(const Risk& r) {
  std::string out;
  for (const RiskFactor& f : r.factors) out += f.factor + "=" + std::to_string(f.points) + " ";
  return out;
}

// docs/risk.md, example 1: an infusion pump sending HL7 with patient data in clear, on Windows CE.
TEST(RiskTest, InfusionPumpWithCleartextHl7OnWindowsCe) {
  DeviceFacts d;
  d.evidence = {E("user_agent", "Mozilla/4.0 (compatible; MSIE 6.0; Windows CE)", "http", "user_agent")};
  d.flows = {Flow("hl7", true, 2575, true, false)};
  const Classification c = {
      {"device_type", D("infusion-pump")}, {"category", D("medical")}, {"patient_connection", D("direct")}};
  const Risk r = ComputeRisk(d, c);
  EXPECT_EQ(Factors(r), "patient_connection_direct=30 phi_handled=10 cleartext_phi=15 outdated_os=15 ");
  EXPECT_EQ(r.score, 70);
  // A Telnet listener on top: the weakness group is capped at 40.
  d.flows.push_back(Flow("telnet", false, 23, false, false));
  EXPECT_EQ(ComputeRisk(d, c).score, 80);
}

// Example 2: a CT storing images to the archive and asking the worklist, no TLS.
TEST(RiskTest, CtWithUnencryptedDicom) {
  DeviceFacts d;
  d.evidence = {E("clinical_role", "dicom-scu", "dicom")};
  d.flows = {Flow("dicom", true, 104, true, false), Flow("dicom", true, 11112, true, false)};
  const Classification c = {{"device_type", D("ct")}, {"patient_connection", D("indirect")}};
  const Risk r = ComputeRisk(d, c);
  EXPECT_EQ(Factors(r), "patient_connection_indirect=20 phi_handled=10 cleartext_phi=15 ");
  EXPECT_EQ(r.score, 45);
  // The same over TLS loses the weakness.
  for (FlowGroup& g : d.flows) g.cleartext_phi = g.cleartext = false;
  EXPECT_EQ(ComputeRisk(d, c).score, 30);
}

// Example 3: a PACS receiving from many modalities over plain DICOM, a self-signed web viewer.
TEST(RiskTest, PacsReceivingFromManyNetworks) {
  DeviceFacts d;
  d.evidence = {E("clinical_role", "dicom-scp", "dicom"),
                E("risk", "tls_self_signed_certificate", "tls", "certificate")};
  FlowGroup store = Flow("dicom", false, 104, true, false, 20);
  store.peer_networks = 4;
  d.flows = {store};
  d.peers = 20;
  const Classification c = {{"device_type", D("pacs")}, {"patient_connection", D("none")}};
  const Risk r = ComputeRisk(d, c);
  EXPECT_EQ(Factors(r),
            "phi_handled=10 phi_stored=5 cleartext_phi=15 tls_self_signed_certificate=3 many_peers=3 wide_listener=5 ");
  EXPECT_EQ(r.score, 41);
}

// Example 5: a Windows 7 workstation with SMBv1 browsing the internet.
TEST(RiskTest, Windows7WithSmb1) {
  DeviceFacts d;
  d.evidence = {E("os", "Windows 7 Professional 7601 Service Pack 1", "smb", "native_os"),
                E("software", "SMB 1 (NT LM 0.12)", "smb", "dialect")};
  FlowGroup web = Flow("tls", true, 443, false, true, 12);
  web.external = true;
  d.flows = {web};
  d.peers = 12;
  const Classification c = {{"device_type", D("workstation")}, {"patient_connection", D("none")}};
  const Risk r = ComputeRisk(d, c);
  EXPECT_EQ(Factors(r), "smbv1=15 outdated_os=15 external_outbound=5 many_peers=3 ");
  EXPECT_EQ(r.score, 38);
}

TEST(RiskTest, OverridesAndUnclassifiedDevices) {
  DeviceFacts d;
  EXPECT_EQ(Factors(ComputeRisk(d, {})), "unclassified=5 ");
  const Classification medical = {{"category", D("medical")}};
  EXPECT_EQ(Factors(ComputeRisk(d, medical)), "patient_connection_unknown_medical=15 ");
  // An analyst's word on the patient connection replaces the rules'.
  d.overrides["patient_connection"] = "direct";
  const Risk r = ComputeRisk(d, medical);
  EXPECT_EQ(r.score, 30);
  ASSERT_EQ(r.factors.size(), 1u);
  EXPECT_NE(r.factors[0].detail.find("analyst override"), std::string::npos);
}

// "Windows NT 10.0" in a user agent is Windows 10 or 11: not counted as outdated.
TEST(RiskTest, CurrentWindowsUserAgentsAreNotOutdated) {
  DeviceFacts d;
  d.evidence = {E("user_agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36", "http", "user_agent")};
  EXPECT_EQ(Factors(ComputeRisk(d, {{"patient_connection", D("none")}})), "");
  d.evidence.push_back(
      E("user_agent", "Mozilla/5.0 (Windows NT 6.1; rv:33.0) Gecko/20100101 Firefox/33.0", "http", "user_agent"));
  EXPECT_EQ(Factors(ComputeRisk(d, {{"patient_connection", D("none")}})), "outdated_os=15 ");
}

TEST(RiskTest, Windows10LtscAndServersAreNotOutdated) {
  DeviceFacts d;
  d.evidence = {E("os", "Windows 10 Enterprise LTSC 2019 17763", "smb", "native_os"),
                E("server_software", "Microsoft-IIS/10.0", "http", "server")};
  EXPECT_EQ(Factors(ComputeRisk(d, {{"patient_connection", D("none")}})), "");
  d.evidence.push_back(E("os", "Windows 10 Pro 19045", "smb", "native_os"));
  EXPECT_EQ(Factors(ComputeRisk(d, {{"patient_connection", D("none")}})), "outdated_os=8 ");
  d.evidence.push_back(E("server_software", "Microsoft-IIS/7.5", "http", "server"));
  EXPECT_EQ(Factors(ComputeRisk(d, {{"patient_connection", D("none")}})), "outdated_os=15 ");
}

TEST(RiskTest, ScoreNeverExceedsOneHundred) {
  DeviceFacts d;
  d.evidence = {E("os", "Windows XP", "smb", "native_os"), E("software", "SMB 1 (NT LM 0.12)", "smb", "dialect"),
                E("risk", "snmp_default_community", "snmp", "community"), E("clinical_role", "hl7-receiver", "hl7")};
  FlowGroup in = Flow("telnet", false, 23, false, false, 80);
  in.external = true;
  in.peer_networks = 9;
  d.flows = {in, Flow("hl7", false, 2575, true, false, 5), Flow("ftp", false, 21, false, false)};
  d.peers = 90;
  const Risk r = ComputeRisk(d, {{"patient_connection", D("direct")}});
  EXPECT_EQ(r.score, 100);
  int impact = 0, weakness = 0, exposure = 0;
  for (const RiskFactor& f : r.factors)
    (f.group == "impact" ? impact : f.group == "weakness" ? weakness : exposure) += f.points;
  EXPECT_EQ(impact, 40);
  EXPECT_EQ(weakness, 40);
  EXPECT_EQ(exposure, 20);
}

// docs/risk.md, "Published advisories": the worst confirmed match counts (by its CVSS band),
// else the worst possible one at half; the patient connection weights both.
TEST(RiskTest, AdvisoryMatchesAreWeightedByThePatientConnection) {
  const AdvisoryExposure confirmed{"ICSMA-24-151-02", "version_range", "", 7.5, {"CVE-2024-5176"}, "1.52"};
  const AdvisoryExposure possible{"ICSMA-21-152-01", "product_only", "no_version", 9.8, {"CVE-2021-27410"}, ""};
  auto points = [](const std::string& connection, const std::vector<AdvisoryExposure>& x) {
    DeviceFacts d;
    Classification c;
    c["patient_connection"] = D(connection);
    const Risk r = ComputeRisk(d, c, x);
    for (const RiskFactor& f : r.factors) {
      if (f.factor.rfind("advisory_", 0) == 0) return f.factor + "=" + std::to_string(f.points);
    }
    return std::string("none");
  };
  EXPECT_EQ(points("direct", {confirmed}), "advisory_affected=20");
  EXPECT_EQ(points("indirect", {confirmed}), "advisory_affected=16");
  EXPECT_EQ(points("none", {confirmed}), "advisory_affected=10");
  // A confirmed match outweighs a possible one of a higher score; alone, a possible one counts half.
  EXPECT_EQ(points("direct", {possible, confirmed}), "advisory_affected=20");
  EXPECT_EQ(points("direct", {possible}), "advisory_possibly_affected=12");
  EXPECT_EQ(points("none", {possible}), "advisory_possibly_affected=6");
  EXPECT_EQ(points("direct", {}), "none");
  EXPECT_EQ(AdvisoryPoints(9.0, true), 25);
  EXPECT_EQ(AdvisoryPoints(8.9, true), 20);
  EXPECT_EQ(AdvisoryPoints(4.0, true), 12);
  EXPECT_EQ(AdvisoryPoints(3.9, true), 6);
  EXPECT_EQ(AdvisoryPoints(0, true), 12);  // unscored: as medium
}

}  // namespace
}  // namespace auscult::collector
