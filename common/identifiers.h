#ifndef AUSCULT_COMMON_IDENTIFIERS_H_
#define AUSCULT_COMMON_IDENTIFIERS_H_

#include <string_view>

namespace auscult {

// A sensor id: 1-64 of [A-Za-z0-9._-], starting with a letter or digit. Checked by the sensor at
// start and by the collector on every batch.
bool IsValidSensorId(std::string_view id);

}  // namespace auscult

#endif  // AUSCULT_COMMON_IDENTIFIERS_H_
