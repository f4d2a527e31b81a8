#ifndef AUSCULT_COMMON_DATA_FILES_H_
#define AUSCULT_COMMON_DATA_FILES_H_

#include <string>
#include <string_view>

namespace auscult {

// Where a data file shipped with Auscult is: share/auscult/NAME beside the running binary's folder
// (an installed tree), else NAME in `source_dir`, the data folder of the source tree it was built
// from (sensor/data, collector/data); empty when neither exists.
std::string ShippedDataFile(std::string_view name, std::string_view source_dir);

}  // namespace auscult

#endif  // AUSCULT_COMMON_DATA_FILES_H_
