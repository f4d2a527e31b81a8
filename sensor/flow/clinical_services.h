#ifndef AUSCULT_SENSOR_FLOW_CLINICAL_SERVICES_H_
#define AUSCULT_SENSOR_FLOW_CLINICAL_SERVICES_H_

// The ports of clinical services and vendor device protocols: a data file
// (sensor/data/clinical_services.txt) that operators extend with what their hospital runs, read at
// start (--clinical_services). A flow to one of these ports is named after the protocol when it is
// created and, for clinical protocols, tagged clinical; parsers that recognise a protocol by its
// content still rename it.
//
// One line per port or port range:
//   TRANSPORT  PORTS      APPLICATION             CLINICAL  OPTIONS    DESCRIPTION...
//   udp        24105      intellivue-data-export  yes       -          Philips IntelliVue Data Export [S13]
//   tcp        2762       dicom-tls               yes       encrypted  DICOM over TLS (IANA) [S22]
//   udp        2000       carescape-time-sync     yes       weak       GE CARESCAPE time sync [S14]
// TRANSPORT is tcp or udp; PORTS a port (1-65535) or a range a-b; APPLICATION a short lowercase
// name (letters, digits, - . _; at most 32); CLINICAL yes or no; OPTIONS - or a comma-separated
// list of `weak` (the port is also used by others: the line names a flow only when neither a
// stronger line nor the built-in port table does, and its tags hold only while no parser renames
// the flow) and `encrypted` (the protocol is always encrypted: the flow is tagged so);
// DESCRIPTION the rest of the line, with its source. `#` starts a comment line. A port appears at
// most once per transport.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace auscult::sensor {

struct ClinicalService {
  uint8_t transport = 0;  // 6 TCP, 17 UDP
  uint16_t first_port = 0;
  uint16_t last_port = 0;
  std::string_view application;  // interned for the process (see service_ports.h)
  uint8_t application_id = 0;    // ApplicationId(application)
  bool clinical = false;
  bool weak = false;
  bool encrypted = false;
  std::string description;
  int line = 0;
};

class ClinicalServices {
 public:
  // Reads the data file; an error names the file, the line and what is wrong with it.
  static absl::StatusOr<std::unique_ptr<ClinicalServices>> Load(const std::string& path);
  static absl::StatusOr<std::unique_ptr<ClinicalServices>> Parse(std::string_view text, std::string_view source);

  // The line for a port, or null. O(1): one array read.
  const ClinicalService* Find(uint8_t transport, uint16_t port) const;
  const std::vector<ClinicalService>& services() const { return services_; }

 private:
  ClinicalServices();
  std::vector<ClinicalService> services_;
  // Per transport (TCP, UDP) and port: the index of its line in services_ plus one; 0 for none.
  std::unique_ptr<std::array<std::array<uint16_t, 65536>, 2>> by_port_;
};

// The file shipped with Auscult: share/auscult/clinical_services.txt beside the running binary's
// folder (an installed tree), else sensor/data/ of the source tree; empty when neither exists.
std::string DefaultClinicalServicesPath();

// The shipped file, loaded once for the process; null when it is absent or does not load. For
// tests, benchmarks and fuzzers: the sensor loads its file itself, to report why.
const ClinicalServices* ShippedClinicalServices();

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_FLOW_CLINICAL_SERVICES_H_
