// libFuzzer target for the device rules file: operators write it, and a mistake (or a hostile
// edit) must be an error naming the line, never a crash or a hang. Whatever parses is also
// evaluated on a device whose evidence values come from the same input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "collector/classify/risk.h"
#include "collector/classify/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rules = auscult::collector::ParseRules(text, "fuzz.txt");
  if (!rules.ok()) return 0;
  auscult::collector::DeviceFacts device;
  device.mac = "00:12:21:aa:bb:cc";
  const std::string value(text.substr(0, 512));
  for (const char* attribute : {"vendor", "hostname", "os", "dicom_sop_class", "hl7_application", "equipment_id",
                                "capability", "service", "user_agent", "risk", "clinical_role"}) {
    device.evidence.push_back({attribute, value, "lldp", "capabilities", "s", 0.9f, 3});
  }
  device.flows.push_back({"hl7", false, 2575, 6, true, true, true, true, 5, 3, true});
  const auto classification = auscult::collector::Classify(*rules, device);
  (void)auscult::collector::ComputeRisk(device, classification);
  return 0;
}
