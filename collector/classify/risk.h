#ifndef AUSCULT_COLLECTOR_CLASSIFY_RISK_H_
#define AUSCULT_COLLECTOR_CLASSIFY_RISK_H_

// The 0-100 patient-safety risk score of a device (formula and weights in docs/risk.md): what harm
// a compromise could do (impact, at most 40), how easy it is (weakness, at most 40) and how reachable
// the device is (exposure, at most 20). Every point comes with the factor that gave it.

#include <string>
#include <vector>

#include "collector/classify/rules.h"

namespace auscult::collector {

struct RiskFactor {
  std::string factor;  // "patient_connection_direct", "cleartext_phi", "smbv1", ...
  std::string group;   // impact, weakness, exposure
  int points = 0;
  std::string detail;  // why: the rule, evidence or flow behind it
};

struct Risk {
  int score = 0;
  std::vector<RiskFactor> factors;  // those with points, in the order of the formula
};

// A published advisory the device matched (collector/advisories/matcher.h), as the score needs it.
struct AdvisoryExposure {
  std::string tracking_id;
  std::string match;  // exact_version, version_range, product_only
  std::string reason;
  double max_cvss = 0;  // the highest CVSS base score of the vulnerabilities naming the product; 0 unscored
  std::vector<std::string> cves;
  std::string observed_version;
};

// `classification` is the rules' result; an analyst's override of device_type, category or
// patient_connection in `device.overrides` takes its place. `advisories`: the device's matches.
Risk ComputeRisk(const DeviceFacts& device, const Classification& classification,
                 const std::vector<AdvisoryExposure>& advisories = {});

// The points of the advisory factor before the patient-connection weight (docs/risk.md).
int AdvisoryPoints(double max_cvss, bool confirmed);
// The weight of the patient connection, in percent: direct 100, indirect and unknown 80, none 50.
int PatientConnectionWeight(const std::string& connection);

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_CLASSIFY_RISK_H_
