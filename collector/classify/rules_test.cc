#include "collector/classify/rules.h"

#include <gtest/gtest.h>

#include "absl/time/clock.h"

#include "collector/classify/classifier.h"
#include "common/text.h"

namespace auscult::collector {
namespace {

EvidenceRow E(std::string attribute, std::string value, std::string protocol = "dicom", std::string field = "",
              float confidence = 0.9f) {
  return EvidenceRow{
      std::move(attribute), std::move(value), std::move(protocol), std::move(field), "s1", confidence, 1};
}

const RuleSet& Shipped() {
  static const RuleSet* rules = [] {
    const std::string path = DefaultRulesPath();
    auto text = ReadFileAtMost(path, 4 << 20, "rules");
    EXPECT_TRUE(text.ok()) << path;
    auto parsed = ParseRules(text.ok() ? *text : "", path);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    return new RuleSet(parsed.ok() ? *std::move(parsed) : RuleSet{});
  }();
  return *rules;
}

std::string Value(const Classification& c, const std::string& key) {
  auto it = c.find(key);
  return it == c.end() ? "" : it->second.value;
}

TEST(RulesTest, ShippedFileParsesWithEveryRuleSourced) {
  const RuleSet& rules = Shipped();
  EXPECT_GT(rules.rules.size(), 150u);
  for (const Rule& r : rules.rules) {
    EXPECT_FALSE(r.source.empty()) << r.id;
    EXPECT_GT(r.confidence, 0) << r.id;
  }
  EXPECT_EQ(rules.version.size(), 16u);
}

TEST(RulesTest, ErrorsNameFileAndLine) {
  struct Case {
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {"rule a confidence=0.5 source=x\n  when vendr = x\n  set type=ct\n", "f.txt:2: unknown attribute 'vendr'"},
      {"rule a confidence=0.5 source=x\n  when vendor = x\n  set type=toaster\n", "f.txt:3: unknown device type"},
      {"rule a confidence=0.5 source=x\n  when vendor ~ \"(\"\n  set type=ct\n", "f.txt:2: bad regular expression"},
      {"rule a source=x\n  when vendor = x\n  set type=ct\n", "f.txt:1: rule a: confidence= is required"},
      {"rule a confidence=0.5\n  when vendor = x\n  set type=ct\n", "f.txt:1: rule a: source= is required"},
      {"rule a confidence=1.5 source=x\n", "f.txt:1: confidence: a number above 0"},
      {"rule a confidence=0.5 source=x\n  when vendor = x\n  set type=ct\nrule a confidence=0.5 source=x\n",
       "f.txt:4: rule id 'a' used twice"},
      {"rule a confidence=0.5 source=x\n  set type=ct\n  when vendor = x\n", "f.txt:3: when/unless after set"},
      {"rule a confidence=0.5 source=x\n  set type=ct\n", "f.txt:1: rule a has no when"},
      {"  when vendor = x\n", "f.txt:1: indented line outside a rule"},
      {"rule a confidence=0.5 source=\"x\n", "f.txt:1: unterminated quoted string"},
      {"rule a confidence=0.5 source=x\n  when mac prefix zz:00\n  set type=ct\n", "f.txt:2: 'zz:00' is not a MAC"},
      {"rule a confidence=0.5 source=x\n  when flow side=left\n  set type=ct\n",
       "f.txt:2: side: initiator or responder"},
      {"rule a confidence=0.5 source=x\n  when vendor = x\n  set colour=red\n", "f.txt:3: set: unknown key 'colour'"},
      {"rule a confidence=0.5 source=x\n  when vendor = x\n  set patient_connection=maybe\n",
       "f.txt:3: patient_connection: 'maybe'"},
      {"rule a confidence=0.5 source=x\n  when vendor = x\x01\n  set type=ct\n", "f.txt:2: control character"},
      {"hello\n", "f.txt:1: expected 'rule'"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseRules(c.text, "f.txt");
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_NE(std::string(parsed.status().message()).find(c.expected), std::string::npos)
        << parsed.status().message() << " (expected " << c.expected << ")";
  }
}

TEST(RulesTest, QuotedValuesCommentsAndQualifiers) {
  auto parsed = ParseRules(
      "# a comment\n"
      "rule r1 confidence=0.8 source=\"a # not a comment\"  # a comment\n"
      "  when dicom_sop_class ~ \" Image Storage$\" field=accepted-as-scp distinct>=2\n"
      "  set type=pacs model=\"Archive \\\"A\\\"\"\n",
      "f.txt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->rules.size(), 1u);
  const Rule& r = parsed->rules[0];
  EXPECT_EQ(r.source, "a # not a comment");
  ASSERT_EQ(r.when.size(), 1u);
  EXPECT_EQ(r.when[0].field, "accepted-as-scp");
  EXPECT_EQ(r.when[0].distinct, 2);
  ASSERT_EQ(r.set.size(), 2u);
  EXPECT_EQ(r.set[1].second, "Archive \"A\"");
  // distinct>=2: one storage class accepted is not enough, two are.
  DeviceFacts d;
  d.evidence = {E("dicom_sop_class", "CT Image Storage", "dicom", "accepted-as-scp")};
  EXPECT_EQ(Classify(*parsed, d).count("device_type"), 0u);
  d.evidence.push_back(E("dicom_sop_class", "MR Image Storage", "dicom", "accepted-as-scp"));
  EXPECT_EQ(Value(Classify(*parsed, d), "device_type"), "pacs");
  // The field qualifier: the same classes sent (as SCU) do not make an archive.
  for (EvidenceRow& e : d.evidence) e.field = "accepted-as-scu";
  EXPECT_EQ(Classify(*parsed, d).count("device_type"), 0u);
}

// The shapes of the clinical fixtures (tests/data/captures/clinical): what the sensor reports of
// the modality, the archive with its worklist, and the HL7 gateway.
TEST(RulesTest, ShippedRulesOnClinicalShapes) {
  DeviceFacts ct;
  ct.evidence = {E("dicom_sop_class", "CT Image Storage", "dicom", "accepted-as-scu"),
                 E("dicom_sop_class", "Modality Worklist Information Model - FIND", "dicom", "accepted-as-scu"),
                 E("dicom_sop_class", "Verification", "dicom", "accepted-as-scu"),
                 E("clinical_role", "dicom-scu", "dicom", "a-associate-rq")};
  Classification c = Classify(Shipped(), ct);
  EXPECT_EQ(Value(c, "device_type"), "ct");
  EXPECT_EQ(c["device_type"].rule_id, "ct-modality-worklist");
  EXPECT_EQ(Value(c, "category"), "medical");
  EXPECT_EQ(Value(c, "patient_connection"), "indirect");
  EXPECT_EQ(Value(c, "fda_class"), "II");
  EXPECT_NE(c["device_type"].evidence_json.find("\"value\":\"CT Image Storage\""), std::string::npos)
      << c["device_type"].evidence_json;

  DeviceFacts pacs;
  pacs.evidence = {E("dicom_sop_class", "CT Image Storage", "dicom", "accepted-as-scp"),
                   E("dicom_sop_class", "MR Image Storage", "dicom", "accepted-as-scp"),
                   E("dicom_sop_class", "Modality Worklist Information Model - FIND", "dicom", "accepted-as-scp"),
                   E("clinical_role", "dicom-scp", "dicom", "a-associate-ac")};
  c = Classify(Shipped(), pacs);
  EXPECT_EQ(Value(c, "device_type"), "pacs");
  EXPECT_EQ(Value(c, "category"), "clinical-it");
  // Without the image classes it is the worklist server.
  pacs.evidence.erase(pacs.evidence.begin(), pacs.evidence.begin() + 2);
  EXPECT_EQ(Value(Classify(Shipped(), pacs), "device_type"), "modality-worklist-server");

  DeviceFacts gateway;
  gateway.evidence = {E("hl7_message_type", "ORU^R01", "hl7", "msh-9"),
                      E("hl7_application", "SYNTHGW^0012345678ABCDEF^EUI-64", "hl7", "msh-3"),
                      E("equipment_id", "0012345678ABCDEF^^0012345678ABCDEF^EUI-64", "hl7", "obx-18"),
                      E("equipment_id", "SynthMonitor 9000^SynthVendor^0012345678ABCDEF^EUI-64", "hl7", "obx-18"),
                      E("hl7_message_type", "ADT^A01", "hl7", "msh-9")};
  EXPECT_EQ(Value(Classify(Shipped(), gateway), "device_type"), "medical-device-gateway");
}

TEST(RulesTest, ConflictsResolvePerKeyByConfidenceThenOrder) {
  auto parsed = ParseRules(
      "rule weak confidence=0.3 source=x\n  when vendor = acme\n  set type=infusion-pump vendor=Acme\n"
      "rule first confidence=0.6 source=x\n  when os ~ Windows\n  set type=workstation\n"
      "rule second confidence=0.6 source=x\n  when os ~ Windows\n  set type=server\n"
      "rule cat confidence=0.9 source=x\n  when os ~ Embedded\n  set category=medical\n",
      "f.txt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  DeviceFacts d;
  d.evidence = {E("vendor", "ACME", "oui", "oui", 0.5f), E("os", "Windows 7", "smb", "native_os")};
  Classification c = Classify(*parsed, d);
  EXPECT_EQ(Value(c, "device_type"), "workstation");  // 0.6 beats 0.3; the earlier of two 0.6 rules
  EXPECT_EQ(c["device_type"].rule_id, "first");
  EXPECT_EQ(Value(c, "vendor"), "Acme");  // keys resolve independently
  EXPECT_EQ(Value(c, "category"), "it");  // the winning type's default...
  EXPECT_EQ(Value(c, "patient_connection"), "none");
  EXPECT_EQ(c["category"].rule_id, "first");
  d.evidence.push_back(E("os", "Windows Embedded Standard", "smb", "native_os"));
  c = Classify(*parsed, d);
  EXPECT_EQ(Value(c, "category"), "medical");  // ...unless something strictly surer says otherwise
  EXPECT_EQ(c["category"].rule_id, "cat");
}

TEST(RulesTest, UnlessAndMinEvidence) {
  auto parsed = ParseRules(
      "rule r confidence=0.8 source=x min_evidence=0.6\n"
      "  when capability = bridge protocol=lldp\n"
      "  unless capability any-of \"telephone, wlan-access-point\"\n"
      "  set type=switch\n",
      "f.txt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  DeviceFacts d;
  d.evidence = {E("capability", "Bridge", "lldp", "system_capabilities", 0.9f)};
  EXPECT_EQ(Value(Classify(*parsed, d), "device_type"), "switch");  // '=' ignores case
  d.evidence.push_back(E("capability", "Telephone", "lldp", "system_capabilities", 0.9f));
  EXPECT_EQ(Classify(*parsed, d).count("device_type"), 0u);
  d.evidence = {E("capability", "bridge", "cdp", "capabilities", 0.9f)};
  EXPECT_EQ(Classify(*parsed, d).count("device_type"), 0u);  // protocol=lldp
  d.evidence = {E("capability", "bridge", "lldp", "system_capabilities", 0.5f)};
  EXPECT_EQ(Classify(*parsed, d).count("device_type"), 0u);  // below min_evidence
}

TEST(RulesTest, MacPrefixSkipsRandomizedMacs) {
  auto parsed = ParseRules(
      "rule b confidence=0.5 source=x\n  when mac prefix \"00:12:21, 70:b3:d5:36:a\"\n  set vendor=\"B. Braun\"\n",
      "f.txt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  DeviceFacts d;
  d.mac = "00:12:21:aa:bb:cc";
  EXPECT_EQ(Value(Classify(*parsed, d), "vendor"), "B. Braun");
  d.mac = "70:b3:d5:36:a1:23";  // a 36-bit block
  EXPECT_EQ(Value(Classify(*parsed, d), "vendor"), "B. Braun");
  d.mac = "70:b3:d5:36:b1:23";
  EXPECT_EQ(Classify(*parsed, d).count("vendor"), 0u);
  // The same prefix with the locally administered bit set is a randomized MAC, not B. Braun's.
  parsed = ParseRules("rule b confidence=0.5 source=x\n  when mac prefix 02:12:21\n  set vendor=X\n", "f.txt");
  ASSERT_TRUE(parsed.ok());
  d.mac = "02:12:21:aa:bb:cc";
  EXPECT_EQ(Classify(*parsed, d).count("vendor"), 0u);
}

TEST(RulesTest, FlowsAndRegexCaptures) {
  auto parsed = ParseRules(
      "rule engine confidence=0.7 source=x\n"
      "  when flow application=hl7 side=responder peers>=3\n"
      "  set type=hl7-interface-engine\n"
      "rule mon confidence=0.6 source=x\n"
      "  when equipment_id ~ \"IntelliVue ((MX|MP)\\d+)\"\n"
      "  set model=\"IntelliVue $1\" vendor=$value\n",
      "f.txt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  DeviceFacts d;
  d.flows = {FlowGroup{"hl7", false, 2575, 6, true, true, true, false, 2, 2, false}};
  EXPECT_EQ(Classify(*parsed, d).count("device_type"), 0u);
  d.flows[0].peers = 3;
  EXPECT_EQ(Value(Classify(*parsed, d), "device_type"), "hl7-interface-engine");
  d.flows[0].initiator = true;
  EXPECT_EQ(Classify(*parsed, d).count("device_type"), 0u);
  d.evidence = {E("equipment_id", "Philips IntelliVue MX500 ward 3", "hl7", "obx-18")};
  const Classification c = Classify(*parsed, d);
  EXPECT_EQ(Value(c, "model"), "IntelliVue MX500");
  EXPECT_EQ(Value(c, "vendor"), "Philips IntelliVue MX500 ward 3");
}

TEST(RulesTest, HostileValuesAreMatchedInLinearTime) {
  // A pattern that backtracking engines take exponential time on; RE2 does not backtrack.
  auto parsed = ParseRules("rule r confidence=0.5 source=x\n  when hostname ~ \"^(a+)+$\"\n  set type=server\n", "f");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  DeviceFacts d;
  for (int i = 0; i < 64; ++i) d.evidence.push_back(E("hostname", std::string(4096, 'a') + "!", "dhcp", "option12"));
  // A backtracking engine would not finish in the lifetime of the machine; RE2 takes microseconds.
  // The bound is generous so that the test never depends on the machine's load.
  const absl::Time start = absl::Now();
  EXPECT_EQ(Classify(*parsed, d).count("device_type"), 0u);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

// Values a rule builds from what it matched are cut at 256 bytes, never inside a UTF-8 character
// (PostgreSQL refuses invalid UTF-8, and one such device would stop its batch).
TEST(RulesTest, SubstitutedValuesStayValidUtf8) {
  auto parsed = ParseRules(
      "rule m confidence=0.5 source=x\n  when hl7_application ~ \"^MINDRAY_(\\w+)\"\n"
      "  set model=\"$1\"\n",
      "f");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  DeviceFacts d;
  std::string kelvins;
  for (int i = 0; i < 100; ++i) kelvins += "\xE2\x84\xAA";  // U+212A KELVIN SIGN, a letter to RE2
  d.evidence = {E("hl7_application", "MINDRAY_xy" + kelvins, "hl7", "msh-3")};
  const std::string model = Value(Classify(*parsed, d), "model");
  ASSERT_FALSE(model.empty());
  EXPECT_LE(model.size(), 256u);
  EXPECT_EQ(model.size() % 3, 2u) << "cut inside a character";  // "xy" and whole 3-byte characters
}

TEST(RulesTest, DistinctBeyondWhatTheClassifierReadsIsRefused) {
  auto parsed = ParseRules("rule r confidence=0.5 source=x\n  when service ~ . distinct>=65\n  set type=server\n", "f");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(std::string(parsed.status().message()).find("f:2: distinct>=: a number from 0 to 64"), std::string::npos)
      << parsed.status();
}

}  // namespace
}  // namespace auscult::collector
