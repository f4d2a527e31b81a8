#include "sensor/data_files.h"

#include <filesystem>

namespace auscult::sensor {

std::string ShippedDataFile(std::string_view name) {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path installed = exe.parent_path().parent_path() / "share" / "auscult" / name;
    if (std::filesystem::exists(installed, ec)) return installed.string();
  }
  const std::filesystem::path source = std::filesystem::path(AUSCULT_SENSOR_DATA_DIR) / name;
  if (std::filesystem::exists(source, ec)) return source.string();
  return "";
}

}  // namespace auscult::sensor
