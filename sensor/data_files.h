#ifndef AUSCULT_SENSOR_DATA_FILES_H_
#define AUSCULT_SENSOR_DATA_FILES_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace auscult::sensor {

// Where a data file shipped with Auscult (sensor/data/NAME) is: share/auscult/NAME beside the
// running binary's folder (an installed tree), else sensor/data/ of the source tree it was built
// from; empty when neither exists.
std::string ShippedDataFile(std::string_view name);

// The whole of a data file an operator may edit, refused when it cannot be read or is larger than
// `max_bytes` (a wrong path must not make the sensor read a disk image). `what` names the file in
// the message ("TCP fingerprint file").
absl::StatusOr<std::string> ReadDataFile(const std::string& path, size_t max_bytes, std::string_view what);

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_DATA_FILES_H_
