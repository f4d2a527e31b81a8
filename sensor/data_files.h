#ifndef AUSCULT_SENSOR_DATA_FILES_H_
#define AUSCULT_SENSOR_DATA_FILES_H_

#include <string>
#include <string_view>

namespace auscult::sensor {

// Where a data file shipped with Auscult (sensor/data/NAME) is: share/auscult/NAME beside the
// running binary's folder (an installed tree), else sensor/data/ of the source tree it was built
// from; empty when neither exists.
std::string ShippedDataFile(std::string_view name);

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_DATA_FILES_H_
