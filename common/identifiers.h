#ifndef AUSCULT_COMMON_IDENTIFIERS_H_
#define AUSCULT_COMMON_IDENTIFIERS_H_

#include <cstddef>
#include <string_view>

namespace auscult {

// Limits the sensor keeps to and the collector enforces on SensorInfo.
inline constexpr size_t kMaxSiteLength = 128;     // --site, --wing
inline constexpr int kMaxSensorSources = 64;      // interfaces or capture files named per batch
inline constexpr size_t kMaxSourceLength = 4096;  // one interface name or file path

// A sensor id: 1-64 of [A-Za-z0-9._-], starting with a letter or digit. Checked by the sensor at
// start and by the collector on every batch.
bool IsValidSensorId(std::string_view id);

}  // namespace auscult

#endif  // AUSCULT_COMMON_IDENTIFIERS_H_
